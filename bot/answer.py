"""A question in, an `Answer` out: retrieve cited passages, then compose the reply."""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bot import compose
from bot.errors import QuestionError
from ingest import store

if TYPE_CHECKING:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import NodeWithScore

    from bot.config import Config

logger = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Source:
    """One cited passage; `n` is its [n] marker in the answer text."""

    n: int
    path: str
    section: str | None
    start_line: int | None
    end_line: int | None
    score: float
    snippet: str
    text: str  # the whole passage, for composing; not part of the JSON
    page: int | None = None  # PDFs: the page, cited instead of the lines of its extracted text

    def citation(self) -> str:
        lines = f" p.{self.page}" if self.page else f":{self.start_line}-{self.end_line}" if self.start_line else ""
        section = f" ({self.section})" if self.section else ""
        return f"[{self.n}] {self.path}{lines}{section}"


@dataclass(frozen=True)
class Answer:
    id: str
    question: str
    text: str
    abstained: bool
    sources: list[Source]

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape, shared by `finbot ask --json` and POST /v1/ask."""
        sources = []
        for source in self.sources:
            fields = asdict(source)
            del fields["text"]
            sources.append(fields)
        return {"answer": self.text, "abstained": self.abstained, "sources": sources}


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

    def __init__(self, index: VectorStoreIndex, chunks: store.ChunkIndex, top_k: int, min_score: float) -> None:
        self.index = index
        self.chunks = chunks
        self.top_k = top_k
        self.min_score = min_score

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        question = clean_question(question)
        started = time.perf_counter()
        hits = self.index.as_retriever(similarity_top_k=top_k or self.top_k).retrieve(question)
        sources = [to_source(n, hit) for n, hit in enumerate(hits, start=1)]
        abstained = not sources or sources[0].score < self.min_score
        text = compose.abstention(sources, self.min_score) if abstained else compose.extractive(sources)
        answer = Answer(uuid.uuid4().hex[:12], question, text, abstained, sources)
        logger.info(
            "answer %s in %.0f ms, abstained=%s, top=%s",
            answer.id, (time.perf_counter() - started) * 1000, abstained,
            ", ".join(f"{s.path}:{s.score:.2f}" for s in sources[:3]),
        )
        return answer


def to_source(n: int, hit: NodeWithScore) -> Source:
    meta = hit.node.metadata
    text = hit.node.get_content()
    return Source(
        n=n,
        path=str(meta.get(store.PATH, "")),
        section=meta.get(store.SECTION) or None,
        start_line=meta.get(store.START_LINE) or None,
        end_line=meta.get(store.END_LINE) or None,
        score=round(cosine_similarity(hit.score), 4),
        snippet=compose.snippet(text),
        text=text,
        page=meta.get(store.PAGE) or None,
    )


def cosine_similarity(chroma_score: float | None) -> float:
    """llama-index's Chroma store reports exp(-distance); with cosine distance that is exp(cos - 1)."""
    if not chroma_score:
        return 0.0
    return 1.0 + math.log(chroma_score)


def load_answerer(config: Config) -> Answerer:
    """Open the configured index with its embedding model (raises IndexMissingError before ingest)."""
    from llama_index.core import VectorStoreIndex

    chunks = store.open_index(
        config.index.path, config.index.collection, config.embedding.model, create=False, server=config.index.server()
    )
    embed_model = store.load_embed_model(config.embedding.model, config.embedding.batch_size)
    index = VectorStoreIndex.from_vector_store(chunks.vector_store, embed_model=embed_model)
    return Answerer(index, chunks, config.retrieval.top_k, config.retrieval.min_score)
