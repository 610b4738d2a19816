"""Choosing what an answer leads with: the best one to three spans of the top documents, and the passage
around the first one for context.

Retrieval ranks documents by their best chunk; the answer may sit in another chunk of the same document
(a late-claims rule under the office-equipment section, a retry count far down an unsectioned page). So
every chunk of the top documents that shares a word with the question is split into spans and scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answering.chunk_spans import Span
from bot.answering.spans import QuestionWords, ScoredSpan, SpanIndex
from bot.retrieval.hybrid import Candidate
from ingest.keyword_index import Chunk, KeywordIndex

DOCUMENTS = 3  # how many of the top documents are searched for the answering lines
CHUNKS_PER_DOCUMENT = 8  # at most this many chunks of each (the ones sharing most of the question's words)
MAX_LEAD_SPANS = 3
LEAD_CHARS = 420  # the lead stops growing past this many characters
# A span joins the lead when it scores at least this share of the best one and adds question words the
# lead lacks or a kind of answer it lacks (or continues a lead line that ends with a colon).
RELATIVE = 0.75
MIN_GAIN = 0.1


SpanKey = tuple[str, int, int, int]  # chunk id, first and last text line, place among its line's sentences


def span_key(span: Span) -> SpanKey:
    return span.key


@dataclass(frozen=True)
class Lead:
    spans: list[ScoredSpan]  # best first
    scored: list[ScoredSpan]  # every span considered, best first

    @property
    def best(self) -> ScoredSpan | None:
        return self.spans[0] if self.spans else None


class LeadFinder:
    """Finds the lead of an answer among the chunks of one keyword index."""

    def __init__(self, keyword: KeywordIndex) -> None:
        self.keyword = keyword
        self.spans = SpanIndex(keyword, previous=self.previous_chunk)
        self._by_path: dict[str, list[int]] | None = None
        self._order: dict[int, int] = {}  # position in the keyword index: its place among its document's chunks

    def find(
        self, question: QuestionWords, candidates: Sequence[Candidate], quoted: frozenset[SpanKey] = frozenset()
    ) -> Lead:
        """The lead for one ask. Spans another ask of the same question already leads with (`quoted`) are
        passed over while others remain: that ask's answer shows them, and this one should add its own."""
        chunks = self.chunks_to_search(question, candidates)
        scored = self.spans.score(question, chunks)
        fresh = [s for s in scored if span_key(s.span) not in quoted]
        return Lead(pick(fresh or scored, question), scored)

    def chunks_to_search(
        self, question: QuestionWords, candidates: Sequence[Candidate]
    ) -> list[tuple[Chunk, float, float, int]]:
        """(chunk, document share, chunk share, document rank) for the chunks of the top documents worth
        reading: each document's retrieved passage, plus its other chunks holding the most question words."""
        if not candidates:
            return []
        best_document = max(c.score for c in candidates) or 1.0
        best_chunk = max(c.fused for c in candidates) or 1.0
        documents = candidates[:DOCUMENTS]
        every = [p for c in documents for p in self.positions(c.chunk.path)]
        holding = self.keyword.tokens_held(question.words, every)  # position -> question words it holds
        chosen: list[tuple[Chunk, float, float, int]] = []
        for rank, candidate in enumerate(documents, start=1):
            share = candidate.score / best_document
            positions = self.positions(candidate.chunk.path)
            lead_position = self.keyword.position(candidate.chunk.id)
            others = sorted(
                (p for p in positions if holding.get(p) and p != lead_position), key=lambda p: -holding[p]
            )[: CHUNKS_PER_DOCUMENT - 1]
            chosen.append((candidate.chunk, share, candidate.fused / best_chunk, rank))
            chosen.extend((self.keyword.chunks[p], share, 0.0, rank) for p in others)
        return chosen

    def chunks_of(self, path: str) -> list[Chunk]:
        return [self.keyword.chunks[p] for p in self.positions(path)]

    def positions(self, path: str) -> list[int]:
        """The positions of a document's chunks in the keyword index, in the order of its lines."""
        if self._by_path is None:
            by_path: dict[str, list[int]] = defaultdict(list)
            for n, chunk in enumerate(self.keyword.chunks):
                by_path[chunk.path].append(n)
            self._by_path = dict(by_path)  # the keyword index holds each document's chunks in order
            self._order = {p: i for ps in self._by_path.values() for i, p in enumerate(ps)}
        return self._by_path.get(path, [])

    def previous_chunk(self, chunk: Chunk) -> Chunk | None:
        """The chunk before this one in its document (None for the first)."""
        positions = self.positions(chunk.path)
        at = self.keyword.position(chunk.id)
        index = self._order.get(at, 0) if at is not None else 0
        return self.keyword.chunks[positions[index - 1]] if index > 0 else None


def pick(scored: list[ScoredSpan], question: QuestionWords) -> list[ScoredSpan]:
    """The best span, then up to two more that add what it lacks, within LEAD_CHARS."""
    if not scored:
        return []
    best = scored[0]
    lead = [best]
    covered = set(best.found | best.context_found)
    held = best.asked
    size = len(best.span.text)
    for candidate in scored[1:]:
        if len(lead) == MAX_LEAD_SPANS or candidate.score < RELATIVE * best.score:
            break
        if any(_overlaps(candidate.span, s.span) for s in lead):
            continue
        gain = question.share(candidate.found - covered)
        continues = any(_continues(s.span, candidate.span) for s in lead)
        if (gain >= MIN_GAIN or candidate.asked > held or continues) and size + len(candidate.span.text) <= LEAD_CHARS:
            lead.append(candidate)
            covered |= candidate.found | candidate.context_found
            held = max(held, candidate.asked)
            size += len(candidate.span.text)
    return lead


def _overlaps(a: Span, b: Span) -> bool:
    return a.chunk.id == b.chunk.id and a.first <= b.last and b.first <= a.last and a.text == b.text


def _continues(before: Span, after: Span) -> bool:
    """`after` is the line right after `before`, which introduces it ("... as follows:")."""
    return before.chunk.id == after.chunk.id and before.text.endswith(":") and after.first == before.last + 1


def context_lines(span: Span, limit: int) -> tuple[int, int]:
    """Text lines (0-based, inclusive) of the span's chunk around it, up to about `limit` characters."""
    lines = span.chunk.text.split("\n")
    first, last = span.first, span.last
    size = sum(len(line) + 1 for line in lines[first : last + 1])
    grown = True
    while grown:
        grown = False
        for n in (first - 1, last + 1):
            if 0 <= n < len(lines) and size + len(lines[n]) + 1 <= limit:
                size += len(lines[n]) + 1
                first, last = min(first, n), max(last, n)
                grown = True
    while first < last and not lines[first].strip():
        first += 1
    while last > first and not lines[last].strip():
        last -= 1
    return first, last
