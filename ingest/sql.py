"""SQL files (a dbt project's models, snapshots, analyses, macros): one passage per CTE, with exact line ranges.

A dbt model's SQL is often the only place a calculation is written down ("net_revenue is amount minus
refunds"), so it is indexed as the file's own lines. A file that fits in one chunk is one passage. A longer
one is cut at its common table expressions (`name as (`): each is a section named for it, the text before
the first is `config` and the statement after the last is `select`; neighbours are packed while they fit.
A long file without CTEs is cut like plain text. The title names the model after its file ("Model
fct_invoices (SQL)"), so a chunk of SQL says what it belongs to when it is embedded and cited.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.chunking import MAX_CHUNK_CHARS, Passage, passages_for
from ingest.documents import LoadContext, ParsedDocument, read_text

# `with orders as (`, `, payments as (`, `renamed AS(`: a CTE's name at the start of its line.
_CTE = re.compile(r"^\s*(?:with\s+|,\s*)?(\w+)\s+as\s*\(\s*$", re.IGNORECASE)
_RECURSIVE = re.compile(r"^\s*with\s+recursive\s+", re.IGNORECASE)
_COMMENT = re.compile(r"--.*$|'[^']*'")  # line comments and string literals: their brackets don't count


def load_sql(path: Path, context: LoadContext | None = None, *, max_chars: int = MAX_CHUNK_CHARS) -> ParsedDocument:
    """A file that fits in one chunk is one passage; a longer one is cut at CTEs, neighbours packed together."""
    lines = read_text(path).splitlines()
    title = f"{_kind(path)} {path.stem} (SQL)"
    if sum(len(line) + 1 for line in lines) <= max_chars:
        return ParsedDocument(title, passages_for(lines, 0, len(lines) - 1, None, max_chars=max_chars), {})
    passages: list[Passage] = []
    for names, first, last in _packed(_statements(lines), lines, max_chars):
        passages += passages_for(lines, first, last, ", ".join(names) or None, max_chars=max_chars)
    return ParsedDocument(title, passages, {})


def _statements(lines: list[str]) -> list[tuple[str, int, int]]:
    """(name, first, last) 0-based of the text before the CTEs ("config"), each CTE, and the statement after."""
    starts = [(i, m.group(1)) for i, line in enumerate(lines) if (m := _CTE.match(_RECURSIVE.sub("with ", line)))]
    if not starts:
        return [("", 0, len(lines) - 1)]
    found = [("config", 0, starts[0][0] - 1)] if any(line.strip() for line in lines[: starts[0][0]]) else []
    for (first, name), (following, _) in zip(starts, [*starts[1:], (len(lines), "")], strict=True):
        last = _cte_end(lines, first, following)
        found.append((name, first, last))
        if any(line.strip() for line in lines[last + 1 : following]):  # `select * from final` after the last CTE
            found.append(("select", last + 1, following - 1))
    return found


def _packed(
    statements: list[tuple[str, int, int]], lines: list[str], max_chars: int
) -> list[tuple[list[str], int, int]]:
    """Consecutive statements joined while they fit in one chunk, so a three-line CTE is not a chunk alone."""
    packed: list[tuple[list[str], int, int]] = []
    for name, first, last in statements:
        if packed and sum(len(line) + 1 for line in lines[packed[-1][1] : last + 1]) <= max_chars:
            names, start, _ = packed[-1]
            packed[-1] = ([*names, name] if name else names, start, last)
        else:
            packed.append(([name] if name else [], first, last))
    return packed


def _cte_end(lines: list[str], first: int, following: int) -> int:
    """The line whose `)` closes the CTE opened on line `first` (brackets counted), at most the next CTE's line."""
    depth = 0
    for i in range(first, following):
        code = _COMMENT.sub("", lines[i])
        depth += code.count("(") - code.count(")")
        if depth <= 0:  # the CTE's own line ends with "(", so this is a later line
            return i
    return following - 1


def _kind(path: Path) -> str:
    """What a dbt project keeps in this file's folder: models/ holds models, snapshots/ snapshots..."""
    for folder in reversed(path.parent.parts):
        kind = {"models": "Model", "snapshots": "Snapshot", "analyses": "Analysis", "macros": "Macro"}.get(folder)
        if kind:
            return kind
    return "SQL"
