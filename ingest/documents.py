"""What every loader returns and shares: the parsed document, the run-wide context, reading text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.chunking import Passage
from ingest.errors import DocumentError


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    passages: list[Passage]
    front_matter: dict[str, Any]


@dataclass(frozen=True)
class LoadContext:
    """What one file's loader may know about the rest of the corpus (built once per ingest run)."""

    doc_blocks: Mapping[str, str] = field(default_factory=dict)  # dbt `{% docs name %}` text by name


def read_text(path: Path) -> str:
    """The file as UTF-8 text, or a DocumentError that says why not."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, f"cannot read file ({exc.strerror})") from exc
    if b"\x00" in data[:8192]:
        raise DocumentError(path, "looks binary (contains NUL bytes); remove it from the corpus or convert it to text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(path, f"line {line}: not valid UTF-8; re-save the file as UTF-8") from exc


def title_from_name(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize()
