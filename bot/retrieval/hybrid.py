"""Hybrid retrieval: vector search (Chroma) and BM25, fused by relative score (or reciprocal rank), boosted
by the glossary, then ranked by document.

Each stage's rank and score stay on the candidate, so `finbot ask --explain` can show why a source won.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.retrieval.columns import ColumnCheck
from bot.retrieval.glossary import Glossary, GlossaryHit, build_glossary
from bot.retrieval.vectors import VectorSearch
from bot.retrieval.words import typos_repaired, words_of
from ingest import keyword_index, store
from ingest.keyword_index import Chunk, KeywordIndex

if TYPE_CHECKING:
    import numpy as np

    from ingest.onnx_embedder import Embedder

logger = logging.getLogger(__name__)

Mode = Literal["vector", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("vector", "bm25", "hybrid")
Fusion = Literal["relative_score", "reciprocal_rank"]

# relative_score (the default; llama-index's QueryFusionRetriever has the same mode): each list's scores
# scaled to 0-1 (cosine similarity min-max over the vector hits; BM25 over the best BM25 score, since 0
# means no match), then VECTOR_SHARE of one plus the rest of the other, plus RELATIVE_GLOSSARY x the
# glossary weight. It keeps how far ahead a hit is, which ranks throw away: an account number only BM25
# finds, far ahead of its runner-up, still comes first. Chosen on the golden dev split against RRF.
VECTOR_SHARE = 0.3
RELATIVE_GLOSSARY = 0.5
# reciprocal_rank: a list contributes 1 / (RRF_K + rank); 60 is the usual constant.
RRF_K = 60
# A glossary hit of weight 1 counts as this many first places (it names the entity outright).
GLOSSARY_WEIGHT = 1.0
# A superseded or archived document (front matter `status:`) keeps this share of its fused score: it still
# answers when nothing current does, but the policy in force comes first.
RETIRED_FACTOR = 0.5
# Weaker hits (a word most of the corpus uses, like an alias "revenue") are hints too vague to boost on.
MIN_GLOSSARY_WEIGHT = 0.2
# Each stage proposes this many candidates per source cited, so fusion has something to reorder.
CANDIDATES_PER_SOURCE = 4
MIN_CANDIDATES = 20
# How often a running answerer asks Chroma whether ingest has changed the index (seconds).
REFRESH_SECONDS = 2.0
# Documents compete for the first place, not chunks: a document scores its best passage's fused score plus
# SUPPORT times its next SUPPORT_PASSAGES best (each counting SUPPORT_DECAY of the one before), so a policy
# with three matching sections outranks a glossary line that matches once. Chosen on the golden dev split.
SUPPORT = 0.1
SUPPORT_DECAY = 0.6
SUPPORT_PASSAGES = 3
# A document is cited only when it scores at least this share of the first one: the rest are noise.
SOURCE_FLOOR = 0.7


@dataclass(frozen=True)
class Filters:
    """Restrict the sources: by doc_type (metric, report, policy, other) and by path prefix."""

    doc_type: str | None = None
    path_prefix: str | None = None

    def __bool__(self) -> bool:
        return bool(self.doc_type or self.path_prefix)

    def allows(self, chunk: Chunk) -> bool:
        if self.doc_type and chunk.doc_type != self.doc_type:
            return False
        return not self.path_prefix or chunk.path.startswith(self.path_prefix)


@dataclass
class Candidate:
    chunk: Chunk
    vector_rank: int | None = None
    similarity: float | None = None  # cosine similarity to the question
    bm25_rank: int | None = None
    bm25_score: float | None = None
    glossary: GlossaryHit | None = None
    glossary_weight: float = 0.0
    vector_scaled: float = 0.0  # 0-1 within this question's vector hits (relative_score fusion)
    bm25_scaled: float = 0.0  # 0-1 of this question's best BM25 score
    fused: float = 0.0
    support: float = 0.0  # what the document's other matching passages add (see SUPPORT)

    @property
    def score(self) -> float:
        """The document's score, carried by its best passage: fused plus the support of the others."""
        return self.fused + self.support

    def fuse(self, use_vector: bool, use_bm25: bool, fusion: Fusion) -> float:
        if fusion == "relative_score":
            vector_share = VECTOR_SHARE if use_vector and use_bm25 else float(use_vector)
            score = vector_share * self.vector_scaled + (1 - vector_share) * self.bm25_scaled
            score += RELATIVE_GLOSSARY * self.glossary_weight
        else:
            score = 0.0
            if use_vector and self.vector_rank:
                score += 1 / (RRF_K + self.vector_rank)
            if use_bm25 and self.bm25_rank:
                score += 1 / (RRF_K + self.bm25_rank)
            score += GLOSSARY_WEIGHT * self.glossary_weight / (RRF_K + 1)
        if self.chunk.metadata.get(store.STATUS) in store.RETIRED_STATUSES:
            score *= RETIRED_FACTOR
        self.fused = score
        return score


