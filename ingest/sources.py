"""Finding corpus files and fingerprinting them: what a run could index, before anything is parsed."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ingest.chunking import MAX_CHUNK_CHARS
from ingest.dbt_docs import DOC_REF
from ingest.errors import DocumentError, IngestError

logger = logging.getLogger(__name__)

# Part of every fingerprint: bump it when parsing or chunking changes what a file turns into, so the next
# run re-indexes files whose bytes did not change.
CHUNKER_VERSION = f"9:{MAX_CHUNK_CHARS}"  # 8: flow-style YAML mappings kept; 9: HTML header rows marked


@dataclass(frozen=True)
class SourceFile:
    root: Path
    path: Path

    @property
    def rel(self) -> str:
        """The file's path relative to its corpus root: its id in the index and in citations."""
        return self.path.relative_to(self.root).as_posix()


@dataclass
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # e.g. links that lead out of the corpus folder


def discover(roots: Iterable[Path]) -> Discovery:
    """Every non-hidden file under the roots, in a stable order.

    Symbolic links are followed only when they stay inside their corpus folder; a linked folder inside
    it is not walked again (its files are found under their real path).
    """
    found = Discovery()
    for root in roots:
        if not root.exists():
            raise IngestError(f"Corpus folder {root} does not exist. Fix corpus.paths in the config or pass a folder.")
        if not root.is_dir():
            raise IngestError(f"{root} is a file; 'finbot ingest' takes corpus folders.")
        real_root = root.resolve()
        for path in _walk(root):
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    found.skipped.append(rel)
                    logger.warning("skipped %s: a link to %s, outside the corpus folder %s", rel, target, root)
                    continue
                if target.is_dir():
                    continue
            if path.is_file():
                found.files.append(SourceFile(root, path))
    return found


def _walk(root: Path) -> Iterator[Path]:
    """Files and links under root, sorted, skipping hidden names and never descending into links."""
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        linked_dirs = [d for d in dirs if (base / d).is_symlink()]
        dirs[:] = [d for d in dirs if d not in linked_dirs]
        for name in sorted([*files, *linked_dirs]):
            if not name.startswith("."):
                yield base / name


def fingerprint(source: SourceFile, max_bytes: int, doc_blocks: Mapping[str, str] | None = None) -> str:
    """sha256 of what the file's chunks are made of, after the size checks.

    That is its bytes, the chunker version, and the text of the dbt docs blocks it references with
    `{{ doc('name') }}`: editing a docs block re-indexes the YAML files that quote it.
    """
    try:
        size = source.path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                source.path,
                f"is {_megabytes(size)}, over the {_megabytes(max_bytes)} limit "
                "(corpus.max_file_mb); split the file or raise the limit",
            )
        data = source.path.read_bytes()
    except OSError as exc:
        raise DocumentError(source.path, f"cannot read file ({exc.strerror})") from exc
    if not data.strip():
        raise DocumentError(source.path, "is empty; add content or delete the file")
    digest = hashlib.sha256(data)
    digest.update(f"\0{CHUNKER_VERSION}".encode())
    if doc_blocks and b"doc(" in data:
        for name in sorted(set(DOC_REF.findall(data.decode("utf-8", "replace")))):
            digest.update(f"\0{name}\0{doc_blocks.get(name, '')}".encode())
    return digest.hexdigest()


def _megabytes(size: int) -> str:
    """Enough digits that a size just over the limit never reads as equal to it (0.108011 MB, 20.0412 MB)."""
    return f"{size / 1_000_000:.6g} MB"
