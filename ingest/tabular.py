"""CSV/TSV (rows as `field=value` text plus a column summary) and JSON (key paths, exact line ranges)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import yaml

from ingest.chunking import MAX_CHUNK_CHARS, Passage, pack_lines
from ingest.documents import LoadContext, ParsedDocument, read_text, title_from_name
from ingest.errors import DocumentError
from ingest.yaml_tree import YamlPassages, get, scalar, span, yaml_title

EXAMPLES = 3  # example values per column in the summary
ALL_VALUES = 12  # a column with at most this many distinct values lists them all
EXAMPLE_CHARS = 40
_KEY_FIELDS = ("name", "id", "key", "title", "label")


# -- CSV ------------------------------------------------------------------------------------------


def load_csv(path: Path, context: LoadContext | None = None, *, max_chars: int = MAX_CHUNK_CHARS) -> ParsedDocument:
    """Rows as `field=value; ...` lines, several per passage, plus one passage summarizing the columns.

    Line ranges are the file's own lines (a quoted value may span several), so citations point at rows.
    """
    rows = _read_rows(path)
    title = title_from_name(path)
    if not rows:
        return ParsedDocument(title, [], {})
    (header, header_first, header_last), records = rows[0], rows[1:]
    names = [name.strip() or f"column_{i + 1}" for i, name in enumerate(header)]
    passages = _summary(path, names, records, header_first, records[-1][2] if records else header_last, max_chars)
    passages += _row_passages(names, records, max_chars)
    lines = read_text(path).splitlines()
    return ParsedDocument(title, [p.located(lines) for p in passages], {})


def _read_rows(path: Path) -> list[tuple[list[str], int, int]]:
    """Every non-blank row with its 1-based first and last line; malformed CSV names its line."""
    text = read_text(path)
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.reader(io.StringIO(text, newline=""), dialect, strict=True)
    rows: list[tuple[list[str], int, int]] = []
    previous = 0
    try:
        for row in reader:
            first, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in row):
                rows.append((row, first, reader.line_num))
    except csv.Error as exc:  # reported at the row's first line: an unclosed quote runs to the end of the file
        raise DocumentError(path, f"line {previous + 1}: malformed CSV ({exc}); check the quoting") from exc
    if rows:
        width = len(rows[0][0])
        for row, first, _ in rows[1:]:
            if len(row) != width:
                raise DocumentError(
                    path, f"line {first}: {len(row)} fields, but the header has {width}; "
                    "quote values that contain the delimiter",
                )
    return rows


def _row_passages(names: list[str], records: list[tuple[list[str], int, int]], max_chars: int) -> Iterator[Passage]:
    """Consecutive rows packed up to max_chars; section names the rows by their first column."""
    group: list[tuple[str, int, int, str]] = []  # (text, first line, last line, first cell)

    def flush() -> Iterator[Passage]:
        if group:
            first_key, last_key = group[0][3], group[-1][3]
            section = f"{names[0]} {first_key}" + (f" to {last_key}" if len(group) > 1 else "")
            continued = f"{names[0]}={first_key} (continued)"  # only a single overlong row needs it
            for text in pack_lines([row[0] for row in group], max_chars, continued):
                yield Passage(text, section, group[0][1], group[-1][2])
            group.clear()

    for row, first, last in records:
        cells = ((name, " ".join(value.split())) for name, value in zip(names, row, strict=True))
        text = "; ".join(f"{name}={value}" for name, value in cells if value)
        if group and sum(len(g[0]) + 1 for g in group) + len(text) > max_chars:
            yield from flush()
        group.append((text, first, last, row[0].strip()[:EXAMPLE_CHARS]))
    yield from flush()


def _summary(
    path: Path, names: list[str], records: list[tuple[list[str], int, int]], first: int, last: int, max_chars: int
) -> list[Passage]:
    """What the table holds: its columns, each with a few example values (all of them when few)."""
    lines = [f"Table {path.name}: {len(records)} rows, {len(names)} columns: {', '.join(names)}."]
    for i, name in enumerate(names):
        values = list(dict.fromkeys(row[i].strip() for row, _, _ in records if row[i].strip()))
        if not values:
            lines.append(f"- {name}: always empty")
            continue
        shown = [v if len(v) <= EXAMPLE_CHARS else v[:EXAMPLE_CHARS].rsplit(" ", 1)[0] + "…" for v in values]
        if len(values) <= ALL_VALUES:
            lines.append(f"- {name}: {len(values)} distinct values: {', '.join(shown)}")
        else:
            lines.append(f"- {name}: {len(values)} distinct values, e.g. {', '.join(shown[:EXAMPLES])}")
    continued = f"Table {path.name} columns (continued)"
    return [Passage(text, "columns", first, last) for text in pack_lines(lines, max_chars, continued)]


# -- JSON -----------------------------------------------------------------------------------------


def load_json(path: Path, context: LoadContext | None = None, *, max_chars: int = MAX_CHUNK_CHARS) -> ParsedDocument:
    """Like generic YAML: passages of the file's own lines, section = key path (`months.2026-03.tasks`).

    `json` validates (its errors name the line); PyYAML's composer, which reads JSON, gives the line
    marks. Minified JSON (lines longer than a passage) is re-indented for reading, and cited by the
    original lines its items came from.
    """
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            path, f"line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg}); fix it, the file was not indexed"
        ) from exc
    original = _compose(text)
    lines = text.split("\n")
    if original is not None and max(map(len, lines)) <= max_chars:
        walker = YamlPassages(lines, max_chars, item_key=_json_item_key, split_named_lists=False)
        passages = list(walker.walk(original, []))
    else:
        passages = [p.located(lines) for p in _reindented(data, original, len(lines), max_chars)]
    title = (yaml_title(original) if original is not None else None) or title_from_name(path)
    return ParsedDocument(title, passages, {})


def _compose(text: str) -> yaml.Node | None:
    """The JSON as a YAML node tree, or None when PyYAML cannot read this (valid) JSON."""
    # Outside strings JSON allows tabs and YAML does not; inside strings they must be escaped, so
    # replacing them is safe. U+0085/2028/2029 would count as line breaks in YAML, not in editors.
    safe = text.translate({0x09: " ", 0x85: " ", 0x2028: " ", 0x2029: " "})
    try:
        return yaml.compose(safe)
    except (yaml.YAMLError, RecursionError):
        return None


def _reindented(data: object, original: yaml.Node | None, line_count: int, max_chars: int) -> list[Passage]:
    pretty = json.dumps(data, indent=2, ensure_ascii=False)
    root = _compose(pretty)
    if root is None:  # not even re-indented: one passage stream citing the whole file
        return [Passage(t, None, 1, line_count) for t in pack_lines(pretty.split("\n"), max_chars)]
    walker = YamlPassages(pretty.split("\n"), max_chars, item_key=_json_item_key, split_named_lists=False)
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    if original is not None:
        _map_lines(root, original, starts, ends)
    mapped = []
    for p in walker.walk(root, []):
        firsts = [starts[i] for i in range(p.start_line - 1, p.end_line) if i in starts]
        lasts = [ends[i] for i in range(p.start_line - 1, p.end_line) if i in ends]
        first = min(firsts) + 1 if firsts else 1
        last = max(lasts) + 1 if lasts else line_count
        mapped.append(Passage(p.text, p.section, first, max(first, last), p.title))
    return mapped


def _map_lines(pretty: yaml.Node, original: yaml.Node, starts: dict[int, int], ends: dict[int, int]) -> None:
    """Re-indented line -> original line, for every node (both trees have the same shape)."""
    (p_first, p_last), (o_first, o_last) = span(pretty), span(original)
    starts.setdefault(p_first, o_first)
    ends[p_last] = max(ends.get(p_last, 0), o_last)
    if isinstance(pretty, yaml.MappingNode) and isinstance(original, yaml.MappingNode):
        # json.loads keeps the last of duplicate keys; pair the re-indented entries with those.
        by_key = {scalar(k): v for k, v in original.value}
        for k, v in pretty.value:
            if scalar(k) in by_key:
                _map_lines(v, by_key[scalar(k)], starts, ends)
    elif isinstance(pretty, yaml.SequenceNode) and isinstance(original, yaml.SequenceNode):
        for p_item, o_item in zip(pretty.value, original.value, strict=False):
            _map_lines(p_item, o_item, starts, ends)


def _json_item_key(node: yaml.Node) -> str | None:
    """A list item's name in the key path: its name/id/key/title/label, else its first short scalar value."""
    for key in _KEY_FIELDS:
        value = scalar(get(node, key))
        if value:
            return value
    if isinstance(node, yaml.MappingNode) and node.value:
        first = scalar(node.value[0][1])
        if first and len(first) <= EXAMPLE_CHARS and "\n" not in first:
            return first
    return None
