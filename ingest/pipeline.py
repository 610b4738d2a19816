"""Corpus folders -> sync plan -> passages -> embedded nodes -> Chroma, a group of files at a time."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingest import keyword_index, line_map, store
from ingest.errors import DocumentError, IngestError
from ingest.loaders import LOADERS, LoadContext, build_context, load_document
from ingest.sources import SourceFile, discover
from ingest.sync import Plan, make_plan

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.schema import TextNode

logger = logging.getLogger(__name__)

# The first folder under a corpus root says what kind of document a file is.
DOC_TYPE_BY_FOLDER = {"metrics": "metric", "reports": "report", "policies": "policy"}

DEFAULT_MAX_BYTES = 20_000_000

# Files are parsed, embedded and written in groups of about this many chunks: memory stays flat on a
# large corpus, and a killed run loses at most one group's work.
WRITE_BATCH_CHUNKS = 512

Progress = Callable[[str, int], None]  # called with (path, chunks written) after each file


@dataclass
class IngestReport:
    scanned: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: list[str] = field(default_factory=list)  # unsupported formats and links out of the corpus
    failed: list[DocumentError] = field(default_factory=list)  # their old chunks stay in the index
    chunks: int = 0  # chunks written by this run
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def plan(roots: Sequence[Path], index: store.ChunkIndex | None, max_bytes: int = DEFAULT_MAX_BYTES) -> Plan:
    """Compare the corpus folders with the index (reads files and chunk metadata, writes nothing)."""
    discovery = discover(roots)
    indexed = index.files() if index else {}
    if not discovery.files and indexed:
        folders = ", ".join(str(root) for root in roots)
        raise IngestError(
            f"Found no files under {folders}, but the index holds {len(indexed)}; refusing to delete them all. "
            "Check the folders (an unmounted volume?); to empty the index on purpose, delete index.path "
            "or the collection."
        )
    # dbt `{% docs %}` blocks, corpus-wide: a YAML file's chunks (and fingerprint) include the ones it references.
    context = build_context(source.path for source in discovery.files)
    todo = make_plan(discovery.files, indexed, frozenset(LOADERS), max_bytes, context)
    todo.scanned += len(discovery.skipped)
    todo.skipped += discovery.skipped
    return todo


def doc_type_of(rel: str, declared: object = None) -> str:
    if isinstance(declared, str) and declared in store.DOC_TYPES:
        return declared
    return DOC_TYPE_BY_FOLDER.get(rel.split("/", 1)[0], "other")


def build_nodes(source: SourceFile, context: LoadContext | None = None, fingerprint: str = "") -> list[TextNode]:
    """Parse one file into nodes carrying the citation and sync metadata (not yet embedded)."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    doc = load_document(source.path, context)
    if not doc.passages:
        raise DocumentError(source.path, "has no text to index; add content or delete the file")
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
            store.FILE_FINGERPRINT: fingerprint,
            store.FILE_CHUNKS: len(doc.passages),
        }
        if passage.page is not None:  # Chroma metadata cannot hold None
            metadata[store.PAGE] = passage.page
        if passage.line_map is not None:
            metadata[store.LINE_MAP] = line_map.encode(passage.line_map)
        if isinstance(status := doc.front_matter.get("status"), str):
            metadata[store.STATUS] = status.strip().lower()
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


def embed_nodes(nodes: Sequence[TextNode], embed_model: BaseEmbedding) -> None:
    """Embed title + section + text of each node in place.

    Texts go to the model sorted by length, so each batch pads to similar lengths (SentenceTransformer.encode
    sorts its own input, but llama-index hands it one batch at a time).
    """
    from llama_index.core.schema import MetadataMode

    texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = embed_model.get_text_embedding_batch([texts[i] for i in order])
    for i, vector in zip(order, vectors, strict=True):
        nodes[i].embedding = vector


def apply(
    todo: Plan,
    index: store.ChunkIndex,
    embed_model: BaseEmbedding | None,
    progress: Progress | None = None,
    keyword_dir: Path | None = None,
) -> IngestReport:
    """Carry out a plan: delete vanished files, then parse, embed and replace each changed file.

    embed_model may be None only when the plan has no changes to embed. The collection's generation stamp
    moves on before the first write and after the last, so a BM25 index built in between (or before a
    killed run) is seen as stale; with `keyword_dir`, the persisted BM25 index is rebuilt when stale.
    """
    started = time.perf_counter()
    report = IngestReport(
        scanned=todo.scanned, unchanged=len(todo.unchanged), skipped=list(todo.skipped), failed=list(todo.failed)
    )
    if todo.writes:
        store.mark_changed(index)
    for path in todo.delete:
        index.delete_document(path)
        report.deleted += 1
        logger.info("deleted %s (gone from the corpus)", path)
    added = {change.source.rel for change in todo.add}
    batch: list[tuple[SourceFile, list[TextNode]]] = []

    def write_batch() -> None:
        """Embed one group of files, then replace each file's chunks whole (delete, then add)."""
        if embed_model is None:
            raise ValueError("apply() needs an embedding model when the plan has changes")
        embed_nodes([node for _, nodes in batch for node in nodes], embed_model)
        for source, nodes in batch:
            index.delete_document(source.rel)
            index.add(nodes)
            if source.rel in added:
                report.added += 1
            else:
                report.updated += 1
            report.chunks += len(nodes)
            logger.info("indexed %s (%d chunks)", source.rel, len(nodes))
            if progress:
                progress(source.rel, len(nodes))
        batch.clear()

    for change in todo.changes:
        try:
            batch.append((change.source, build_nodes(change.source, todo.context, change.fingerprint)))
        except Exception as exc:  # one pathological file (say, 5,000 levels of nesting) must not stop the run
            error = exc if isinstance(exc, DocumentError) else unparseable(change.source, exc)
            report.failed.append(error)
            logger.error("failed %s: %s", change.source.rel, error.reason)
            if progress:
                progress(change.source.rel, 0)
        if sum(len(nodes) for _, nodes in batch) >= WRITE_BATCH_CHUNKS:
            write_batch()
    if batch:
        write_batch()
    if todo.writes:
        store.mark_changed(index)
    if keyword_dir is not None:
        keyword_index.sync(index, keyword_dir)
    report.seconds = time.perf_counter() - started
    return report


def unparseable(source: SourceFile, exc: Exception) -> DocumentError:
    """A loader's unexpected exception as a one-line error (the traceback goes to the debug log)."""
    logger.debug("parsing %s failed", source.rel, exc_info=exc)
    return DocumentError(
        source.path, f"could not be parsed ({type(exc).__name__}: {str(exc)[:120]}); fix or remove the file"
    )


def run(
    roots: Sequence[Path],
    index: store.ChunkIndex,
    embed_model: BaseEmbedding,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
    keyword_dir: Path | None = None,
) -> IngestReport:
    """Sync the index with the corpus folders: index new and changed files, drop vanished ones."""
    started = time.perf_counter()
    report = apply(plan(roots, index, max_bytes), index, embed_model, progress, keyword_dir)
    report.seconds = time.perf_counter() - started
    return report

