"""Definition cards: when an answer quotes a metric, model or column of a dbt project, it sets the quoted line
in the entity's card (what it is, its formula, grain, owner, reports), each line cited to its YAML key lines.

The card reads the rendered chunks ingest/dbt.py writes ("Metric dso: ...", "Expression: ...", "Owner: ..."),
so it works for any dbt project, not only ours: the fields are dbt's own keys and meta.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.answering.chunk_spans import Span
from bot.answering.spans import ENTITY_KEYS, SpanIndex
from ingest.keyword_index import Chunk

# The card's lines after its headline, in this order when present (a line the answer already quotes is left out).
CARD_FIELDS = (
    "Description", "Formula", "Expression", "Measure", "Input metrics", "Accumulates", "Filter", "Grain", "Model",
    "Owner", "Reports", "Metrics",
)
MAX_CARD_LINES = 6


def entity_key(chunk: Chunk) -> str | None:
    """"metrics.dso" for the chunks of metric dso, "models.rpt_x" for model rpt_x and its columns; else None."""
    parts = chunk.section.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and parts[0] in ENTITY_KEYS and parts[1] else None


def card_spans(lead: Sequence[Span], entity_chunks: Sequence[Chunk], spans: SpanIndex) -> list[Span]:
    """The card of the entity the first lead line belongs to: its headline, then its key fields."""
    quoted = {s.key for s in lead}
    ordered = sorted(entity_chunks, key=lambda c: (c.start_line, "(continued)" in c.text.split("\n", 1)[0]))
    every = [span for chunk in ordered for span in spans.spans(chunk)]
    headline = next((s for s in every if s.order == 0 and _is_headline(s)), None)
    card: list[Span] = [headline] if headline and headline.key not in quoted else []
    for field in CARD_FIELDS:
        for span in every:
            if _field(span) == field and span.order == 0 and span.key not in quoted and span not in card:
                card.append(span)
                break
        if len(card) >= MAX_CARD_LINES:
            break
    return card


def entity_chunks_of(chunk: Chunk, chunks_of_path: Callable[[str], Sequence[Chunk]]) -> list[Chunk]:
    """The chunks of the entity `chunk` belongs to (a model's overview and column groups, a metric's parts)."""
    key = entity_key(chunk)
    if key is None:
        return []
    return [c for c in chunks_of_path(chunk.path) if c.section == key or c.section.startswith(key + ".")]


def _is_headline(span: Span) -> bool:
    first = span.chunk.text.split("\n", 1)[0]
    return span.first == 0 and "(continued)" not in first


def _field(span: Span) -> str:
    return span.label.split(" · ")[-1] if span.kind == "field" else ""
