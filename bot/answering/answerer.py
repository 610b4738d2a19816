"""A question in, an `Answer` out: retrieve cited passages, then compose the reply."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.answering import compose
from bot.answering.answer import Answer, PartAnswer, Source
from bot.answering.cards import card_spans, entity_chunks_of
from bot.answering.confidence import estimate, signals
from bot.answering.conflicts import find_conflict
from bot.answering.figures import Period, asks_for_an_amount, lines_of_period, needs_a_stated_figure, period_asked
from bot.answering.followups import Turn, borrowed_words
from bot.answering.lead import LeadFinder, SpanKey, pick, span_key
from bot.answering.parts import Part, split_question
from bot.answering.question import clean_question
from bot.answering.sources import Numbering, number_sources
from bot.answering.spans import QuestionWords
from bot.errors import FinbotError, QuestionError
from bot.retrieval.hybrid import Filters, HybridRetriever, Retrieval, load_vector_index
from ingest import store
from ingest.keyword_index import KeywordIndex

if TYPE_CHECKING:
    from bot.answering.written import Writing
    from bot.config import Config
    from bot.values.answer import ValueAnswer, ValueService

logger = logging.getLogger(__name__)

# In an answer to several asks, each ask lists the documents it quotes and its best others, up to this many.
PER_PART_SOURCES = 3


class Answerer:
    """Answers questions from one opened index; built once per process, shared by CLI, HTTP and Slack."""

    def __init__(
        self, retriever: HybridRetriever, chunks: store.ChunkIndex, top_k: int, min_confidence: float,
        values: ValueService | None = None, writing: Writing | None = None,
    ) -> None:
        self.retriever = retriever
        self.chunks = chunks
        self.top_k = top_k
        self.min_confidence = min_confidence
        self.values = values
        self.writing = writing  # answer.mode: llm (bot/answering/written.py); None quotes
        self._leads: LeadFinder | None = None

    def ask(
        self, question: str, top_k: int | None = None, *, doc_type: str | None = None, path_prefix: str | None = None,
        write: bool = True, conversation: Sequence[Turn] = (),
    ) -> Answer:
        """Answer from the best-matching passages; doc_type (metric, report, policy, other) and path_prefix
        restrict which documents may be cited. Each ask of the question is retrieved and answered on its own.
        In LLM mode the model rewrites it unless `write` is False (a stream drafts it separately). A question
        that leans on the `conversation` before it searches with what its latest turn was about."""
        question = clean_question(question)
        filters = Filters(check_doc_type(doc_type), path_prefix or None)
        if self.values is not None and (value := self.values.answer(question)) is not None:
            return value_answer(question, value)
        started = time.perf_counter()
        keyword, glossary = self.retriever.current()
        leads = self.lead_finder(keyword)
        names = lambda text: [h.entity.name for h in glossary.match(text)]  # noqa: E731
        parts = split_question(question, names=names)
        if borrowed := borrowed_words(question, conversation, names):
            parts = [Part(p.text, f"{borrowed} {p.query}") for p in parts]
        k = top_k or self.top_k
        answered: list[PartAnswer] = []
        quoted: frozenset[SpanKey] = frozenset()
        retrieved = self.retriever.retrieve_many([p.searched[0] for p in parts], k, filters)
        for part, found in zip(parts, retrieved, strict=True):
            answered.append(self.answer_part(part, k, filters, leads, quoted, found))
            quoted |= {span_key(s.span) for s in answered[-1].lead}
        answer = self.compose(question, answered, keyword, k)
        if self.writing is not None and write:
            answer = self.writing.rewrite(answer)
        logger.info(
            "answer %s in %.0f ms, %d part(s), confidence %.2f, abstained=%s, top=%s",
            answer.id, (time.perf_counter() - started) * 1000, len(parts), answer.confidence, answer.abstained,
            ", ".join(f"{s.path}:{s.score:.2f}" for s in answer.sources[:3]),
        )
        return answer

    def answer_part(
        self, part: Part, top_k: int, filters: Filters, leads: LeadFinder, quoted: frozenset[SpanKey] = frozenset(),
        found: Retrieval | None = None,
    ) -> PartAnswer:
        """Retrieve for one ask (unless `found` already holds what it retrieved), find the lines that answer
        it, and judge whether the documents cover it."""
        query, text = part.searched
        if found is None:
            found = self.retriever.retrieve(query, top_k, filters)
        borrowed = query.removesuffix(text) if query != text else ""
        words = QuestionWords(leads.keyword, text, borrowed)
        found_lead = leads.find(words, found.candidates, quoted) if found.candidates else None
        lead = found_lead.spans if found_lead else []
        period = figure_period(part.text, found)
        scored = found_lead.scored if found_lead else []
        dated = lines_of_period(period, scored, words) if period else []
        if dated:  # a line of the top documents states that period's figure
            lead, period = pick(dated, words), None
        read = signals(found, lead, words)
        confidence = 0.0 if period or not found.candidates else estimate(read)
        if not lead or confidence < self.min_confidence:
            return PartAnswer(part, found, confidence, period, [], True, signals=read)
        entity = entity_chunks_of(lead[0].span.chunk, leads.chunks_of)
        card = card_spans([s.span for s in lead], entity, leads.spans) if entity else []
        conflict = find_conflict(lead, found_lead.scored) if found_lead else None
        return PartAnswer(part, found, confidence, period, lead, False, card, read, conflict)

    def compose(self, question: str, parts: list[PartAnswer], keyword: KeywordIndex, top_k: int) -> Answer:
        """The answer text and its numbered sources, from the answered parts."""
        numbering = number_sources(parts, self.retriever, keyword, None if len(parts) == 1 else PER_PART_SOURCES)
        sources = numbering.sources
        confidence = max(p.confidence for p in parts)
        abstained = all(p.abstained for p in parts)
        asks = [p.part.text for p in parts]
        if abstained:
            first = parts[0]
            top = first.found.candidates[0].chunk if first.found.candidates else None
            defines_metric = bool(first.period) and top is not None and top.doc_type == "metric"
            text = compose.abstention(sources, confidence, self.min_confidence, first.period, defines_metric)
            return Answer(uuid.uuid4().hex[:12], question, text, True, sources, round(confidence, 4), "", asks)
        if len(parts) == 1:
            text, lead = compose.single(parts[0], numbering.of_span)
        else:
            text, lead = compose.several(parts, numbering.of_span, lambda p: _closest(p, numbering))
        notes = [compose.conflict_note(p.conflict, numbering.of_span) for p in parts if p.conflict]
        notes.append(compose.retired_note(sources, numbering.retired))
        if notes := [n for n in dict.fromkeys(notes) if n]:
            text = "\n\n".join([text, *notes])
        return Answer(uuid.uuid4().hex[:12], question, text, False, sources, round(confidence, 4), lead, asks)

    def lead_finder(self, keyword: KeywordIndex) -> LeadFinder:
        """The lead finder of the current keyword index (rebuilt when ingest changed the index)."""
        finder = self._leads
        if finder is None or finder.keyword is not keyword:
            finder = self._leads = LeadFinder(keyword)
        return finder


def value_answer(question: str, value: ValueAnswer) -> Answer:
    """A metric value question answered from the warehouse (or refused with why): the metric's definition
    is its one source."""
    sources = []
    if value.citation is not None:
        c = value.citation
        sources.append(Source(1, c.path, c.section, c.start_line, c.end_line, 1.0, "", ""))
    text = "\n".join(line for line in value.text.splitlines() if not line.startswith("[1] ")).rstrip()
    confidence = 0.0 if value.refused else 1.0
    return Answer(uuid.uuid4().hex[:12], question, text, value.refused, sources, confidence, "", [question],
                  value.to_dict())


def _closest(part: PartAnswer, numbering: Numbering) -> str:
    """Where the closest passage of a part that abstained is, for its refusal."""
    if not part.found.candidates:
        return "none"
    chunk = part.found.candidates[0].chunk
    n = numbering.of_path(chunk.path)
    section = f" § {chunk.section}" if chunk.section else ""
    return f"{chunk.path}{section}" + (f" [{n}]" if n else "")


def figure_period(question: str, found: Retrieval) -> Period | None:
    """The period a question asks a figure for, when the best passage cannot give it (a metric definition,
    or a passage that never mentions the period) and only a line stating that period's figure can (see
    bot/answering/figures.py)."""
    period = period_asked(question)
    if period is None or not found.candidates:
        return None
    top = found.candidates[0].chunk
    asks_an_amount = asks_for_an_amount(question) or any(h.entity.kind == "metric" for h in found.hits)
    return period if needs_a_stated_figure(period, top.headed_text, top.doc_type == "metric", asks_an_amount) else None


def check_doc_type(doc_type: str | None) -> str | None:
    if doc_type and doc_type not in store.DOC_TYPES:
        raise QuestionError(f"Unknown document type {doc_type!r}; use one of {', '.join(store.DOC_TYPES)}.")
    return doc_type or None


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
    writing = load_writing(config, os.environ) if config.answer.mode == "llm" else None
    return Answerer(retriever, chunks, retrieval.top_k, retrieval.min_confidence, load_values(config), writing)


def load_writing(config: Config, environ: Mapping[str, str]) -> Writing:
    """LLM answer mode's writer, its key from `environ` (ConfigError when the llm section can't be used)."""
    from bot.answering.llm_writer import load_writer
    from bot.answering.written import Writing

    writer = load_writer(config.llm, environ)
    logger.info("answers are written by the %s model %s, checked against their sources", writer.provider, writer.model)
    return Writing(writer, config.llm.min_overlap, config.llm.model_abstains == "abstain")


def load_values(config: Config) -> ValueService | None:
    """The metric value service when `warehouse.path` is set; a broken semantic layer or a missing warehouse
    turns values off with a warning instead of stopping the documents from being answered."""
    if not config.warehouse.enabled:
        return None
    from bot.values.answer import load_value_service

    try:
        return load_value_service(config)
    except FinbotError as exc:
        logger.warning("metric values are off: %s", exc)
        return None