@dataclass
class Retrieval:
    """What retrieval found for one question: ranked candidates and the signals confidence reads."""

    candidates: list[Candidate]
    hits: list[GlossaryHit]
    best_similarity: float | None  # the best cosine similarity vector search found (None in bm25 mode)
    coverage: float  # IDF-weighted share of the question's words found in the cited chunks (0-1)
    words: list[str] = field(default_factory=list)  # the question's words as BM25 reads them
    # A column question about a named report: the share of what it asks for that the report holds (else 1).
    column_coverage: float = 1.0


class HybridRetriever:
    """Vector + BM25 + glossary over one index; reloads BM25 and the glossary when ingest changes the index."""

    def __init__(
        self, chunks: store.ChunkIndex, index: VectorSearch | None, keyword_folder: Path | None,
        mode: Mode = "hybrid", use_glossary: bool = True, fusion: Fusion = "relative_score",
    ) -> None:
        self.chunks = chunks
        self.index = index
        self.keyword_folder = keyword_folder
        self.mode = mode
        self.use_glossary = use_glossary
        self.fusion = fusion
        self._lock = threading.Lock()
        self._checked = 0.0
        self._keyword = keyword_index.load(chunks, keyword_folder)
        self._glossary = build_glossary(self._keyword)
        self._columns = ColumnCheck(self._keyword)

    @property
    def generation(self) -> str:
        return self._keyword.generation

    def current(self) -> tuple[KeywordIndex, Glossary]:
        """The BM25 index and glossary, reloaded when the collection's generation moved (checked every few s)."""
        now = time.monotonic()
        if now - self._checked >= REFRESH_SECONDS:
            with self._lock:
                if now - self._checked >= REFRESH_SECONDS:
                    self._checked = now
                    if store.generation(self.chunks.collection) != self._keyword.generation:
                        logger.info("the index changed since BM25 was loaded; reloading it")
                        self._keyword = keyword_index.load(self.chunks, self.keyword_folder)
                        self._glossary = build_glossary(self._keyword)
                        self._columns = ColumnCheck(self._keyword)
        return self._keyword, self._glossary

    def retrieve(self, question: str, top_k: int, filters: Filters | None = None) -> Retrieval:
        """The ranked passages for one question."""
        return self.retrieve_many([question], top_k, filters)[0]

    def retrieve_many(self, questions: Sequence[str], top_k: int, filters: Filters | None = None) -> list[Retrieval]:
        """The ranked passages for each question (the asks of one question), from one snapshot of the index;
        their vector searches are embedded in one batch and sent to Chroma as one query."""
        keyword, glossary = self.current()
        filters = filters or Filters()
        named = [self._expanded(q, glossary, keyword, filters) for q in questions]
        searched: list[list[tuple[Chunk, float]] | None] = [None] * len(questions)
        if self.mode != "bm25" and len(questions) > 1:
            depth = max(MIN_CANDIDATES, top_k * CANDIDATES_PER_SOURCE)
            searched = list(self._query_many([e for _, e in named], depth if not filters else depth * 2))
        return [
            self._retrieve(q, hits, expanded, top_k, filters, keyword, glossary, first)
            for q, (hits, expanded), first in zip(questions, named, searched, strict=True)
        ]

    def _retrieve(
        self, question: str, hits: list[GlossaryHit], expanded: str, top_k: int, filters: Filters,
        keyword: KeywordIndex, glossary: Glossary, searched: list[tuple[Chunk, float]] | None,
    ) -> Retrieval:
        """One question's ranked passages; `searched`: its vector search's first query, when already run."""
        depth = max(MIN_CANDIDATES, top_k * CANDIDATES_PER_SOURCE)
        use_vector, use_bm25 = self.mode != "bm25", self.mode != "vector"

        by_id: dict[str, Candidate] = {}
        best_similarity = None
        if use_vector:
            vector_hits = self._vector_search(expanded, depth, filters, keyword, searched)
            best_similarity = vector_hits[0][1] if vector_hits else None
            for rank, (chunk, similarity) in enumerate(vector_hits, start=1):
                by_id.setdefault(chunk.id, Candidate(chunk))
                by_id[chunk.id].vector_rank, by_id[chunk.id].similarity = rank, similarity
        words = keyword.tokens(question)
        all_bm25 = None
        if use_bm25:
            bm25_hits, all_bm25 = _bm25_search(keyword, typos_repaired(keyword, expanded), depth, filters)
            for rank, (position, score) in enumerate(bm25_hits, start=1):
                chunk = keyword.chunks[position]
                by_id.setdefault(chunk.id, Candidate(chunk))
                by_id[chunk.id].bm25_rank, by_id[chunk.id].bm25_score = rank, score
        for chunk_id, (weight, hit) in glossary.chunk_weights(hits).items():
            at = keyword.position(chunk_id)
            if at is None or not filters.allows(keyword.chunks[at]):
                continue
            candidate = by_id.setdefault(chunk_id, Candidate(keyword.chunks[at]))
            candidate.glossary, candidate.glossary_weight = hit, weight
            if all_bm25 is not None and candidate.bm25_rank is None and all_bm25[at] > 0:
                # The chunk the question names, past BM25's depth (a common name like "MRR" is in many
                # chunks): it keeps the BM25 score and rank it has, rather than none.
                candidate.bm25_score = float(all_bm25[at])
                candidate.bm25_rank = 1 + int((all_bm25 > all_bm25[at]).sum())

        scale_scores(list(by_id.values()))
        for candidate in by_id.values():
            candidate.fuse(use_vector, use_bm25, self.fusion)
        ranked = rank_documents(list(by_id.values()), top_k)
        columns = self._columns if self._columns.keyword is keyword else ColumnCheck(keyword)
        return Retrieval(
            ranked, hits, best_similarity, coverage(keyword, words, ranked), words,
            columns.coverage(question, words, hits),
        )

    def _expanded(
        self, question: str, glossary: Glossary, keyword: KeywordIndex, filters: Filters
    ) -> tuple[list[GlossaryHit], str]:
        """The glossary entries the question names, and the question with their expansion (what is searched)."""
        hits = glossary.match(question) if self.use_glossary else []
        hits = [h for h in hits if h.weight >= MIN_GLOSSARY_WEIGHT and _entity_allowed(h, keyword, filters)]
        return hits, f"{question} ({extra})" if (extra := Glossary.expansion(hits)) else question

    def _vector_search(
        self, question: str, depth: int, filters: Filters, keyword: KeywordIndex,
        searched: list[tuple[Chunk, float]] | None = None,
    ) -> list[tuple[Chunk, float]]:
        """(chunk, cosine similarity) best first. Filters are applied after an unfiltered query when enough
        results survive; else Chroma is asked again, restricted to the ids that pass (see docs/benchmarks.md)."""
        assert self.index is not None, "vector search needs the vector index"
        results = searched if searched is not None else self._query(question, depth if not filters else depth * 2)
        if filters:
            kept = [(c, s) for c, s in results if filters.allows(c)]
            if len(kept) >= depth // 2 or len(results) < depth * 2:
                return kept
            mask = keyword.mask(filters.doc_type, filters.path_prefix)
            allowed = [keyword.chunks[int(i)].id for i in mask.nonzero()[0]]
            return self._query(question, depth, allowed) if allowed else []
        return results

    def _query(self, question: str, depth: int, ids: list[str] | None = None) -> list[tuple[Chunk, float]]:
        return self._query_many([question], depth, ids)[0]

    def _query_many(
        self, questions: Sequence[str], depth: int, ids: list[str] | None = None
    ) -> list[list[tuple[Chunk, float]]]:
        assert self.index is not None
        keyword = self._keyword
        results = []
        for hits in self.index.search_many(questions, depth, ids):
            found = []
            for hit in hits:
                position = keyword.position(hit.id)
                chunk = keyword.chunks[position] if position is not None else Chunk(hit.id, hit.text, hit.metadata)
                found.append((chunk, hit.similarity))
            results.append(found)
        return results


