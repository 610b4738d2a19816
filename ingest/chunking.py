"""Line-range passages: the unit that is embedded, stored and cited."""

from __future__ import annotations

import re
from dataclasses import dataclass

# all-MiniLM-L6-v2 reads 256 word pieces (about 1,000-1,200 characters of English); longer text is cut off.
MAX_CHUNK_CHARS = 1200


@dataclass(frozen=True)
class Passage:
    """A run of lines from one file, with where it sits in the document."""

    text: str
    section: str | None  # heading path or YAML key path
    start_line: int  # 1-based, inclusive
    end_line: int
    title: str | None = None  # overrides the document's title (e.g. a metric's label)
    page: int | None = None  # 1-based page of a PDF; None for documents without pages
    # For rendered text (dbt, HTML, CSV rows): the file lines of each text line (see ingest/line_map.py).
    # None when text line i is file line start_line + i.
    line_map: tuple[tuple[int, int], ...] | None = None

    def located(self, file_lines: list[str]) -> Passage:
        """This passage with each text line located among its file lines (for text that is not a slice)."""
        from dataclasses import replace

        from ingest.line_map import locate_lines

        found = locate_lines(self.text.split("\n"), file_lines, self.start_line, self.end_line)
        return replace(self, line_map=tuple(found))


def trim_blank(lines: list[str], first: int, last: int) -> tuple[int, int]:
    """Narrow [first, last] (0-based, inclusive) past blank lines at both ends; first > last if all blank."""
    while first <= last and not lines[first].strip():
        first += 1
    while last >= first and not lines[last].strip():
        last -= 1
    return first, last


def split_range(lines: list[str], first: int, last: int, max_chars: int = MAX_CHUNK_CHARS) -> list[tuple[int, int]]:
    """Split lines[first..last] (0-based, inclusive) into ranges of at most max_chars.

    Cuts at blank lines (paragraph ends) where possible, else at any line; a single overlong line
    stays whole (the embedder truncates it, the citation stays right).
    """
    ranges: list[tuple[int, int]] = []
    start, size, last_blank = first, 0, -1
    for i in range(first, last + 1):
        size += len(lines[i]) + 1
        if size > max_chars and i > start:
            cut = last_blank if last_blank > start else i - 1
            ranges.append((start, cut))
            start = cut + 1
            size = sum(len(line) + 1 for line in lines[start : i + 1])
            last_blank = -1
        if not lines[i].strip():
            last_blank = i
    ranges.append((start, last))
    trimmed = (trim_blank(lines, a, b) for a, b in ranges)
    return [(a, b) for a, b in trimmed if a <= b]


def passages_for(
    lines: list[str], first: int, last: int, section: str | None, title: str | None = None,
    max_chars: int = MAX_CHUNK_CHARS,
) -> list[Passage]:
    """Passages covering lines[first..last] (0-based), each at most max_chars, blank edges trimmed."""
    first, last = trim_blank(lines, first, last)
    if first > last:
        return []
    return [
        Passage("\n".join(lines[a : b + 1]), section, a + 1, b + 1, title)
        for a, b in split_range(lines, first, last, max_chars)
    ]


def pack_lines(lines: list[str], max_chars: int = MAX_CHUNK_CHARS, continued: str = "") -> list[str]:
    """Rendered text lines packed into pieces of at most max_chars, for text that is not a file's lines.

    A line too long on its own is cut at sentence ends (else word ends); pieces after the first
    start with `continued` (e.g. "Model x (continued)") so each still says what it belongs to.
    """
    if sum(len(line) + 1 for line in lines) <= max_chars + 1:
        return ["\n".join(lines)] if lines else []
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for part in (part for line in lines for part in _cut_line(line, max_chars - len(continued) - 1)):
        if current and size + len(part) + 1 > max_chars:
            pieces.append("\n".join(current))
            current, size = ([continued], len(continued) + 1) if continued else ([], 0)
        current.append(part)
        size += len(part) + 1
    if current and current != [continued]:
        pieces.append("\n".join(current))
    return pieces


def _cut_line(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    units = re.split(r"(?<=[.;!?])\s+", line)  # sentences; a sentence too long on its own goes word by word
    units = [word for unit in units for word in (unit.split(" ") if len(unit) > limit else [unit])]
    parts: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + 1 + len(unit) > limit:
            parts.append(current)
            current = unit
        else:
            current = f"{current} {unit}" if current else unit
    return [*parts, current] if current else parts
