"""The lines that answer: a chunk's sentences, list items, table rows and field lines ("spans", cut by
bot/answering/chunk_spans.py), each scored against the question, so the answer can lead with the one to three
that answer it and cite just their lines.

A span's score adds what it shares with the question (IDF-weighted, loosely matched: abbreviations and
typos count, see bot/retrieval/words.py), what its heading, field label or table header shares (at a lower
weight: "Late claims" above "Claims older than 60 days ..."), whether it holds the kind of thing the
question asks for (an amount, a duration, a person, a rule; bot/answering/asks.py), whether the amount
bracket it is about holds an amount the question states (bot/answering/amounts.py), and a prior from how
retrieval ranked its document and its chunk. A span under a facet the question does not name ("UK:", a tab's
label, when the question names the page's "US" tab) counts less.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.answering.amounts import Bracket, brackets, fit, stated_amounts
from bot.answering.asks import Ask, asked, subject_words
from bot.answering.chunk_spans import SQL_ALIAS, Span, only_rows, open_header, split_spans, starts_with_rows
from bot.answering.field_words import field_words
from bot.retrieval.words import MIN_PREFIX, one_edit
from ingest.keyword_index import Chunk, KeywordIndex

BORROWED = 0.5  # weight of a word an ask borrows from the ask before it
# Sections of the chunks ingest/dbt.py renders from a dbt project ("metrics.dso", "models.rpt_x.columns").
ENTITY_KEYS = ("metrics", "models", "semantic_models", "sources", "seeds", "snapshots")
SHORT = 120  # characters; a longer span's length counts against it (feature "length")

class QuestionWords:
    """The question's words as BM25 reads them, with their IDF, matched loosely against a span's words."""

    def __init__(self, keyword: KeywordIndex, question: str, borrowed: str = "") -> None:
        """`borrowed`: words an ask takes from the one before it ("does it include new logos" after "how is
        NRR calculated"); they count half."""
        self.keyword = keyword
        own = list(dict.fromkeys(keyword.tokens(subject_words(question))))
        self.words = own + [w for w in dict.fromkeys(keyword.tokens(subject_words(borrowed))) if w not in own]
        self.weights = {w: keyword.idf(w) * (1.0 if w in own else BORROWED) for w in self.words}
        self.total = sum(self.weights.values())
        self._typos = {w: one_edit(w) for w in self.words if len(w) >= 5}
        self.rarest = max(self.words, key=lambda w: self.weights[w]) if self.words else None
        self.asks: tuple[Ask, ...] = asked(question)
        self.amounts = stated_amounts(question)

    def found(self, tokens: Tokens) -> set[str]:
        """The question words among `tokens`: the same word, an abbreviation of one, or one edit away."""
        hits = set()
        for w in self.words:
            same = w in tokens.starts if len(w) >= MIN_PREFIX else w in tokens.words
            if same or (w in self._typos and not tokens.words.isdisjoint(self._typos[w])):
                hits.add(w)
        return hits

    def share(self, words: Iterable[str]) -> float:
        return sum(self.weights[w] for w in words) / self.total if self.total else 0.0


# What a span's score reads, in this order, and its weights. Chosen by hand on the dev splits of both golden
# corpora, by the fact recall of `finbot eval --split dev` on each; weights fitted on one corpus did no better on
# the other than these, so they stay few and round. (A "the question names this dbt entity" feature was tried
# at 0.3 and 0.6: dev fact recall fell from 0.758 to 0.748 and 0.735 on corpus/, unchanged on the wiki. A
# "meaning" feature, the embedding model's cosine of a line to the question at 0.7, embedding only the lines
# that could reach the lead, was tried and taken out again (7245db8, reverted): dev fact recall 0.758 -> 0.764
# and 0.815 -> 0.837, test 0.823 -> 0.814 and 0.753 -> 0.787, but the answer's p50 went from about 2x the
# retrieval floor to 4.5x, outside the latency budget. "bracket" at 0.15 / 0.3 / 0.5: dev fact recall 0.792 at
# each on corpus/, 0.848 / 0.864 / 0.853 on the wiki, from 0.794 and 0.848 without it. "elsewhere" at -0.5 and
# -1.0: dev fact recall 0.880 -> 0.886 on the wiki, whose mileage page has US / UK / Germany tabs; corpus/ and
# the intranet unchanged.)
FEATURES = (
    "text",  # IDF share of the question's words in the span
    "context",  # ... found only in its heading, field label or table header
    "rarest",  # it holds the question's rarest word (1/0)
    "asked",  # share of the kinds of answer asked for (an amount, a duration...) that it holds
    "document",  # its document's retrieval score as a share of the first document's
    "chunk",  # its chunk's retrieval score as a share of the best chunk's (0: not retrieved itself)
    "first_document",  # it comes from the first document (1/0)
    "length",  # log2 of its length over SHORT characters (0 when shorter)
    "field",  # kind: a "Label: value" line
    "item",  # kind: a list item
    "row",  # kind: a table or CSV row
    "subject",  # IDF share of the question's words in what it is about (before "is" / "means" / "="; a row's key)
    "example",  # it is a worked example ("Example: ...", "e.g.", "assume ...")
    "opening",  # it opens its paragraph, item or field
    "bracket",  # it shares a question word and its amount bracket holds an amount the question states (1/0)
    "elsewhere",  # it comes under a facet ("UK:") the question does not name, while naming another ("US") (1/0)
)
WEIGHTS = (1.0, 0.6, 0.0, 0.2, 0.5, 0.15, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, -0.15, 0.0, 0.3, -0.5)
BIAS = 0.0


_EXAMPLE = re.compile(r"(?i)^(?:for )?example\b|\be\.g\.|\bfor (?:example|instance)\b|^(?:assume|suppose|say)\b")
_SUBJECT_END = re.compile(r"(?i)\b(?:is|are|was|were|means|mean|refers|equals|includes|excludes|covers)\b|[:=]")


@dataclass(frozen=True)
class Tokens:
    """Some words as BM25 reads them, and every beginning of them from MIN_PREFIX letters (so that finding an
    abbreviation is one set lookup, not a scan of the words)."""

    words: frozenset[str]
    starts: frozenset[str]

    @classmethod
    def of(cls, words: Iterable[str]) -> Tokens:
        held = frozenset(words)
        return cls(held, frozenset(w[:end] for w in held for end in range(MIN_PREFIX, len(w) + 1)))


@dataclass(frozen=True)
class SpanWords:
    """A span's words as BM25 reads them: its text, its context (label, heading, title), what it is about."""

    text: Tokens
    context: Tokens
    subject: Tokens  # what it is about: before its first "is" / "means" / ":", a row's first cell, a SQL alias
    facet: Tokens  # the words of its facet ("UK:")


@dataclass(frozen=True)
class ScoredSpan:
    span: Span
    score: float
    found: frozenset[str]  # question words in its text
    context_found: frozenset[str]  # question words only in its label or heading
    asked: float  # share of the asked kinds it holds
    rank: int  # its document's rank among the sources (1 = first)
    features: tuple[float, ...] = ()


def span_features(
    question: QuestionWords, span: Span, words: SpanWords, asked: float, document: float, chunk: float, rank: int,
    bracket: float = 0.0, elsewhere: bool = False,
) -> tuple[tuple[float, ...], set[str], set[str]]:
    """The span's features (in FEATURES order), and the question words in its text and only in its context."""
    found = question.found(words.text)
    context = question.found(words.context) - found
    rarest = question.rarest in found if question.rarest else False
    length = max(0.0, math.log2(max(len(span.text), 1) / SHORT))
    example = _EXAMPLE.search(span.text) is not None or "example" in span.label.lower()
    features = (
        question.share(found), question.share(context), float(rarest), asked, document, chunk,
        float(rank == 1), length, float(span.kind == "field"), float(span.kind == "item"), float(span.kind == "row"),
        question.share(question.found(words.subject)), float(example), float(span.order == 0),
        bracket if found or context else 0.0,  # the bracket of something asked about, not of any amount
        float(elsewhere),
    )
    return features, found, context


def linear_score(features: Sequence[float], weights: Sequence[float] = WEIGHTS, bias: float = BIAS) -> float:
    return bias + sum(w * f for w, f in zip(weights, features, strict=True))


class SpanIndex:
    """Spans and their words for the chunks of one keyword index, computed once per chunk."""

    def __init__(
        self, keyword: KeywordIndex, max_chunks: int = 20_000, previous: Callable[[Chunk], Chunk | None] | None = None
    ) -> None:
        """`previous`: the chunk before a chunk in its document (None for its first), so that rows a long
        table's later chunks start with are read under the header its first chunk holds."""
        self.keyword = keyword
        self.max_chunks = max_chunks
        self.previous = previous
        self._cache: dict[str, tuple[str, tuple[Span, ...], list[SpanWords]]] = {}
        self._open: dict[str, tuple[str, list[str]]] = {}  # chunk id: (its text, the table header it ends in)
        self._holds: dict[tuple[str, str], bool] = {}  # (ask, line text): the line holds that kind of answer
        self._brackets: dict[str, tuple[Bracket, ...]] = {}  # line text: the amount brackets it states

    def spans(self, chunk: Chunk) -> tuple[Span, ...]:
        return self._entry(chunk)[0]

    def _entry(self, chunk: Chunk) -> tuple[tuple[Span, ...], list[SpanWords]]:
        cached = self._cache.get(chunk.id)
        if cached is not None and cached[0] == chunk.text:
            return cached[1], cached[2]
        spans = split_spans(chunk, self.inherited_header(chunk))
        heading = f"{chunk.title} {chunk.section}"
        # A line of a dbt entity's rendering is about that entity: its name and field label read as its text.
        entity = chunk.section.split(".", 1)[0] in ENTITY_KEYS
        texts = [f"{s.text} {s.label} {_field_words(s)} {chunk.title}" if entity else s.text for s in spans]
        texts += [f"{s.label} {_field_words(s)} {heading}" for s in spans]
        texts += [_subject(s) for s in spans]
        texts += [s.facet for s in spans]
        tokens = [Tokens.of(t) for t in self.keyword.tokenize_many(texts)]
        n = len(spans)
        words = [SpanWords(tokens[i], tokens[n + i], tokens[2 * n + i], tokens[3 * n + i]) for i in range(n)]
        if len(self._cache) >= self.max_chunks:  # bounded: a large index is never held twice
            self._cache.clear()
        self._cache[chunk.id] = (chunk.text, spans, words)
        return spans, words

    def inherited_header(self, chunk: Chunk) -> list[str]:
        """The header of the table the chunks before this one left open ([] when none did). Only a chunk of
        nothing but table rows passes on the header it inherits, so the walk back ends at the first other one."""
        if not starts_with_rows(chunk):  # most chunks: nothing before them needs reading
            return []
        chain: list[Chunk] = []  # the chunks before it, nearest first
        before = self.previous(chunk) if self.previous else None
        while before is not None and self._known_open(before) is None and only_rows(before):
            chain.append(before)
            before = self.previous(before) if self.previous else None
        header: list[str] = []
        if before is not None:
            known = self._known_open(before)
            header = known if known is not None else self._remember(before, open_header(before))
        for earlier in reversed(chain):
            header = self._remember(earlier, open_header(earlier, header))
        return header

    def _remember(self, chunk: Chunk, header: list[str]) -> list[str]:
        if len(self._open) >= self.max_chunks:
            self._open.clear()
        self._open[chunk.id] = (chunk.text, header)
        return header

    def _known_open(self, chunk: Chunk) -> list[str] | None:
        known = self._open.get(chunk.id)
        return known[1] if known is not None and known[0] == chunk.text else None

    def score(self, question: QuestionWords, chunks: Sequence[tuple[Chunk, float, float, int]]) -> list[ScoredSpan]:
        """Every span of the given chunks, best first. Each chunk comes with its document's score share (0-1),
        its own retrieval score share (0-1) and its document's rank."""
        scored: list[ScoredSpan] = []
        entries = [(chunk, document, own, rank, *self._entry(chunk)) for chunk, document, own, rank in chunks]
        named = _facets_named(question, [(chunk.path, spans, words) for chunk, _, _, _, spans, words in entries])
        for chunk, document, own, rank, spans, words in entries:
            facets = named.get(chunk.path)
            for span, span_words in zip(spans, words, strict=True):
                held = self.asked_share(question.asks, span.text)
                bracket = fit(question.amounts, self.brackets(span.text)) if question.amounts else 0.0
                elsewhere = bool(facets and span.facet and not facets[span.facet])
                features, found, context = span_features(
                    question, span, span_words, held, document, own, rank, bracket, elsewhere
                )
                scored.append(
                    ScoredSpan(span, linear_score(features), frozenset(found), frozenset(context), held, rank, features)
                )
        scored.sort(key=lambda s: -s.score)
        return scored

    def asked_share(self, asks: tuple[Ask, ...], text: str) -> float:
        """The share of the asked kinds the line holds (0 when the question asks for no kind in particular);
        each (kind, line) is searched once: the same lines come back question after question."""
        if not asks:
            return 0.0
        if len(self._holds) >= 20 * self.max_chunks:
            self._holds.clear()
        held = 0
        for ask in asks:
            key = (ask.name, text)
            holds = self._holds.get(key)
            if holds is None:
                holds = self._holds[key] = ask.answer.search(text) is not None
            held += holds
        return held / len(asks)


    def brackets(self, text: str) -> tuple[Bracket, ...]:
        """The amount brackets the line states, read once per line (bounded like the asked kinds)."""
        if len(self._brackets) >= 20 * self.max_chunks:
            self._brackets.clear()
        held = self._brackets.get(text)
        if held is None:
            held = self._brackets[text] = brackets(text)
        return held


def _facets_named(
    question: QuestionWords, documents: Sequence[tuple[str, Sequence[Span], Sequence[SpanWords]]]
) -> dict[str, dict[str, bool]]:
    """Per document that has two facets or more and the question names one: each facet, and whether it is named."""
    facets: dict[str, dict[str, bool]] = {}
    for path, spans, words in documents:
        held = facets.setdefault(path, {})
        for span, span_words in zip(spans, words, strict=True):
            if span.facet and span.facet not in held:
                held[span.facet] = bool(question.found(span_words.facet))
    return {path: held for path, held in facets.items() if len(held) > 1 and any(held.values())}


def _subject(span: Span) -> str:
    """What the span is about: a table row's first cell (its key: "Mar 2026 (Q1)"), a SQL item's alias (the
    column it defines), else the words before its first "is" / "means" / ":" within its first 80 characters."""
    if span.kind == "row" and " | " in span.text:
        return span.text.split(" | ", 1)[0]
    if span.chunk.path.lower().endswith(".sql"):
        alias = SQL_ALIAS.search(span.text)
        return alias.group(1) if alias else ""
    head = span.text[:80]
    match = _SUBJECT_END.search(head)
    return head[: match.start()] if match else ""


def _field_words(span: Span) -> str:
    return field_words(span.label) if span.kind == "field" else ""
