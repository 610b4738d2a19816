"""The glossary of metrics, report models and columns, built from the indexed chunks themselves.

Entities come from chunk metadata: a section `metrics.<name>` is a metric whose title is its label,
`models.<model>` a report model, `models.<model>.columns.<col>` one of its columns (semantic models
count as models). Each entity is known by its name (`net_revenue_retention`, read as words), its label
("Net revenue retention"), acronyms (in the label's parentheses, or the initials of a label of three
or more words) and aliases (any `aliases:` / `synonyms:` / "also known as" list in its chunks). A
question that names an entity gets that entity's defining chunk boosted, weighted by how specific the
term is: "DSO" names one metric and is rare in the corpus, "currency" names a column of many models.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingest.dbt import columns_in

if TYPE_CHECKING:
    from ingest.keyword_index import Chunk, KeywordIndex

# A one-word alias is a hint, not a name: it often also means the everyday thing (dev split: 0.5 helped
# policy questions that mention "chargeback" or "expense" without losing the acronym/alias questions).
_ONE_WORD_ALIAS = 0.5
# dbt layer prefixes: `rpt_payout_reconciliation` is also called "payout reconciliation".
_MODEL_PREFIXES = ("rpt", "fct", "dim", "stg", "int", "mart")
_PARENS = re.compile(r"\(([^()]*)\)")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&/%]{1,7}$")
_ALIAS_LINE = re.compile(r"(?i)\b(?:aliases|synonyms|also known as|also called|a\.k\.a\.)\b\s*[:=]?\s*(.*)$")
_LIST_ITEM = re.compile(r"^\s*-\s+(.+?)\s*$")
_MAX_TERM_WORDS = 8
# A column's own chunk outranks its model's when both are named ("arrival date in the payouts report").
_COLUMN_OF_NAMED_MODEL = 1.0
_OTHER_CHUNKS = 0.5  # share of the weight for an entity's chunks after the defining one


@dataclass(frozen=True)
class Entity:
    kind: str  # metric | model | column
    name: str  # metric or model name; "model.column" for a column
    label: str
    path: str
    chunk_ids: tuple[str, ...]  # the defining chunk first

    @property
    def model(self) -> str | None:
        return self.name.split(".", 1)[0] if self.kind == "column" else None


@dataclass(frozen=True)
class GlossaryHit:
    """A term of the question that names an entity; `weight` (0-1) is how surely it names this one."""

    words: str  # the term as the question has it, after tokenizing ("dso", "arriv date")
    via: str  # name | label | acronym | alias
    entity: Entity
    weight: float


@dataclass
class Glossary:
    keyword: KeywordIndex
    entities: list[Entity]
    terms: dict[tuple[str, ...], list[tuple[Entity, str]]]
    _df: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.entities)

    def match(self, question: str) -> list[GlossaryHit]:
        """The entities the question names, longest terms first; a term inside a longer match is dropped."""
        tokens = self.keyword.tokens(question)
        spans: list[tuple[int, int, tuple[str, ...]]] = []
        for start in range(len(tokens)):
            for end in range(min(len(tokens), start + _MAX_TERM_WORDS), start, -1):
                words = tuple(tokens[start:end])
                if words in self.terms:
                    spans.append((start, end, words))
                    break
        kept = [s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)]
        named_models = {e.name for _, _, words in kept for e, _ in self.terms[words] if e.kind == "model"}
        hits: list[GlossaryHit] = []
        for _, _, words in kept:
            named = self.terms[words]
            in_named_model = [(e, via) for e, via in named if e.model in named_models]
            chosen = in_named_model or named
            share = self.specificity(words) / len(chosen)
            if in_named_model:
                share = min(1.0, share + _COLUMN_OF_NAMED_MODEL / len(chosen))
            hits.extend(
                GlossaryHit(" ".join(words), via, entity, share * _loose(via, words)) for entity, via in chosen
            )
        return sorted(hits, key=lambda h: -h.weight)

    def specificity(self, words: tuple[str, ...]) -> float:
        """1 for a term only one chunk holds, falling towards 0 as more of the corpus mentions it."""
        total = len(self.keyword.chunks)
        if total <= 1:
            return 1.0
        df = max(1, self._phrase_df(words))
        return max(0.0, math.log(total / df) / math.log(total))

    def chunk_weights(self, hits: Sequence[GlossaryHit]) -> dict[str, tuple[float, GlossaryHit]]:
        """{chunk id: (weight, the hit behind it)}: the defining chunk gets the hit's weight, the rest a share."""
        weights: dict[str, tuple[float, GlossaryHit]] = {}
        for hit in hits:
            for n, chunk_id in enumerate(hit.entity.chunk_ids):
                weight = hit.weight if n == 0 else hit.weight * _OTHER_CHUNKS
                if weight > weights.get(chunk_id, (0.0, hit))[0]:
                    weights[chunk_id] = (weight, hit)
        return weights

    @staticmethod
    def expansion(hits: Sequence[GlossaryHit]) -> str:
        """Words to add to the query for terms the documents spell out differently (acronyms, aliases)."""
        extra: list[str] = []
        for hit in hits:
            if hit.via in ("acronym", "alias") and hit.entity.label and hit.entity.label not in extra:
                extra.append(hit.entity.label)
        return "; ".join(extra)

    def _phrase_df(self, words: tuple[str, ...]) -> int:
        if words not in self._df:
            postings = [self.keyword.chunks_with(w) for w in words]
            self._df[words] = len(set.intersection(*postings)) if postings else 0
        return self._df[words]


