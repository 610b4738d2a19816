"""Context that reads whole: a chunk cut from a longer section is widened with its neighbours."""

from __future__ import annotations

from ingest import store
from ingest.keyword_index import Chunk, KeywordIndex

# A widened passage stays readable in a reply: the whole section when it is this small, else the chunk
# with its nearest neighbours up to this size.
WIDEN_CHARS = 2400


def widen(chunk: Chunk, keyword: KeywordIndex, max_chars: int = WIDEN_CHARS) -> Chunk:
    """The chunk joined with its neighbours of the same file and section (whole when small enough)."""
    position = keyword.position(chunk.id)
    if position is None:
        return chunk
    siblings = section_chunks(keyword, position)
    if len(siblings) == 1:
        return chunk
    first = last = next(n for n, c in enumerate(siblings) if c.id == chunk.id)
    size = len(chunk.text)
    while True:  # grow one neighbour at a time, before then after, while it fits
        grown = False
        for n in (first - 1, last + 1):
            if 0 <= n < len(siblings) and size + len(siblings[n].text) + 2 <= max_chars:
                size += len(siblings[n].text) + 2
                first, last = min(first, n), max(last, n)
                grown = True
        if not grown:
            break
    return join(siblings[first : last + 1]) if last > first else chunk


def section_chunks(keyword: KeywordIndex, position: int) -> list[Chunk]:
    """The run of chunks around `position` with the same path, section (and PDF page), in line order."""
    chunks = keyword.chunks
    anchor = chunks[position]

    def same(n: int) -> bool:
        return (
            0 <= n < len(chunks)
            and chunks[n].path == anchor.path
            and chunks[n].section == anchor.section
            and chunks[n].metadata.get(store.PAGE) == anchor.metadata.get(store.PAGE)  # a quote stays on its page
        )

    start, end = position, position
    while same(start - 1):
        start -= 1
    while same(end + 1):
        end += 1
    return chunks[start : end + 1]


def join(chunks: list[Chunk]) -> Chunk:
    """One chunk spanning consecutive chunks; a line gap between two (a blank line that was cut) is kept."""
    parts = [chunks[0].text]
    for before, after in zip(chunks, chunks[1:], strict=False):
        parts.append("\n\n" if after.start_line > before.end_line + 1 else "\n")
        parts.append(after.text)
    metadata = {**chunks[0].metadata, store.END_LINE: chunks[-1].end_line}
    return Chunk(chunks[0].id, "".join(parts), metadata)
