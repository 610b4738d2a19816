"""The numbered sources of an answer: every document retrieval found, and for each quoted line the exact
file lines it came from.

A document is listed once, by its best passage, unless the answer quotes lines from more than one of its
chunks: each quoted chunk is then a source of its own (the same path, other lines), so every `[n]` in the
text points at the lines it quotes. Sources keep retrieval's rank order within each ask, and the asks'
order: the first ask's documents come first, as the answer reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.answering.answer import Explain, PartAnswer, Source
from bot.answering.chunk_spans import Span
from bot.answering.compose import snippet
from bot.retrieval.context import widen
from bot.retrieval.hybrid import GLOSSARY_WEIGHT, RELATIVE_GLOSSARY, RRF_K, Candidate, HybridRetriever
from ingest import store
from ingest.keyword_index import Chunk, KeywordIndex

# The best passages are widened to read whole (their `text`, which a writer reads; the JSON has the snippet).
WIDENED = 2


class Numbering:
    """Sources in the order they are listed, and which [n] each quoted span and document has."""

    def __init__(self) -> None:
        self.sources: list[Source] = []
        self._by_chunk: dict[str, int] = {}  # quoted chunk id -> n
        self._by_path: dict[str, int] = {}  # document path -> n of its first listed source
        self.retired: dict[int, str] = {}  # n -> the front matter status of a superseded or archived document

    def of_span(self, span: Span) -> int:
        return self._by_chunk.get(span.chunk.id) or self._by_path[span.chunk.path]

    def of_path(self, path: str) -> int | None:
        return self._by_path.get(path)


def number_sources(
    parts: Sequence[PartAnswer], retriever: HybridRetriever, keyword: KeywordIndex, per_part: int | None = None
) -> Numbering:
    """Number the sources of all parts: documents in rank order (best first across parts), quoted chunks
    cited by the lines their quoted spans cover. `per_part` caps how many documents each part lists."""
    scale = max_fused(retriever)
    quoted: dict[str, list[Span]] = {}  # chunk id -> the spans quoted from it, across all parts
    for part in parts:
        for scored in [*part.lead, *([part.conflict.other] if part.conflict else [])]:
            quoted.setdefault(scored.span.chunk.id, []).append(scored.span)
    quoted_paths: dict[str, list[str]] = {}  # path -> its quoted chunk ids, in order
    for chunk_id, spans in quoted.items():
        quoted_paths.setdefault(spans[0].chunk.path, []).append(chunk_id)
    entries: list[tuple[int, float, int, Candidate, Chunk, tuple[int, int] | None]] = []
    listed: set[str] = set()
    for asked, part in enumerate(parts):
        candidates = part.found.candidates
        for candidate in candidates if per_part is None else _listed(candidates, quoted_paths, per_part):
            path = candidate.chunk.path
            if path in listed:
                continue
            listed.add(path)
            if path not in quoted_paths:
                entries.append((asked, candidate.score, len(entries), candidate, candidate.chunk, None))
                continue
            for chunk_id in quoted_paths[path]:
                spans = quoted[chunk_id]
                span_lines = min(s.lines[0] for s in spans), max(s.lines[1] for s in spans)
                entries.append((asked, candidate.score, len(entries), candidate, spans[0].chunk, span_lines))
    entries.sort(key=lambda e: (e[0], -e[1], e[2]))  # in reading order: each ask's documents, best first
    numbering = Numbering()
    for n, (_, _, _, candidate, chunk, lines) in enumerate(entries, start=1):
        text = widen(chunk, keyword) if n <= WIDENED else chunk
        source = to_source(n, candidate, scale, chunk, text)
        if lines is not None:
            source = replace(source, start_line=lines[0], end_line=lines[1])
            numbering._by_chunk[chunk.id] = n
        numbering.sources.append(source)
        numbering._by_path.setdefault(chunk.path, n)
        if (status := chunk.metadata.get(store.STATUS)) in store.RETIRED_STATUSES:
            numbering.retired[n] = str(status)
    return numbering


def _listed(candidates: Sequence[Candidate], paths: dict[str, list[str]], limit: int) -> list[Candidate]:
    """The documents a part lists: those quoted, then the best others, up to `limit` in all."""
    quoting = [c for c in candidates if c.chunk.path in paths]
    others = [c for c in candidates if c.chunk.path not in paths]
    return quoting + others[: max(0, limit - len(quoting))]


def max_fused(retriever: HybridRetriever) -> float:
    """The fused score of a chunk first in every list: scores are shown as a share of it."""
    if retriever.fusion == "relative_score":
        return 1.0 + (RELATIVE_GLOSSARY if retriever.use_glossary else 0.0)
    lists = (retriever.mode != "bm25") + (retriever.mode != "vector")
    return (lists + (GLOSSARY_WEIGHT if retriever.use_glossary else 0.0)) / (RRF_K + 1)


def to_source(n: int, candidate: Candidate, scale: float, chunk: Chunk, text: Chunk | None = None) -> Source:
    """The source for `chunk` (the candidate's passage or another chunk of its document); `text` is what a
    writer reads (the widened passage), the snippet always the chunk's own."""
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
    whole = text or chunk
    return Source(
        n=n,
        path=chunk.path,
        section=chunk.section or None,
        start_line=whole.start_line or None,
        end_line=whole.end_line or None,
        score=round(min(1.0, candidate.score / scale), 4) if scale else 0.0,
        snippet=snippet(chunk.text),
        text=whole.text,
        page=chunk.metadata.get(store.PAGE) or None,
        explain=explain,
    )
