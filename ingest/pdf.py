"""PDF files: the text layer page by page, sections from headings (larger type), each passage on one page.

Line ranges count the lines of a page's extracted text; the page number is what a citation shows.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from ingest.chunking import MAX_CHUNK_CHARS, Passage, passages_for
from ingest.documents import LoadContext, ParsedDocument, title_from_name
from ingest.errors import DocumentError

logger = logging.getLogger(__name__)

HEADING_SCALE = 1.15  # a line set this much larger than the body text is a heading
MAX_HEADING_CHARS = 120
CHROME_SHARE = 0.6  # a line on this share of pages (page numbers aside) is a running header or footer


def load_pdf(path: Path, context: LoadContext | None = None, *, max_chars: int = MAX_CHUNK_CHARS) -> ParsedDocument:
    title, pages = _read_pages(path)
    if not any(text.strip() for text, _ in pages):
        raise DocumentError(
            path, "has no text layer (a scan or images only); export it with text, or OCR it "
            "(e.g. ocrmypdf in.pdf out.pdf), and re-ingest",
        )
    chrome = _running_lines([text for text, _ in pages])
    heading_levels = _heading_levels([run for _, runs in pages for run in runs])
    headings: list[tuple[int, str]] = []  # the open heading path, carried from page to page
    passages: list[Passage] = []
    for number, (text, _) in enumerate(pages, start=1):
        if not text.strip():
            logger.warning("%s: page %d has no text layer; it is not indexed", path, number)
            continue
        lines = ["" if _chrome_key(line) in chrome else line for line in text.split("\n")]
        starts = [(0, _section(headings))]
        for i, line in enumerate(lines):
            level = heading_levels.get(line.strip())
            if level is not None:
                while headings and headings[-1][0] >= level:
                    headings.pop()
                headings.append((level, line.strip()))
                starts.append((i, _section(headings)))
        for n, (first, section) in enumerate(starts):
            last = starts[n + 1][0] - 1 if n + 1 < len(starts) else len(lines) - 1
            if any(line.strip() and line.strip() not in heading_levels for line in lines[first : last + 1]):
                found = passages_for(lines, first, last, section, max_chars=max_chars)
                passages.extend(replace(p, page=number) for p in found)
    first_heading = next((text for text, level in heading_levels.items() if level == 1), None)
    return ParsedDocument(title or first_heading or title_from_name(path), passages, {})


def _read_pages(path: Path) -> tuple[str | None, list[tuple[str, list[tuple[str, float]]]]]:
    """The PDF's title and, per page, its text and sized text runs; a broken PDF is a DocumentError."""
    import pypdf
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    # pypdf raises a wide range of errors on damaged files (its own, and ValueError, KeyError... from
    # inside its parser); all of them mean the same to the user: this file cannot be read.
    broken = (PyPdfError, OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError)
    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise FileNotDecryptedError("a password is needed")
        title = reader.metadata.title if reader.metadata else None
        pages = [_page(page) for page in reader.pages]
    except FileNotDecryptedError as exc:
        raise DocumentError(
            path, "is password-protected; save a copy without the password (e.g. print to PDF) and re-ingest"
        ) from exc
    except broken as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DocumentError(
            path, f"cannot read this PDF ({reason}); re-export it or remove it from the corpus"
        ) from exc
    return (str(title).strip() or None) if title else None, pages


def _page(page: Any) -> tuple[str, list[tuple[str, float]]]:
    """A page's text and its text runs with their type size."""
    runs: list[tuple[str, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            runs.append((text.strip(), round(abs(size * (tm[3] or 1)), 1)))

    return page.extract_text(visitor_text=visit) or "", runs


def _heading_levels(runs: list[tuple[str, float]]) -> dict[str, int]:
    """Short runs set in larger type than the document's body text, by size: the largest is level 1."""
    if not runs:
        return {}
    by_size = Counter[float]()
    for run, size in runs:
        by_size[size] += len(run)
    body = by_size.most_common(1)[0][0]
    bigger = sorted({size for _, size in runs if size > body * HEADING_SCALE}, reverse=True)
    return {run: bigger.index(size) + 1 for run, size in runs if size in bigger and len(run) <= MAX_HEADING_CHARS}


def _running_lines(pages: list[str]) -> set[str]:
    """Lines (digits ignored) that repeat on most pages: running headers and footers, not content."""
    if len(pages) < 2:
        return set()
    seen = Counter(key for text in pages for key in {_chrome_key(line) for line in text.split("\n") if line.strip()})
    needed = max(2, math.ceil(CHROME_SHARE * len(pages)))
    return {key for key, count in seen.items() if count >= needed and len(key) <= MAX_HEADING_CHARS}


def _chrome_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.strip())


def _section(headings: list[tuple[int, str]]) -> str | None:
    return " > ".join(text for _, text in headings) or None
