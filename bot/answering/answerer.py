"""A question in, an `Answer` out: retrieve cited passages, then compose the reply."""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

from bot.answering import compose
from bot.answering.answer import Answer, Explain, Source
from bot.answering.confidence import estimate
from bot.answering.figures import Period, asks_for_an_amount, figure_unanswerable, period_asked
from bot.errors import QuestionError
from bot.retrieval.context import widen
from bot.retrieval.hybrid import (
    GLOSSARY_WEIGHT,
    RELATIVE_GLOSSARY,
    RRF_K,
    Candidate,
    Filters,
    HybridRetriever,
    Retrieval,
    load_vector_index,
)
from ingest import store
from ingest.keyword_index import Chunk

if TYPE_CHECKING:
    from bot.config import Config

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000


def clean_question(question: str) -> str:
    """The question stripped, or a QuestionError that says what is wrong with it."""
    question = question.strip()
    if not question:
        raise QuestionError("The question is empty. Ask something, e.g. 'How is ARR calculated?'")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(f"The question is {len(question)} characters long; keep it under {MAX_QUESTION_CHARS}.")
    return question


class Answerer:
    """Answers questions from one opened index; built once per process, shared by CLI, HTTP and Slack."""

    def __init__(
        self, retriever: HybridRetriever, chunks: store.ChunkIndex, top_k: int, min_confidence: float
    ) -> None:
        self.retriever = retriever
        self.chunks = chunks
        self.top_k = top_k
        self.min_confidence = min_confidence

    def ask(
        self, question: str, top_k: int | None = None, *, doc_type: str | None = None, path_prefix: str | None = None
    ) -> Answer:
        """Answer from the best-matching passages; doc_type (metric, report, policy, other) and path_prefix
        restrict which documents may be cited."""
        question = clean_question(question)
        filters = Filters(check_doc_type(doc_type), path_prefix or None)
        started = time.perf_counter()
        found = self.retriever.retrieve(question, top_k or self.top_k, filters)
        confidence = estimate(found)
        period = figure_period(question, found)
        if period:
            confidence = 0.0
        keyword, _ = self.retriever.current()
        scale = max_fused(self.retriever)
        sources = [
            to_source(n, c, scale, widen(c.chunk, keyword) if n <= compose.QUOTED else c.chunk)
            for n, c in enumerate(found.candidates, start=1)
        ]
        abstained = not sources or confidence < self.min_confidence
        if abstained:
            defines_metric = bool(period) and found.candidates[0].chunk.doc_type == "metric"
            text = compose.abstention(sources, confidence, self.min_confidence, period, defines_metric)
        else:
            text = compose.extractive(sources)
        answer = Answer(uuid.uuid4().hex[:12], question, text, abstained, sources, round(confidence, 4))
        logger.info(
            "answer %s in %.0f ms, confidence %.2f, abstained=%s, top=%s",
            answer.id, (time.perf_counter() - started) * 1000, confidence, abstained,
            ", ".join(f"{s.path}:{s.score:.2f}" for s in sources[:3]),
        )
        return answer


def figure_period(question: str, found: Retrieval) -> Period | None:
    """The period a question asks a figure for, when the best source cannot give it (a metric definition,
    or a passage that never mentions the period; see bot/answering/figures.py): the documents hold no such result,
    however well the passage matches."""
    period = period_asked(question)
    if period is None or not found.candidates:
        return None
    top = found.candidates[0].chunk
    asks_an_amount = asks_for_an_amount(question) or any(h.entity.kind == "metric" for h in found.hits)
    unanswerable = figure_unanswerable(period, top.headed_text, top.doc_type == "metric", asks_an_amount)
    return period if unanswerable else None


def check_doc_type(doc_type: str | None) -> str | None:
    if doc_type and doc_type not in store.DOC_TYPES:
        raise QuestionError(f"Unknown document type {doc_type!r}; use one of {', '.join(store.DOC_TYPES)}.")
    return doc_type or None


def max_fused(retriever: HybridRetriever) -> float:
    """The fused score of a chunk first in every list: scores are shown as a share of it."""
    if retriever.fusion == "relative_score":
        return 1.0 + (RELATIVE_GLOSSARY if retriever.use_glossary else 0.0)
    lists = (retriever.mode != "bm25") + (retriever.mode != "vector")
    return (lists + (GLOSSARY_WEIGHT if retriever.use_glossary else 0.0)) / (RRF_K + 1)


def to_source(n: int, candidate: Candidate, scale: float, chunk: Chunk) -> Source:
    hit = candidate.glossary
    explain = Explain(
        vector_rank=candidate.vector_rank,
        similarity=None if candidate.similarity is None else round(candidate.similarity, 4),
        bm25_rank=candidate.bm25_rank,
        bm25_score=None if candidate.bm25_score is None else round(candidate.bm25_score, 4),
        glossary=f"{hit.entity.kind} {hit.entity.name} via {hit.via} '{hit.words}'" if hit else None,
        glossary_weight=round(candidate.glossary_weight, 4),
        vector_scaled=round(candidate.vector_scaled, 4),
        bm25_scaled=round(candidate.bm25_scaled, 4),
        fused=round(candidate.fused, 6),
        support=round(candidate.support, 6),
    )
    return Source(
        n=n,
        path=chunk.path,
        section=chunk.section or None,
        start_line=chunk.start_line or None,
        end_line=chunk.end_line or None,
        score=round(min(1.0, candidate.score / scale), 4) if scale else 0.0,
        snippet=compose.snippet(candidate.chunk.text),
        text=chunk.text,
        page=chunk.metadata.get(store.PAGE) or None,
        explain=explain,
    )


def load_answerer(config: Config) -> Answerer:
    """Open the configured index with its embedding model (raises IndexMissingError before ingest)."""
    from ingest import keyword_index

    retrieval = config.retrieval
    chunks = store.open_index(
        config.index.path, config.index.collection, config.embedding.model, create=False, server=config.index.server()
    )
    index = None
    if retrieval.mode != "bm25":
        embed_model = store.load_embed_model(config.embedding.model, config.embedding.batch_size)
        index = load_vector_index(chunks, embed_model)
    folder = keyword_index.keyword_dir(config.index.path, config.index.collection)
    retriever = HybridRetriever(chunks, index, folder, retrieval.mode, retrieval.glossary, retrieval.fusion)
    return Answerer(retriever, chunks, retrieval.top_k, retrieval.min_confidence)
