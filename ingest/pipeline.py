"""corpus folders -> passages -> embedded nodes -> Chroma, file by file."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import keyword_index, store
from ingest.errors import DocumentError, IngestError
from ingest.loaders import LOADERS, load_document

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.schema import TextNode

logger = logging.getLogger(__name__)

# The first folder under a corpus root says what kind of document a file is.
DOC_TYPE_BY_FOLDER = {"metrics": "metric", "reports": "report", "policies": "policy"}


@dataclass
class IngestReport:
    scanned: int = 0
    indexed: int = 0
    skipped: list[str] = field(default_factory=list)  # unsupported formats, left alone
    failed: list[DocumentError] = field(default_factory=list)  # their old chunks stay in the index
    chunks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class SourceFile:
    root: Path
    path: Path

    @property
    def rel(self) -> str:
        """The file's path relative to its corpus root: its id in the index and in citations."""
        return self.path.relative_to(self.root).as_posix()


def discover(roots: Iterable[Path]) -> list[SourceFile]:
    """Every non-hidden file under the roots, in a stable order."""
    found: list[SourceFile] = []
    for root in roots:
        if not root.exists():
            raise IngestError(f"Corpus folder {root} does not exist. Fix corpus.paths in the config or pass a folder.")
        if not root.is_dir():
            raise IngestError(f"{root} is a file; 'finbot ingest' takes corpus folders.")
        for path in sorted(root.rglob("*")):
            parts = path.relative_to(root).parts
            if path.is_file() and not any(p.startswith(".") for p in parts):
                found.append(SourceFile(root, path))
    return found


def doc_type_of(rel: str, declared: object = None) -> str:
    if isinstance(declared, str) and declared in store.DOC_TYPES:
        return declared
    return DOC_TYPE_BY_FOLDER.get(rel.split("/", 1)[0], "other")


def build_nodes(source: SourceFile) -> list[TextNode]:
    """Parse one file into nodes carrying the citation metadata (not yet embedded)."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    doc = load_document(source.path)
    rel = source.rel
    doc_type = doc_type_of(rel, doc.front_matter.get("doc_type"))
    nodes = []
    for n, passage in enumerate(doc.passages):
        metadata = {
            store.PATH: rel,
            store.TITLE: passage.title or doc.title,
            store.SECTION: passage.section,
            store.START_LINE: passage.start_line,
            store.END_LINE: passage.end_line,
            store.DOC_TYPE: doc_type,
        }
        hidden = [key for key in metadata if key not in store.EMBEDDED_METADATA]
        nodes.append(
            TextNode(
                id_=str(uuid.uuid5(uuid.NAMESPACE_URL, f"finbot:{rel}#{n}")),
                text=passage.text,
                metadata=metadata,
                excluded_embed_metadata_keys=hidden,
                excluded_llm_metadata_keys=hidden,
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=rel)},
            )
        )
    return nodes


def embed_nodes(nodes: Sequence[TextNode], embed_model: BaseEmbedding, progress: bool) -> None:
    """Embed title + section + text of each node in place, in the model's batches."""
    from llama_index.core.schema import MetadataMode

    texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
    vectors = embed_model.get_text_embedding_batch(texts, show_progress=progress)
    for node, vector in zip(nodes, vectors, strict=True):
        node.embedding = vector


def run(
    roots: Sequence[Path], index: store.ChunkIndex, embed_model: BaseEmbedding, *, progress: bool = False,
    keyword_dir: Path | None = None,
) -> IngestReport:
    """Index every supported file under `roots`; a file that fails keeps its previous chunks.

    When the index changed, its generation stamp moves on, and with `keyword_dir` the BM25 keyword
    index there is rebuilt to match (readers rebuild a stale one themselves).
    """
    started = time.perf_counter()
    report = IngestReport()
    parsed: list[tuple[SourceFile, list[TextNode]]] = []
    for source in discover(roots):
        report.scanned += 1
        if source.path.suffix.lower() not in LOADERS:
            report.skipped.append(source.rel)
            logger.info("skipped %s (unsupported format)", source.rel)
            continue
        try:
            parsed.append((source, build_nodes(source)))
        except DocumentError as exc:
            report.failed.append(exc)
            logger.error("failed %s: %s", source.rel, exc.reason)

    embed_nodes([node for _, nodes in parsed for node in nodes], embed_model, progress)
    for source, nodes in parsed:
        # Replace the document whole, so a re-run never duplicates chunks.
        index.delete_document(source.rel)
        index.add(nodes)
        report.indexed += 1
        report.chunks += len(nodes)
        logger.info("indexed %s (%d chunks)", source.rel, len(nodes))
    if report.indexed:
        store.mark_changed(index)
    if keyword_dir is not None:
        keyword_index.load(index, keyword_dir)  # rebuilds and persists only when stale or absent
    report.seconds = time.perf_counter() - started
    return report
