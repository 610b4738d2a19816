"""The reply text. Extractive: quotes, never paraphrase.

An answer leads with the lines that answer (each with its [n]), then, set apart, the passage around the
first of them, so the reader can check the quote in context. A question with several asks gets a short
labelled block per ask; an ask the documents don't cover says so while the others are answered.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.answering.lead import context_lines

if TYPE_CHECKING:
    from bot.answering.answer import PartAnswer, Source
    from bot.answering.chunk_spans import Span
    from bot.answering.conflicts import Conflict
    from bot.answering.figures import Period
    from bot.answering.spans import ScoredSpan

SNIPPET_CHARS = 280
QUOTE_CHARS = 1600
SPAN_CHARS = 300  # a lead line longer than this is cut at a word end
CONTEXT_CHARS = 900  # the passage around the first lead line, for one ask
# In an answer to several asks, each one's lead is backed by a shorter passage or a card of a few lines.
PART_CONTEXT = 400
PART_CARD_LINES = 3
# What a line is about, when it opens with it: "Owner: ", "Model rpt_x, column y (date): " (no sentence end).
_OPENING = re.compile(r"^\s*(?:[-*+] )?([^:.!?\n]{2,100}?):\s")
RETIRED_WITHIN = 3  # a superseded document among this many first sources gets a note


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The passage on one line, cut at a word boundary."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[:limit].rsplit(" ", 1)[0] + " …"


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """The passage as a Markdown block quote, cut at a line end when long."""
    lines = [line.rstrip() for line in textwrap.dedent(text).strip("\n").splitlines()]
    kept: list[str] = []
    size = 0
    for line in lines:
        if kept and size + len(line) > limit:
            kept.append("…")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(f"> {line}" if line else ">" for line in kept)


def lead_lines(lead: Sequence[ScoredSpan], number: Callable[[Span], int]) -> str:
    """The quoted answer lines, each with its [n] (a field line keeps its label: "Owner: ...")."""
    return "\n".join(f"{_labelled(s.span)} [{number(s.span)}]" for s in lead)


def _labelled(span: Span) -> str:
    """A lead line as quoted: a field line keeps its label, and a later sentence of a line that opens with
    one ("Model rpt_x, column y (date): ... Eligibility only flags ...") keeps what it is about."""
    text = snippet(span.quoted or span.text, SPAN_CHARS)
    if span.order == 0:
        label = span.label.split(" · ")[-1] if span.kind == "field" else ""
        return f"{label}: {text}" if label else text
    opening = _OPENING.match(span.chunk.text.split("\n")[span.first])
    return f"{opening.group(1)}: … {text}" if opening else text


def context(span: Span, n: int, limit: int = CONTEXT_CHARS) -> str:
    """The passage around a quoted span, with where it is."""
    first, last = context_lines(span, limit)
    text = "\n".join(span.chunk.text.split("\n")[first : last + 1])
    start, end = span.chunk.file_lines(first, last)
    page = span.chunk.metadata.get("page")
    where = f"p.{page}" if page else f"lines {start}-{end}" if end > start else f"line {start}"
    section = f" § {span.chunk.section}" if span.chunk.section else ""
    return f"In context, {span.chunk.path}{section} ({where}) [{n}]:\n{quote(text)}"


def single(part: PartAnswer, number: Callable[[Span], int]) -> tuple[str, str]:
    """(text, lead) of a one-ask answer: the lead, then the quoted entity's card or the passage around it."""
    lead = lead_lines(part.lead, number)
    best = part.lead[0].span
    if part.card:
        return f"{lead}\n\n{card(part.card, number)}", lead
    return f"{lead}\n\n{context(best, number(best))}", lead


def card(spans: Sequence[Span], number: Callable[[Span], int]) -> str:
    """A definition card: one line per field, each with the file lines it was rendered from."""
    lines = [f"From the definition in {spans[0].chunk.path} [{number(spans[0])}]:"]
    for span in spans:
        start, end = span.lines
        where = f"line {start}" if start == end else f"lines {start}-{end}"
        lines.append(f"- {_labelled(span)} ({where})")
    return "\n".join(lines)


def several(
    parts: Sequence[PartAnswer], number: Callable[[Span], int], closest: Callable[[PartAnswer], str]
) -> tuple[str, str]:
    """(text, lead) of an answer to several asks: a labelled block each, in the question's order."""
    blocks, leads = [], []
    for part in parts:
        label = f"**{part.part.text.rstrip('?')}?**"
        if part.abstained:
            blocks.append(f"{label}\n{part_refusal(part, closest(part))}")
            continue
        lead = lead_lines(part.lead, number)
        leads.append(lead)
        best = part.lead[0].span
        backing = card(part.card[:PART_CARD_LINES], number) if part.card else context(best, number(best), PART_CONTEXT)
        blocks.append(f"{label}\n{lead}\n{backing}")
    return "\n\n".join(blocks), "\n".join(leads)


def part_refusal(part: PartAnswer, where: str) -> str:
    """What an ask the documents don't cover gets, inside an answer to several asks."""
    if part.period:
        return f"The documents hold no figures for {part.period.text}, so they can't say; the closest is {where}."
    return f"The documents don't say. The closest passage is {where}."


def abstention(
    sources: list[Source], confidence: float, min_confidence: float, period: Period | None = None,
    defines_metric: bool = False,
) -> str:
    if not sources:
        return "I couldn't find this in the documents: nothing indexed matches (or the filters leave nothing)."
    if period:
        best = sources[0]
        where = f"{best.path}{where_in(best)} [{best.n}]"
        if defines_metric:
            return (
                f"The documents define this metric but hold no figures, so they can't tell you its value for "
                f"{period.text}. Its definition is in {where}; the figure itself comes from the reports or the BI tool."
            )
        return (
            f"I found nothing about {period.text} in the documents, so they can't give this figure: the closest "
            f"passage, {where}, is about another period or none. Figures for a period come from the reports or "
            "the BI tool."
        )
    closest = "; ".join(f"{s.path}{where_in(s)} [{s.n}]" for s in sources[:3])
    return (
        "I couldn't find this in the documents, so I won't guess. "
        f"The closest passages (confidence {confidence:.2f}, below the {min_confidence:.2f} needed) were: "
        f"{closest}."
    )


def where_in(source: Source) -> str:
    return f" § {source.section}" if source.section else ""


def conflict_note(conflict: Conflict, number: Callable[[Span], int]) -> str:
    """One sentence when another current document gives other figures for the same ask, citing both."""
    lead, other = conflict.lead.span, conflict.other.span
    return (
        f"Note: the documents differ here: {other.chunk.path} [{number(other)}] says "
        f"\u201c{snippet(other.text, SPAN_CHARS)}\u201d, while {lead.chunk.path} [{number(lead)}] says what is quoted "
        "above; check which one is in force."
    )


def retired_note(sources: Sequence[Source], retired: dict[int, str]) -> str:
    """One sentence when the sources include a superseded or archived document, citing it and the best
    current one, so nobody follows an old rule by mistake ("" when none is among the first RETIRED_WITHIN)."""
    near = [(n, status) for n, status in retired.items() if n <= RETIRED_WITHIN]
    if not near:
        return ""
    n, status = near[0]
    old = sources[n - 1]
    current = next((s for s in sources if s.n not in retired), None)
    instead = f"; where they differ, {current.path} [{current.n}] is the one in force" if current else ""
    return f"Note: {old.path} [{n}] is marked {status}{instead}."
