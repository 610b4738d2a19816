"""dbt project YAML indexed by meaning: models, sources, seeds, snapshots, semantic models, metrics, exposures,
saved queries, macros, analyses, groups and unit tests.

Each chunk is rendered text ("Model rpt_payouts, column arrival_date (date): ...") rather than raw YAML,
and still cites the YAML lines it came from and the item's key path (`models.rpt_payouts.columns.x`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import yaml

from ingest.chunking import Passage, pack_lines
from ingest.dbt_docs import resolve_doc_refs
from ingest.yaml_tree import YamlPassages, get, items, last_line, name_of, scalar, span

# Entries with a list of named items under them; anything else in the file goes to the generic walker.
# Resources rendered like a model ("Exposure x: description", then "Key: value" lines), by their key in the file.
_KIND = {
    "models": "Model", "seeds": "Seed", "snapshots": "Snapshot", "exposures": "Exposure",
    "saved_queries": "Saved query", "macros": "Macro", "analyses": "Analysis", "groups": "Group",
    "unit_tests": "Unit test",
}
RESOURCE_KEYS = ("sources", "semantic_models", "metrics", *_KIND)
SKIPPED_KEYS = ("version",)  # "version: 2" says nothing worth a chunk
ALIAS_KEYS = ("aliases", "synonyms")  # meta entries shown first: they are how people ask
# The members listed under a model-like resource, each rendered on its own line: columns, a macro's arguments.
_MEMBERS = {"columns": ("Columns", "column"), "arguments": ("Arguments", "argument")}
# depends_on entries: ref('fct_x') -> model fct_x, source('stripe', 'charges') -> source stripe.charges.
_DEPENDENCY = re.compile(r"""(ref|source|metric)\(\s*['"]([\w.]+)['"](?:\s*,\s*['"]([\w.]+)['"])?\s*\)""")
_DEPENDENCY_KIND = {"ref": "model", "source": "source", "metric": "metric"}
_REF = re.compile(r"""ref\(\s*(?:['"][\w.]+['"]\s*,\s*)?['"]([\w.]+)['"]""")  # ref('model') or ref('package', 'model')
_LONG_ITEM = 60  # list items longer than this are shown one per line, shorter ones joined by commas


def is_dbt(root: yaml.Node | None) -> bool:
    """A YAML file is dbt's when a top-level resource key holds a list of named items."""
    if not isinstance(root, yaml.MappingNode):
        return False
    return any(scalar(k) in RESOURCE_KEYS and any(name_of(i) for i in items(v)) for k, v in root.value)


@dataclass(frozen=True)
class _Item:
    """One member of a model or semantic model (a column, a measure...) and the 0-based YAML lines it came from."""

    name: str
    owner: str  # "Model rpt_payouts": every chunk of a member names what it belongs to
    label: str  # "column arrival_date (date)"
    description: str
    details: list[str]
    first: int
    last: int

    def lines(self, short: bool = False) -> list[str]:
        """`Model x, column y (type): text`, or `- column y (type): text` inside the owner's own chunk."""
        head = f"- {self.label}" if short else f"{self.owner}, {self.label}"
        return [f"{head}: {self.description}" if self.description else head, *self.details]


# How a column line of a rendered model chunk starts (see Member.lines); readers such as the glossary find a
# chunk's columns with it.
COLUMN_LINE = re.compile(r"^(?:Model [\w.]+, |- )column ([\w.]+)", re.MULTILINE)


def columns_in(text: str) -> list[str]:
    """The column names a rendered model chunk describes, in order."""
    return COLUMN_LINE.findall(text)


class DbtPassages:
    """Renders the resource entries of one dbt YAML file into passages."""

    def __init__(self, lines: list[str], max_chars: int, doc_blocks: Mapping[str, str]) -> None:
        self.lines = lines
        self.max_chars = max_chars
        self.doc_blocks = dict(doc_blocks)
        # Column groups stay under half a chunk, so one column's description dominates each group's
        # embedding (on the dev split, full 1,200-character groups lost schema questions to prose guides).
        self.group_chars = max_chars // 2
        self.measures: dict[str, str] = {}  # measure name -> "sum(expr) in semantic model x", this file only

    def walk(self, root: yaml.MappingNode) -> Iterator[Passage]:
        self.measures = self.collect_measures(root)
        other: list[tuple[str, yaml.Node, int]] = []
        for key_node, value in root.value:
            key = scalar(key_node) or ""
            if key in RESOURCE_KEYS and any(name_of(i) for i in items(value)):
                yield from self.resources(key, value)
            elif key not in SKIPPED_KEYS:
                other.append((key, value, key_node.start_mark.line))
        if other:  # anything else (a file's own keys): the generic walker
            yield from YamlPassages(self.lines, self.max_chars).pack(other, [], other[0][2], None)

    def resources(self, key: str, value: yaml.Node) -> Iterator[Passage]:
        for node in items(value):
            name = name_of(node)
            if name is None:
                continue
            if key == "metrics":
                yield from self.metric(name, node)
            elif key == "semantic_models":
                yield from self.semantic_model(name, node)
            elif key == "sources":
                yield from self.source(name, node)
            else:
                yield from self.model(f"{_KIND[key]} {name}", node, [key, name], name)

    # -- models, seeds, snapshots, source tables ---------------------------------------------------

    def model(self, header: str, node: yaml.Node, keys: list[str], title: str) -> Iterator[Passage]:
        label = self.text(get(node, "label"))
        if label:
            header += f" ({label})"
        head = [self.headline(header, node), *self.about(node, tuple(_MEMBERS))]
        groups = {
            key: (heading, [self.column(header, kind, m) for m in items(get(node, key)) if name_of(m)])
            for key, (heading, kind) in _MEMBERS.items()
        }
        yield from self.entity(header, node, keys, head, groups, title)

    def column(self, owner: str, kind: str, node: yaml.Node) -> _Item:
        """A column of a model, or an argument of a macro: name, type, description, then its other entries."""
        name = name_of(node) or ""
        data_type = scalar(get(node, "data_type")) or scalar(get(node, "type"))
        label = f"{kind} {name}" + (f" ({data_type})" if data_type else "")
        first, last = span(node)
        return _Item(name, owner, label, self.text(get(node, "description")), self.about(node, ("data_type", "type")),
                     first, last)

    def source(self, name: str, node: yaml.Node) -> Iterator[Passage]:
        header = f"Source {name}"
        head = [self.headline(header, node), *self.about(node, ("tables",))]
        tables = [t for t in items(get(node, "tables")) if name_of(t)]
        if tables:
            head.append("Tables: " + ", ".join(name_of(t) or "" for t in tables))
        first, last = self.span_without(node, ("tables",))
        yield from self.passages(head, f"{header} (continued)", ["sources", name], first, last, name)
        for table in tables:
            table_name = name_of(table) or ""
            keys = ["sources", name, "tables", table_name]
            yield from self.model(f"Source table {name}.{table_name}", table, keys, f"{name}.{table_name}")

    # -- semantic models and metrics ---------------------------------------------------------------

    def semantic_model(self, name: str, node: yaml.Node) -> Iterator[Passage]:
        header = f"Semantic model {name}"
        head = [self.headline(header, node), *self.about(node, ("entities", "dimensions", "measures"))]
        groups = {
            key: (key.capitalize(), [self.member(header, kind, m) for m in items(get(node, key)) if name_of(m)])
            for key, kind in (("entities", "entity"), ("dimensions", "dimension"), ("measures", "measure"))
        }
        yield from self.entity(header, node, ["semantic_models", name], head, groups, name)

    def member(self, owner: str, kind: str, node: yaml.Node) -> _Item:
        """An entity, dimension or measure of a semantic model."""
        name = name_of(node) or ""
        facts = [f"type {t}" for t in [scalar(get(node, "type"))] if t]
        agg = scalar(get(node, "agg"))
        if agg:
            facts.append(f"{agg}({scalar(get(node, 'expr')) or name})")
        elif scalar(get(node, "expr")):
            facts.append(f"expr {scalar(get(node, 'expr'))}")
        label = f"{kind} {name}" + (f" ({', '.join(facts)})" if facts else "")
        first, last = span(node)
        return _Item(name, owner, label, self.text(get(node, "description")), self.about(node, ("type", "agg", "expr")),
                     first, last)

    def metric(self, name: str, node: yaml.Node) -> Iterator[Passage]:
        label = self.text(get(node, "label"))
        header = f"Metric {name}" + (f": {label}" if label else "")
        lines = [header, *self.aliases(node), *self.grain(node)]
        kind = scalar(get(node, "type"))
        if kind:
            lines.append(f"Type: {kind}")
        lines += self.type_params(kind, get(node, "type_params"))
        filters = self.text(get(node, "filter"))
        if filters:
            lines.append(f"Filter: {filters}")
        description = self.text(get(node, "description"))
        if description:
            lines.append(f"Description: {description}")
        lines += self.details(node, ("label", "type", "type_params", "filter", "description"))
        first, last = span(node)
        yield from self.passages(lines, f"Metric {name} (continued)", ["metrics", name], first, last, label or name)

    def type_params(self, kind: str | None, params: yaml.Node | None) -> list[str]:
        """The metric's formula in words, for simple, ratio, derived, cumulative and conversion metrics."""
        if params is None:
            return []
        lines: list[str] = []
        measure = get(params, "measure")
        if measure is not None:
            lines.append(f"Measure: {self.metric_input(measure, self.measures)}")
        numerator, denominator = get(params, "numerator"), get(params, "denominator")
        if numerator is not None and denominator is not None:
            top, bottom = self.metric_input(numerator), self.metric_input(denominator)
            lines.append(f"Formula: {top} / {bottom} (numerator {top}; denominator {bottom})")
        expr = self.text(get(params, "expr"))
        if expr:
            lines.append(f"Expression: {expr}")
        inputs = [self.metric_input(m) for m in items(get(params, "metrics"))]
        if inputs:
            lines.append(f"Input metrics: {'; '.join(inputs)}")
        cumulative = get(params, "cumulative_type_params") or params
        window, to_date = scalar(get(cumulative, "window")), scalar(get(cumulative, "grain_to_date"))
        if kind == "cumulative" or window or to_date:
            over = f"over a trailing {window} window" if window else f"{to_date} to date" if to_date else "all time"
            lines.append(f"Accumulates {over}")
        handled = ("measure", "numerator", "denominator", "expr", "metrics", "window", "grain_to_date",
                   "cumulative_type_params")
        lines += self.details(params, handled)
        return lines

    def metric_input(self, node: yaml.Node, measures: Mapping[str, str] | None = None) -> str:
        """A measure or metric reference: a bare name, or a mapping with name, filter, alias, offset."""
        name = scalar(node) or name_of(node) or self.flat(node)
        text = f"{name} ({measures[name]})" if measures and name in measures else name
        extras = [f"{key.replace('_', ' ')} {self.text(get(node, key))}" for key in ("offset_window", "filter")
                  if get(node, key) is not None]
        alias = scalar(get(node, "alias"))
        if alias:
            extras.append(f"as {alias}")
        return f"{text} [{', '.join(extras)}]" if extras else text

    def collect_measures(self, root: yaml.MappingNode) -> dict[str, str]:
        found: dict[str, str] = {}
        for model in items(get(root, "semantic_models")):
            for measure in items(get(model, "measures")):
                name = name_of(measure)
                if name:
                    how = f"{scalar(get(measure, 'agg')) or 'agg'}({scalar(get(measure, 'expr')) or name})"
                    built_on = _REF.search(scalar(get(model, "model")) or "")
                    on = f", built on model {built_on.group(1)}" if built_on else ""
                    found[name] = f"{how} in semantic model {name_of(model)}{on}"
        return found

    # -- shared rendering --------------------------------------------------------------------------

    def entity(
        self, header: str, node: yaml.Node, keys: list[str], head: list[str],
        groups: dict[str, tuple[str, list[_Item]]], title: str,
    ) -> Iterator[Passage]:
        """One passage for the whole thing when it fits; else the overview, then its members in groups."""
        whole = list(head)
        for label, members in groups.values():
            if members:
                whole += [f"{label}:", *(line for member in members for line in member.lines(short=True))]
        first, last = span(node)
        if _size(whole) <= self.max_chars:
            yield from self.passages(whole, header, keys, first, last, title)
            return
        overview = list(head)
        for label, members in groups.values():
            if members:
                overview.append(f"{label}: " + ", ".join(m.name for m in members))
        first, last = self.span_without(node, tuple(groups))
        yield from self.passages(overview, f"{header} (continued)", keys, first, last, title)
        for key, (_, members) in groups.items():
            yield from self.member_groups([*keys, key], members, title)

    def member_groups(self, keys: list[str], members: list[_Item], title: str) -> Iterator[Passage]:
        """Consecutive members packed up to max_chars; a group of one is cited by its own key path."""
        group: list[_Item] = []

        def flush() -> Iterator[Passage]:
            if group:
                section = [*keys, group[0].name] if len(group) == 1 else keys
                lines = [line for member in group for line in member.lines()]
                continued = f"{group[0].owner}, {group[0].label} (continued)"
                yield from self.passages(lines, continued, section, group[0].first, group[-1].last, title)
                group.clear()

        for member in members:
            if group and _size([line for m in [*group, member] for line in m.lines()]) > self.group_chars:
                yield from flush()
            group.append(member)
        yield from flush()

    def passages(
        self, lines: list[str], continued: str, keys: list[str], first: int, last: int, title: str | None
    ) -> Iterator[Passage]:
        for text in pack_lines(lines, self.max_chars, continued):
            yield Passage(text, ".".join(keys), first + 1, last + 1, title).located(self.lines)

    def headline(self, header: str, node: yaml.Node) -> str:
        description = self.text(get(node, "description"))
        return f"{header}: {description}" if description else header

    def about(self, node: yaml.Node, skip: tuple[str, ...]) -> list[str]:
        """Aliases and grain first (they are how people ask), then every other entry."""
        return [*self.aliases(node), *self.grain(node), *self.details(node, skip)]

    def grain(self, node: yaml.Node) -> list[str]:
        config = get(node, "config")
        for where in (get(node, "meta"), config, get(config, "meta")):
            grain = self.text(get(where, "grain"))
            if grain:
                return [f"Grain: {grain}"]
        return []

    def aliases(self, node: yaml.Node) -> list[str]:
        for key in ALIAS_KEYS:
            names = self.flat(get(get(node, "meta"), key))
            if names:
                return [f"Also called: {names}"]
        return []

    def details(self, node: yaml.Node | None, skip: tuple[str, ...]) -> list[str]:
        """Every other entry as "Key: value" lines; meta and config entries are shown as if top level."""
        if not isinstance(node, yaml.MappingNode):
            return []
        lines: list[str] = []
        for key_node, value in node.value:
            key = scalar(key_node) or ""
            if key in (*skip, "name", "description", "label"):
                continue
            if key in ("meta", "config") and isinstance(value, yaml.MappingNode):
                lines += self.details(value, (*ALIAS_KEYS, "grain"))  # shown by aliases() and grain()
            elif key in ("tests", "data_tests"):
                lines.append("Tests: " + "; ".join(self.flat(test) for test in items(value)))
            elif key == "depends_on":
                lines.append("Depends on: " + _DEPENDENCY.sub(_dependency, self.flat(value)))
            else:
                lines += self.entry(key, value)
        return lines

    def entry(self, key: str, value: yaml.Node) -> list[str]:
        label = key.replace("_", " ").capitalize()
        values = items(value)
        if values and all(isinstance(v, yaml.ScalarNode) for v in values):
            texts = [self.text(v) for v in values]
            if any(len(t) > _LONG_ITEM for t in texts):
                return [f"{label}:", *(f"- {t}" for t in texts)]
        text = self.flat(value)
        return [f"{label}: {text}"] if text else []

    def flat(self, node: yaml.Node | None) -> str:
        """Any node on one line: scalars as text, lists joined by commas, mappings as `key: value`; a mapping
        written in flow style stays as written (`warn_after: {count: 12, period: hour}`)."""
        if node is None:
            return ""
        if isinstance(node, yaml.ScalarNode):
            return self.text(node)
        if isinstance(node, yaml.SequenceNode):
            return ", ".join(t for t in (self.flat(v) for v in node.value) if t)
        if isinstance(node, yaml.MappingNode):
            if node.flow_style:
                return "{" + ", ".join(f"{scalar(k)}: {self.flat(v)}" for k, v in node.value) + "}"
            return "; ".join(f"{scalar(k)}: {self.flat(v)}" for k, v in node.value)
        return ""

    def text(self, node: yaml.Node | None) -> str:
        """A scalar's text on one line, with `{{ doc('name') }}` replaced by the docs block it names."""
        value = scalar(node)
        if not value:
            return ""
        return re.sub(r"\s+", " ", resolve_doc_refs(value, self.doc_blocks)).strip()

    @staticmethod
    def span_without(node: yaml.Node, skipped: tuple[str, ...]) -> tuple[int, int]:
        """The node's first line to the last line of its entries other than `skipped` (e.g. columns)."""
        first = node.start_mark.line
        last = first
        if isinstance(node, yaml.MappingNode):
            for key_node, value in node.value:
                if scalar(key_node) not in skipped:
                    last = max(last, last_line(value))
        return first, last


def _dependency(match: re.Match[str]) -> str:
    kind, name, table = match.groups()
    if kind == "ref" and table:  # ref('package', 'model')
        name = table
    elif table:  # source('stripe', 'charges')
        name = f"{name}.{table}"
    return f"{_DEPENDENCY_KIND[kind]} {name}"


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)
