"""Two current documents that answer the same ask with different figures: the answer says so and cites both.

A stale page nobody marked superseded ("Applies to FY24 purchasing") still ranks next to the page in force, and
a reader who only sees one quote never learns the other says $5,000 where this one says $10,000. A conflict is
read from what the answer already scored, not from a fixed list: the other document's best line must answer the
ask about as well as the lead (at least `RELATIVE` of its score, the question words of one within the other's),
be about the same thing (half the content words of the shorter line are in the other), and hold figures of the
same kind (an amount in the same currency, a percentage, a duration in the same unit) with none in common.
Lines that agree, or that speak of other things, never make a note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.answering.citations import STEM, STOPWORDS
from bot.answering.lead import DOCUMENTS, RELATIVE
from bot.answering.spans import ScoredSpan
from ingest import store

_CURRENCY = {"$": "usd", "usd": "usd", "us$": "usd", "€": "eur", "eur": "eur", "£": "gbp", "gbp": "gbp",
             "s$": "sgd", "sgd": "sgd", "chf": "chf", "cad": "cad", "aud": "aud"}
_AMOUNT = re.compile(
    r"(?i)(?P<cur>US\$|S\$|[$€£]|\b(?:USD|EUR|GBP|SGD|CHF|CAD|AUD)\b)\s?(?P<value>\d[\d,]*(?:\.\d+)?)\s?(?P<scale>k|m)?\b"
)
_PERCENT = re.compile(r"(?i)(?<![\w.])(?P<value>\d+(?:\.\d+)?)\s?(?:%|percent\b)")
_DURATION = re.compile(
    r"(?i)\b(?P<value>\d+)[\s-]*(?P<unit>(?:business |calendar |working )?(?:day|week|month|year|hour)s?)\b"
)
_SCALE = {"k": 1000, "m": 1_000_000}
_WORD = re.compile(r"[a-z][a-z'-]+")


@dataclass(frozen=True)
class Conflict:
    lead: ScoredSpan  # the line the answer leads with
    other: ScoredSpan  # another current document's best line, which says otherwise


def figures(text: str) -> dict[str, set[Decimal]]:
    """The figures a line states, by kind: {"amount usd": {5000}, "percent": {20}, "duration day": {30}}."""
    found: dict[str, set[Decimal]] = {}
    for match in _AMOUNT.finditer(text):
        value = _decimal(match["value"])
        if value is not None:
            scale = _SCALE.get((match["scale"] or "").lower(), 1)
            found.setdefault(f"amount {_CURRENCY[match['cur'].lower()]}", set()).add(value * scale)
    for match in _PERCENT.finditer(text):
        if (value := _decimal(match["value"])) is not None:
            found.setdefault("percent", set()).add(value)
    for match in _DURATION.finditer(text):
        unit = match["unit"].lower().removesuffix("s")
        found.setdefault(f"duration {unit}", set()).add(Decimal(match["value"]))
    return found


def differ(first: dict[str, set[Decimal]], second: dict[str, set[Decimal]]) -> bool:
    """Both state a figure of some kind and share none of that kind, and they agree on no kind at all."""
    shared = first.keys() & second.keys()
    return bool(shared) and all(first[kind].isdisjoint(second[kind]) for kind in shared)


def same_subject(first: str, second: str) -> bool:
    """At least half the content words of the shorter line are in the other (figures aside): the two lines
    state a figure for the same thing ("a purchase order is required above ...")."""
    words = [_content(first), _content(second)]
    shorter, longer = sorted(words, key=len)
    return bool(shorter) and 2 * len(shorter & longer) >= len(shorter)


def find_conflict(lead: Sequence[ScoredSpan], scored: Sequence[ScoredSpan]) -> Conflict | None:
    """The first other current document among the top ones whose best line answers the lead's ask with
    other figures (`scored`: every span considered for the ask, best first)."""
    if not lead or not lead[0].found:
        return None
    best = lead[0]
    stated = figures(best.span.text)
    if not stated or _retired(best):
        return None
    seen = {best.span.chunk.path}
    for candidate in scored:
        path = candidate.span.chunk.path
        if path in seen or candidate.rank > DOCUMENTS:
            continue
        seen.add(path)  # only a document's best line speaks for it
        if candidate.score < RELATIVE * best.score or _retired(candidate):
            continue
        comparable = candidate.found and (best.found <= candidate.found or candidate.found <= best.found)
        if (comparable and same_subject(best.span.text, candidate.span.text)
                and differ(stated, figures(candidate.span.text))):
            return Conflict(best, candidate)
    return None


def _content(text: str) -> set[str]:
    return {w[:STEM] for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2}


def _retired(scored: ScoredSpan) -> bool:
    """A superseded or archived document has its own note (compose.retired_note)."""
    return scored.span.chunk.metadata.get(store.STATUS) in store.RETIRED_STATUSES


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