def _loose(via: str, words: tuple[str, ...]) -> float:
    """A one-word alias ("chargeback" for disputes opened) names its metric less surely than its own name."""
    return _ONE_WORD_ALIAS if via == "alias" and len(words) == 1 else 1.0


def build_glossary(keyword: KeywordIndex) -> Glossary:
    """Every metric, model and column in the index, with the terms that name it."""
    groups: dict[tuple[str, str, str], list[Chunk]] = defaultdict(list)  # (kind, name, path) -> chunks
    for chunk in keyword.chunks:
        for found in entities_of(chunk):
            groups[(*found, chunk.path)].append(chunk)
    entities: list[Entity] = []
    texts: list[str] = []  # every term's text, tokenized in one batch below
    owners: list[tuple[Entity, str]] = []
    for (kind, name, path), chunks in groups.items():
        chunks.sort(key=lambda c: (c.start_line, len(c.section)))
        label = label_of(kind, name, chunks[0].title)
        entity = Entity(kind, name, label, path, tuple(c.id for c in chunks))
        entities.append(entity)
        for text, via in terms_of(entity, chunks[0].title, (c.text for c in chunks)):
            texts.append(text)
            owners.append((entity, via))
    terms: dict[tuple[str, ...], list[tuple[Entity, str]]] = defaultdict(list)
    for tokens, (entity, via) in zip(keyword.tokenize_many(texts), owners, strict=True):
        words = tuple(tokens)
        if words and any(len(w) > 1 for w in words) and all(e != entity for e, _ in terms[words]):
            terms[words].append((entity, via))
    return Glossary(keyword, entities, dict(terms))


def entities_of(chunk: Chunk) -> list[tuple[str, str]]:
    """The entity the chunk's section names, and the columns a model or column-group chunk lists."""
    found = entity_of(chunk.section)
    if not found:
        return []
    if found[0] != "model":
        return [found]
    model = found[1]
    in_group = chunk.section.endswith(".columns")  # a group of columns: they are its subject, not the model
    columns = [("column", f"{model}.{column}") for column in dict.fromkeys(columns_in(chunk.text))]
    return columns if in_group and columns else [found, *columns]


def entity_of(section: str) -> tuple[str, str] | None:
    """(kind, name) of the metric, model or column a chunk's section belongs to, if any."""
    parts = section.split(".")
    if len(parts) < 2 or not parts[1]:
        return None
    if parts[0] == "metrics":
        return "metric", parts[1]
    if parts[0] in ("models", "semantic_models"):
        if len(parts) >= 4 and parts[2] == "columns":
            return "column", f"{parts[1]}.{parts[3]}"
        return "model", parts[1]
    return None


def label_of(kind: str, name: str, title: str) -> str:
    """The human name: a metric's title is its label; models and columns have only their names."""
    if kind == "metric" and title and title != name:
        return _PARENS.sub("", title).strip(" ,")
    return name.rsplit(".", 1)[-1].replace("_", " ")


def terms_of(entity: Entity, title: str, texts: Iterable[str]) -> list[tuple[str, str]]:
    """(term text, how it names the entity): the name, the label, acronyms and aliases."""
    own_name = entity.name.rsplit(".", 1)[-1]
    found = [(own_name.replace("_", " "), "name")]
    if entity.kind == "model":
        first, _, rest = own_name.partition("_")
        if first in _MODEL_PREFIXES and rest:
            found.append((rest.replace("_", " "), "name"))
    if entity.kind == "metric":
        found.append((entity.label, "label"))
        found.extend((a, "acronym") for a in acronyms(title))
    for text in texts:
        found.extend((alias, "alias") for alias in aliases(text))
    return found


def acronyms(label: str) -> list[str]:
    """Acronyms a label states in parentheses ("... (NRR, trailing 12 months)"), else its initials when long."""
    stated = [
        part.strip() for inner in _PARENS.findall(label) for part in inner.split(",")
        if _ACRONYM.match(part.strip())
    ]
    if stated:
        return stated
    words = [w for w in re.findall(r"[A-Za-z]+", _PARENS.sub("", label)) if w.lower() not in _SMALL_WORDS]
    return ["".join(w[0] for w in words).upper()] if len(words) >= 3 else []


def aliases(text: str) -> list[str]:
    """Alias lists in a chunk's text, as `aliases: [a, b]`, a YAML block list, or "also known as a, b"."""
    found: list[str] = []
    lines = text.splitlines()
    for n, line in enumerate(lines):
        match = _ALIAS_LINE.search(line)
        if not match:
            continue
        value = match.group(1).strip()
        if value:
            found.extend(_split_list(value))
            continue
        for following in lines[n + 1 :]:
            item = _LIST_ITEM.match(following)
            if not item:
                break
            found.append(item.group(1).strip("'\""))
    return [a for a in found if a]


def _split_list(value: str) -> list[str]:
    value = value.strip().strip("[]").rstrip(".")
    return [part.strip().strip("'\"") for part in re.split(r",|;|\bor\b", value)]


_SMALL_WORDS = {"of", "and", "the", "to", "for", "per", "in", "on", "a", "an", "by", "at"}
