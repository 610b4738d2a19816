"""Read one corpus file into passages that know their section and line range: the loader per suffix.

Markdown and YAML live here; the other formats have a module each (tabular, html, pdf, text, sql) and dbt
YAML is rendered by `ingest.dbt`. `load_document` is the entry point; `LOADERS` says what is supported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from ingest import dbt, html, pdf, sql, tabular, text
from ingest.chunking import MAX_CHUNK_CHARS, passages_for
from ingest.dbt_docs import collect_doc_blocks, split_doc_blocks
from ingest.documents import LoadContext, ParsedDocument, read_text, title_from_name
from ingest.errors import DocumentError
from ingest.markup import clean_lines
from ingest.yaml_tree import YamlPassages, describe_yaml_error, yaml_title

__all__ = [
    "LOADERS", "LoadContext", "ParsedDocument", "build_context", "describe_yaml_error", "load_document",
    "load_markdown", "load_yaml", "read_text",
]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def load_markdown(
    path: Path, context: LoadContext | None = None, *, max_chars: int = MAX_CHUNK_CHARS
) -> ParsedDocument:
    """Split by headings; each passage's section is its heading path ("Policy > Refunds").

    dbt `{% docs name %}` blocks become passages of their own (section `docs.name`).
    """
    lines = read_text(path).splitlines()
    front_matter, body_start = _front_matter(path, lines)
    doc_passages, lines = split_doc_blocks(lines, max_chars)
    lines = lines[:body_start] + clean_lines(lines[body_start:])
    title = str(front_matter.get("title") or "") or None
    headings: list[tuple[int, str]] = []  # the open heading path: (level, text)
    sections: list[tuple[int, str | None]] = [(body_start, None)]  # (first line, section)
    in_fence = False
    for i in range(body_start, len(lines)):
        if _FENCE.match(lines[i]):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(lines[i])
        if not match:
            continue
        level, text = len(match.group(1)), match.group(2)
        if level == 1 and title is None:
            title = text
        while headings and headings[-1][0] >= level:
            headings.pop()
        headings.append((level, text))
        sections.append((i, " > ".join(h for _, h in headings)))
    passages = doc_passages
    for n, (first, section) in enumerate(sections):
        last = sections[n + 1][0] - 1 if n + 1 < len(sections) else len(lines) - 1
        if _has_body(lines, first, last):
            passages.extend(passages_for(lines, first, last, section, max_chars=max_chars))
    passages.sort(key=lambda p: p.start_line)
    return ParsedDocument(title or title_from_name(path), passages, front_matter)


def _has_body(lines: list[str], first: int, last: int) -> bool:
    """A section that holds only its heading (a parent of subsections) is not worth a passage."""
    return any(line.strip() and not _HEADING.match(line) for line in lines[first : last + 1])


def _front_matter(path: Path, lines: list[str]) -> tuple[dict[str, Any], int]:
    """YAML (`---`) or TOML (`+++`, Hugo's) front matter, and the index of the first body line."""
    fence = lines[0].strip() if lines else ""
    if fence not in ("---", "+++"):
        return {}, 0
    closers = ("---", "...") if fence == "---" else ("+++",)
    for end in range(1, len(lines)):
        if lines[end].strip() in closers:
            break
    else:
        raise DocumentError(
            path, f"line 1: front matter opened with '{fence}' is never closed; add a closing '{fence}'"
        )
    block = "\n".join(lines[1:end])
    if fence == "+++":
        import tomllib

        try:
            return tomllib.loads(block), end + 1
        except tomllib.TOMLDecodeError as exc:
            raise DocumentError(path, f"invalid TOML front matter: {exc}; fix it or remove the block") from exc
    try:
        data = yaml.safe_load(block) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(path, f"invalid YAML front matter: {describe_yaml_error(exc, offset=1)}") from exc
    if not isinstance(data, dict):
        raise DocumentError(path, "line 2: front matter must be a mapping of keys (title: ..., owner: ...)")
    return data, end + 1


def load_yaml(
    path: Path, context: LoadContext | None = None, *, max_chars: int = MAX_CHUNK_CHARS
) -> ParsedDocument:
    """dbt YAML rendered by meaning (`ingest.dbt`); any other YAML one passage per named item.

    Either way a passage's section is its key path (`models.rpt_payouts.columns.arrival_date`).
    """
    text = read_text(path)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        problem = describe_yaml_error(exc)
        raise DocumentError(path, f"invalid YAML: {problem}. Fix the syntax; the file was not indexed") from exc
    if root is None:
        return ParsedDocument(title_from_name(path), [], {})
    lines = text.splitlines()
    if isinstance(root, yaml.MappingNode) and dbt.is_dbt(root):
        doc_blocks = context.doc_blocks if context else {}
        passages = list(dbt.DbtPassages(lines, max_chars, doc_blocks).walk(root))
    else:
        passages = list(YamlPassages(lines, max_chars).walk(root, []))
    return ParsedDocument(yaml_title(root) or title_from_name(path), passages, {})


Loader = Callable[[Path, LoadContext | None], ParsedDocument]

LOADERS: dict[str, Loader] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".yaml": load_yaml,
    ".yml": load_yaml,
    ".json": tabular.load_json,
    ".csv": tabular.load_csv,
    ".tsv": tabular.load_csv,
    ".html": html.load_html,
    ".htm": html.load_html,
    ".pdf": pdf.load_pdf,
    ".txt": text.load_text,
    ".sql": sql.load_sql,
}


def build_context(paths: Iterable[Path]) -> LoadContext:
    """What loaders need to know about the whole corpus (dbt docs blocks), gathered once per run."""
    return LoadContext(doc_blocks=collect_doc_blocks(paths))


def load_document(path: Path, context: LoadContext | None = None) -> ParsedDocument:
    """Parse a file with the loader for its suffix (the caller checks `LOADERS` first)."""
    return LOADERS[path.suffix.lower()](path, context)