def scale_scores(candidates: list[Candidate]) -> None:
    """Each list's scores to 0-1 for relative_score fusion: similarity min-max over the vector hits, BM25
    as a share of the best BM25 score. A candidate a list did not find gets 0 from it."""
    similarities = [c.similarity for c in candidates if c.similarity is not None]
    low, high = (min(similarities), max(similarities)) if similarities else (0.0, 1.0)
    best_bm25 = max((c.bm25_score or 0.0 for c in candidates), default=0.0)
    for c in candidates:
        if c.similarity is not None:
            c.vector_scaled = (c.similarity - low) / (high - low) if high > low else 1.0
        c.bm25_scaled = (c.bm25_score or 0.0) / best_bm25 if best_bm25 > 0 else 0.0


def rank_documents(candidates: list[Candidate], top_k: int) -> list[Candidate]:
    """The best passage of each document, best document first: at most top_k, none below SOURCE_FLOOR."""
    passages: dict[str, list[Candidate]] = {}
    for candidate in sorted(candidates, key=lambda c: -c.fused):
        passages.setdefault(candidate.chunk.path, []).append(candidate)
    best = []
    for lead, *others in passages.values():
        lead.support = SUPPORT * sum(c.fused * SUPPORT_DECAY**n for n, c in enumerate(others[:SUPPORT_PASSAGES]))
        best.append(lead)
    best.sort(key=lambda c: -c.score)
    return [c for c in best[:top_k] if c.score >= SOURCE_FLOOR * best[0].score] if best else []


