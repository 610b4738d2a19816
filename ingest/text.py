"""Plain text files: paragraphs packed up to the chunk size, with exact line ranges."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import MAX_CHUNK_CHARS, passages_for
from ingest.documents import LoadContext, ParsedDocument, read_text, title_from_name


def load_text(path: Path, context: LoadContext | None = None, *, max_chars: int = MAX_CHUNK_CHARS) -> ParsedDocument:
    """Cut at paragraph ends (blank lines) into passages of at most max_chars; no sections."""
    lines = read_text(path).splitlines()
    return ParsedDocument(title_from_name(path), passages_for(lines, 0, len(lines) - 1, None, max_chars=max_chars), {})
