"""Which lines of the file each line of a rendered passage came from, so a quote cites the lines it quotes.

Most passages are a slice of their file (Markdown, text, YAML items): text line i is file line start + i.
Rendered passages are not: a dbt metric becomes "Type: derived" / "Owner: ..." lines, an HTML page its
text, a CSV its rows as `field=value` lines. For those, each text line is located in the file by its
words: the smallest run of the passage's own file lines that holds (nearly) as many of the line's words
as the whole passage range does. The map is stored with the chunk (metadata `line_map`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"[^\W_]+")
# A run of file lines must hold this share of the words the whole range holds for a text line.
_ENOUGH = 0.9
_MAX_RUN = 60  # lines; longer runs are not searched (the whole range is the fallback)
# "Owner: Priya Nair": a rendered field line; its label words are the renderer's, so only the value is located.
_LABEL = re.compile(r"^\s*[^:\n]{1,40}:\s+(\S.*)$")

LineRange = tuple[int, int]  # 1-based, inclusive


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 1 or w.isdigit()}


def locate_lines(text_lines: Sequence[str], file_lines: Sequence[str], first: int, last: int) -> list[LineRange]:
    """For each text line, the 1-based file lines (within first..last) it was rendered from.

    Lines are located in order where possible (a later text line prefers a run at or after the previous
    one); a line whose words are not in the range (a heading the renderer wrote) gets the whole range.
    """
    first, last = max(1, first), min(len(file_lines), last)
    if last < first:
        return [(first, first)] * len(text_lines)
    window = [_words(line) for line in file_lines[first - 1 : last]]
    everywhere = set().union(*window)
    found: list[LineRange] = []
    previous = 0  # index into window
    for text in text_lines:
        wanted = _words(text)
        label = _LABEL.match(text)
        if label and _words(label.group(1)) & everywhere:  # "Metric arr: ...": the label is the renderer's
            wanted = _words(label.group(1))
        reachable = wanted & everywhere
        if not reachable:
            found.append((first, last) if wanted else found[-1] if found else (first, first))
            continue
        need = _ENOUGH * len(reachable)
        best: tuple[int, int, int] | None = None  # (size, distance from previous, start)
        for start in range(len(window)):
            if not window[start] & reachable:
                continue
            covered: set[str] = set()
            for end in range(start, min(len(window), start + _MAX_RUN)):
                covered |= window[end] & reachable
                if len(covered) >= need:
                    key = (end - start, 0 if start >= previous else previous - start, start)
                    if best is None or key < best:
                        best = key
                    break
        if best is None:
            found.append((first, last))
            continue
        size, _, start = best
        previous = start
        found.append((first + start, first + start + size))
    return found


def encode(ranges: Sequence[LineRange]) -> str:
    """Compact text for Chroma metadata: "12,13-15,13-15" (a single line is written once)."""
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def decode(text: str) -> list[LineRange]:
    ranges: list[LineRange] = []
    for part in text.split(",") if text else []:
        a, _, b = part.partition("-")
        ranges.append((int(a), int(b or a)))
    return ranges
