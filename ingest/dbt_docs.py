"""dbt docs blocks: `{% docs name %}...{% enddocs %}` in Markdown, `{{ doc('name') }}` in YAML descriptions."""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import replace
from itertools import accumulate
from pathlib import Path

from ingest.chunking import MAX_CHUNK_CHARS, Passage, passages_for

logger = logging.getLogger(__name__)

DOCS_BLOCK = re.compile(r"{%-?\s*docs\s+([\w.]+)\s*-?%}(.*?){%-?\s*enddocs\s*-?%}", re.DOTALL)
# doc('name') or doc('package', 'name'); the block's name is the last argument.
DOC_REF = re.compile(r"""{{-?\s*doc\(\s*(?:['"][\w.]+['"]\s*,\s*)?['"]([\w.]+)['"]\s*\)\s*-?}}""")
DOCS_SUFFIXES = (".md", ".markdown")


def collect_doc_blocks(paths: Iterable[Path]) -> dict[str, str]:
    """Every docs block in the Markdown files among `paths`, by name (the first one wins on a clash).

    Cheap on purpose (read + regex): it runs over the whole corpus before any file is loaded.
    An unreadable file is skipped here; its own loader reports it.
    """
    blocks: dict[str, str] = {}
    for path in paths:
        if path.suffix.lower() not in DOCS_SUFFIXES:
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        for match in DOCS_BLOCK.finditer(text):
            name, body = match.group(1), match.group(2).strip()
            if name in blocks:
                logger.warning("%s: docs block %r is defined twice; the first one is used", path, name)
                continue
            blocks[name] = body
    return blocks


def resolve_doc_refs(text: str, blocks: dict[str, str] | None) -> str:
    """Replace `{{ doc('name') }}` with the block's text; an unknown name stays as written."""
    if "doc(" not in text:
        return text
    return DOC_REF.sub(lambda m: (blocks or {}).get(m.group(1), m.group(0)), text)


def split_doc_blocks(lines: list[str], max_chars: int = MAX_CHUNK_CHARS) -> tuple[list[Passage], list[str]]:
    """Passages for each docs block (section `docs.<name>`), and the lines with those blocks blanked.

    Blanking (not removing) keeps every other line where it was, so the rest of the Markdown keeps
    its exact line numbers; the `{% docs %}` tags are left out of the passages' text.
    """
    text = "\n".join(lines)
    if "enddocs" not in text:
        return [], lines
    starts = list(accumulate((len(line) + 1 for line in lines), initial=0))  # offset of each line
    passages: list[Passage] = []
    for match in DOCS_BLOCK.finditer(text):
        first = bisect_right(starts, match.start()) - 1
        last = bisect_right(starts, match.end() - 1) - 1
        body_start, body_end = match.span(2)
        body = [text[max(starts[i], body_start) : max(min(starts[i + 1] - 1, body_end), body_start)]
                for i in range(first, last + 1)]
        passages.extend(
            replace(p, start_line=p.start_line + first, end_line=p.end_line + first)
            for p in passages_for(body, 0, len(body) - 1, f"docs.{match.group(1)}", max_chars=max_chars)
        )
    blanked = DOCS_BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")
    return passages, blanked
