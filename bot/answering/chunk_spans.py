"""A chunk split into the units an answer can quote ("spans"): its sentences, list items, table rows and field
lines, each with the lines it came from, its heading, field label or table header, and the facet ("UK:", a
tab's label) it comes under.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ingest.keyword_index import Chunk

_ITEM = re.compile(r"^(\s*)(?:[-*+•]|\d{1,2}[.)])\s+(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_TABLE = re.compile(r"^\s*\|.*\|\s*$|^\s*[^|]+(?:\s\|\s[^|]*){2,}\|?\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
# "Owner: Marcus Okafor", "Description: ...", "Per diem (UK): GBP 45": a short label, a colon, the value.
_FIELD = re.compile(r"^\s*([A-Za-z][\w ()/&,.'-]{0,40}?):\s+(\S.*)$")
_RECORD = re.compile(r"^\s*(\w+=[^;]{0,60});\s+(\w+=.*)$")
_LABEL_LINE = re.compile(r"^\s*([A-Za-z][\w ()/&,.'-]{0,40}):\s*$")  # "Caveats:", "UK:" (a tab's label)
# Sentence ends: ". " before a capital, digit, quote or bracket, not after common abbreviations or initials.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[£$€])")
_ABBREVIATION = re.compile(r"(?i)(?:\b(?:e\.g|i\.e|etc|vs|no|approx|incl|excl|inc|ltd|co|corp|dept|fig|mr|ms|dr|st|"
                           r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|u\.s|u\.k)\.|\b[A-Z]\.)$")
_ONE_CELL = re.compile(r"^\s*([^|\s][^|]*?)\s*\|\s*$")
_EMPTY_CELL = re.compile(r"^(?:[-–—]+|n/?a|none)$", re.IGNORECASE)  # a cell that holds nothing: "—", "n/a"
MAX_SPAN_CHARS = 400  # a longer sentence is still one span; quotes cut it (compose.py)


@dataclass(frozen=True)
class Span:
    """One quotable unit of a chunk: text lines first..last (0-based) of `chunk`."""

    chunk: Chunk
    text: str  # as quoted: the sentence, item, row or field line, on one line
    first: int
    last: int
    kind: str  # sentence | item | row | field
    label: str = ""  # its heading, field label or table header: context for matching, not quoted
    order: int = 0  # its place among the sentences of its paragraph, item or field (0: the first)
    facet: str = ""  # the "UK:" line (a tab's label) it comes under, until the next heading: one of a set
    quoted: str = ""  # a table row as quoted, each cell after its column's name (else its text is)

    @property
    def lines(self) -> tuple[int, int]:
        """The file lines it came from (1-based, inclusive)."""
        return self.chunk.file_lines(self.first, self.last)

    @property
    def key(self) -> tuple[str, int, int, int]:
        """Which span of its chunk this is: sentences of one line (a rendered dbt description) differ by order."""
        return self.chunk.id, self.first, self.last, self.order


def split_spans(chunk: Chunk, header: Sequence[str] = ()) -> tuple[Span, ...]:
    """The chunk's sentences, list items, table rows and field lines, in order. `header`: the header of a table
    the chunk before it left open (see open_header), for rows the chunk starts with."""
    return _split(chunk, list(header))[0]


def open_header(chunk: Chunk, header: Sequence[str] = ()) -> list[str]:
    """The header of the table the chunk ends in, which the next chunk of its document may go on with ([]
    when it ends in anything else). A long table cut into chunks keeps its header in the first one only."""
    return _split(chunk, list(header))[1]


def starts_with_rows(chunk: Chunk) -> bool:
    """The chunk's first line that is not blank is a table row or rule: only then can a header it inherits
    matter (any other first line ends the table or starts another)."""
    first = next((line for line in chunk.text.split("\n") if line.strip()), "")
    return not chunk.path.lower().endswith(".sql") and ("|" in first or _TABLE_RULE.match(first) is not None)


def only_rows(chunk: Chunk) -> bool:
    """Every line of the chunk is a table row, a table rule or blank: the open header it ends with is the one
    it inherited. (Any other line ends a table or starts one, so the chunk's own lines decide.)"""
    return not chunk.path.lower().endswith(".sql") and all(
        " | " in line or not line.strip() or _TABLE_RULE.match(line) for line in chunk.text.split("\n")
    )


def _split(chunk: Chunk, header: list[str]) -> tuple[tuple[Span, ...], list[str]]:
    if chunk.path.lower().endswith(".sql"):
        return sql_spans(chunk), []
    lines = chunk.text.split("\n")
    spans: list[Span] = []
    heading = ""
    label = ""  # a "Caveats:" / "UK:" line labels what follows it, until a blank line or heading
    facet = ""  # ... and is the facet of what follows it, until a heading or the next such line
    # `header` holds the current table's header cells. Blank lines don't end a table (an HTML table exported
    # into Markdown has them between its rows); any other line does. One inherited from the chunk before
    # holds only if the first row is as wide.
    inherited = bool(header)
    paragraph: list[tuple[int, str]] = []

    def flush_paragraph() -> None:
        if paragraph:
            spans.extend(_sentences(chunk, paragraph, "sentence", _join(heading, label), facet=facet))
            paragraph.clear()

    # ingest/html.py writes each block (a <p>, a <div>'s text) on a line of its own: two lines are two
    # paragraphs, not one wrapped across lines as in Markdown or a PDF.
    blocks_per_line = chunk.path.lower().endswith((".html", ".htm"))
    n = 0
    while n < len(lines):
        line = lines[n]
        stripped = line.strip()
        if not stripped:
            flush_paragraph()
            label = ""
            n += 1
            continue
        if cells := _header_column(lines, n):  # `<th>` cells one per line: "Decision |", "CFO |", ...
            flush_paragraph()
            header = cells
            n += len(cells)
            continue
        if match := _HEADING.match(line):
            flush_paragraph()
            heading, label, facet, header = match.group(1), "", "", []
            n += 1
            continue
        if _TABLE_RULE.match(line):
            n += 1
            continue
        cells = [c.strip() for c in stripped.strip("|").split("|")] if "|" in stripped else []
        ruled = bool(cells) and n + 1 < len(lines) and _TABLE_RULE.match(lines[n + 1]) is not None
        # Two cells without outer pipes ("City | Cap per night", as ingest/html.py writes a row) are a row
        # only under a header of two, or as a header over a rule.
        if cells and (_TABLE.match(line) or (" | " in line and (ruled or len(cells) == len(header) == 2))):
            flush_paragraph()
            if inherited and len(cells) != len(header):
                header = []
            inherited = False
            if ruled:
                header = cells
            else:
                named = "; ".join(f"{h}: {c}" for h, c in zip(header, cells, strict=False) if h and c)
                row = " | ".join(c for c in cells if c)
                spans.append(Span(chunk, row, n, n, "row", _join(heading, named), facet=facet,
                                  quoted=row_with_header(header, cells)))
            n += 1
            continue
        header = []
        if match := _ITEM.match(line):
            flush_paragraph()
            indent, parts, last = len(match.group(1)), [match.group(2)], n
            while last + 1 < len(lines):  # continuation lines are indented deeper and start no new item
                following = lines[last + 1]
                deeper = len(following) - len(following.lstrip()) > indent
                if not following.strip() or _ITEM.match(following) or not deeper:
                    break
                parts.append(following.strip())
                last += 1
            item = [(n, " ".join(parts))]
            spans.extend(_sentences(chunk, item, "item", _join(heading, label), whole=True, facet=facet))
            n = last + 1
            continue
        if match := _LABEL_LINE.match(line):
            flush_paragraph()
            label = facet = match.group(1)
            n += 1
            continue
        if match := _RECORD.match(line):  # a CSV row: `account_number=1010; ...`
            flush_paragraph()
            record = _sentences(chunk, [(n, match.group(2))], "row", _join(heading, match.group(1)), facet=facet)
            if record:  # its key (`account_number=1010`) is matched as its label, and quoted with it
                record[0] = replace(record[0], quoted=f"{match.group(1)}; {record[0].text}")
            spans.extend(record)
            n += 1
            continue
        if match := _FIELD.match(line):
            flush_paragraph()
            field = _join(heading, label, match.group(1))
            spans.extend(_sentences(chunk, [(n, match.group(2))], "field", field, facet=facet))
            n += 1
            continue
        paragraph.append((n, stripped))
        if blocks_per_line:
            flush_paragraph()
        n += 1
    flush_paragraph()
    return tuple(spans), header


def _header_column(lines: list[str], n: int) -> list[str]:
    """The header cells when lines n, n+1, ... each hold one cell ending in " |" (at least two of them): how
    ingest/markup.py leaves an HTML table's header row written one `<th>` per line."""
    cells: list[str] = []
    while n + len(cells) < len(lines) and (cell := _ONE_CELL.match(lines[n + len(cells)])):
        cells.append(cell.group(1))
    return cells if len(cells) >= 2 else []


def row_with_header(header: Sequence[str], cells: Sequence[str]) -> str:
    """A table row as a reader takes it in without the table: "Decision: Bad-debt write-offs; VP Finance:
    up to $10,000; CFO: up to $250,000", each cell after its column's name, the empty ones ("—", "n/a")
    left out. "" when the row does not line up with a header (none, or a row of another width)."""
    if len(header) < 2 or len(cells) != len(header):
        return ""
    filled = [(h, c) for h, c in zip(header, cells, strict=True) if c and not _EMPTY_CELL.match(c)]
    if len(filled) < 2:
        return ""
    return "; ".join(f"{h}: {c}" if h else c for h, c in filled)


# A line of SQL that starts a clause: what came before it is a span of its own.
_SQL_CLAUSE = re.compile(
    r"(?i)^(?:select|from|where|group\s+by|order\s+by|having|qualify|union|(?:left|right|inner|full|cross)\b|join|"
    r"on\b|with\b|\)|\{\{|\{%|--)"
)
_SQL_NOISE = re.compile(r"--.*$|'[^']*'")  # comments and string literals: their brackets don't count
SQL_ALIAS = re.compile(r"(?i)\bas\s+([A-Za-z_]\w*)\s*,?\s*$")  # `... as days_past_due,`: what the item defines


def sql_spans(chunk: Chunk) -> tuple[Span, ...]:
    """A SQL chunk's select items, clauses and comment lines, each with its lines: an item runs until a line ends
    with a comma outside brackets, so a multi-line `case ... end as aging_bucket` is one span."""
    spans: list[Span] = []
    current: list[tuple[int, str]] = []
    depth = 0

    def flush() -> None:
        if current:
            text = " ".join(t for _, t in current)
            spans.append(Span(chunk, text, current[0][0], current[-1][0], "item", chunk.section))
            current.clear()

    for n, line in enumerate(chunk.text.split("\n")):
        stripped = line.strip()
        comment = stripped.startswith("--")
        if not stripped or (depth <= 0 and _SQL_CLAUSE.match(stripped)) or comment != _is_comment(current):
            flush()
            depth = 0
        if not stripped:
            continue
        current.append((n, stripped))
        code = _SQL_NOISE.sub("", stripped)
        depth += code.count("(") - code.count(")")
        if code.rstrip().endswith("("):  # `with aged as (`, `from (`: a block opens, its items are spans
            flush()
            depth = 0
        elif depth <= 0 and not comment and code.rstrip().endswith(","):
            flush()
    flush()
    return tuple(spans)


def _is_comment(lines: list[tuple[int, str]]) -> bool:
    return bool(lines) and lines[0][1].startswith("--")


def _join(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _sentences(
    chunk: Chunk, lines: list[tuple[int, str]], kind: str, label: str, whole: bool = False, facet: str = ""
) -> list[Span]:
    """Spans for a run of lines read as one text: one per sentence (an item stays whole when short)."""
    text = " ".join(t for _, t in lines)
    starts = []  # (character offset, line index) where each line's text begins
    offset = 0
    for index, line_text in lines:
        starts.append((offset, index))
        offset += len(line_text) + 1
    pieces = [text] if whole and len(text) <= MAX_SPAN_CHARS else _cut_sentences(text)
    spans, at = [], 0
    for order, piece in enumerate(pieces):
        begin = text.index(piece, at)
        end = begin + len(piece)
        at = end
        first = max(i for o, i in starts if o <= begin)
        last = max(i for o, i in starts if o < end)
        spans.append(Span(chunk, piece, first, last, kind, label, order, facet))
    return spans


def _cut_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        candidate = text[start : match.start()].strip()
        if not candidate or _ABBREVIATION.search(candidate.rstrip("\"')]")):
            continue
        pieces.append(candidate)
        start = match.end()
    rest = text[start:].strip()
    if rest:
        pieces.append(rest)
    return pieces
