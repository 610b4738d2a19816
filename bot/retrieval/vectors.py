"""Vector search: the question embedded, then Chroma asked for the nearest chunks by cosine distance.

The one vector search of CLI, HTTP, Slack and eval. It talks to the Chroma collection directly with
`query_embeddings` instead of through llama-index's VectorStoreIndex: the same query and the same results,
without importing llama-index (2-3 s) in a one-shot `finbot ask`. Ingest still writes through llama-index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ingest import store

if TYPE_CHECKING:
    import chromadb

    from ingest.onnx_embedder import Embedder


@dataclass(frozen=True)
class VectorHit:
    id: str
    text: str
    metadata: dict[str, Any]  # the chunk's own metadata (the citation keys of ingest/store.py)
    similarity: float  # cosine similarity to the question


@dataclass
class VectorSearch:
    """Nearest chunks of one collection to a question, by cosine similarity (the collection's HNSW space)."""

    collection: chromadb.Collection
    embed_model: Embedder

    def search(self, question: str, depth: int, ids: list[str] | None = None) -> list[VectorHit]:
        """Up to `depth` chunks, best first; only among `ids` when given."""
        return self.search_many([question], depth, ids)[0]

    def search_many(self, questions: Sequence[str], depth: int, ids: list[str] | None = None) -> list[list[VectorHit]]:
        """search() for each question, embedded in one batch and asked of Chroma in one query: the asks of a
        multi-part question cost about one search, not one each."""
        if len(questions) == 1:
            vectors: list[Sequence[float]] = [self.embed_model.get_query_embedding(questions[0])]
        else:
            vectors = list(self.embed_model.get_text_embedding_batch(list(questions)))
        found = self.collection.query(
            query_embeddings=vectors, n_results=depth, ids=ids, include=["documents", "metadatas", "distances"]
        )
        results = []
        for n in range(len(questions)):
            rows = zip(
                found["ids"][n], (found["documents"] or [])[n], (found["metadatas"] or [])[n],
                (found["distances"] or [])[n], strict=True,
            )
            results.append([
                VectorHit(chunk_id, text or "", store.node_metadata(meta), cosine_similarity(distance))
                for chunk_id, text, meta, distance in rows
            ])
        return results


def cosine_similarity(distance: float) -> float:
    """1 - cosine distance, computed as it was through llama-index (exp(-d), then 1 + log of it), so every
    score and every tie comes out bit-for-bit as before."""
    score = math.exp(-distance)
    return 1.0 + math.log(score) if score else 0.0