def _entity_allowed(hit: GlossaryHit, keyword: KeywordIndex, filters: Filters) -> bool:
    position = keyword.position(hit.entity.chunk_ids[0])
    return position is not None and filters.allows(keyword.chunks[position])


def _bm25_search(
    keyword: KeywordIndex, words: list[str], depth: int, filters: Filters
) -> tuple[list[tuple[int, float]], np.ndarray | None]:
    """(chunk position, BM25 score) best first, only chunks that pass the filters and score above 0; and
    every chunk's score (filtered out: 0), for chunks found another way."""
    import numpy as np

    scores: np.ndarray = keyword.scores(words)
    if not len(scores) or not scores.any():
        return [], None
    if filters:
        scores = np.where(keyword.mask(filters.doc_type, filters.path_prefix), scores, 0.0)
    depth = min(depth, len(scores))
    top = np.argpartition(-scores, depth - 1)[:depth]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(i), float(scores[i])) for i in top if scores[i] > 0], scores


def coverage(keyword: KeywordIndex, words: list[str], candidates: list[Candidate]) -> float:
    """IDF-weighted share of the question's distinct words that the retrieved chunks contain (loosely:
    "calc" and "recievables" count as found where the chunks say "calculated" and "receivables").

    A word the corpus never uses counts with the highest IDF: "crypto" in a question about a corpus
    without it is the strongest sign the documents don't cover the question.
    """
    distinct = list(dict.fromkeys(words))
    return words_of(keyword, (c.chunk for c in candidates)).share(distinct, keyword.idf) if distinct else 0.0


def load_vector_index(chunks: store.ChunkIndex, embed_model: Embedder) -> VectorSearch:
    """Vector search over the opened collection, questions embedded by `embed_model` (store.load_embed_model)."""
    return VectorSearch(chunks.collection, embed_model)
