"""Amounts a question states ("who reviews a 1.2M journal entry", "~180k capex project") and the bounds a
line states ("$100,000 to $999,999.99", "above $1,000,000", "up to $50,000"), so that the line whose bounds
hold the amount can answer: approval limits, review levels and fee tiers are written as such brackets in
every finance policy, and the bracket that answers shares no word with the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9}
_SCALE = r"(?:k|mm|mn|m|bn)\b|\s?(?:thousand|million|billion)\b"
_CURRENCY = r"[$€£¥]|\b(?:USD|EUR|GBP|SGD|CHF|CAD|AUD|JPY|INR)\s?"
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
# What a scaled number counts when it is not money: "past 10k miles", "1m rows".
_COUNTED = (
    r"(?:miles?|mi|km|kilomet\w*|hours?|hrs?|days?|users?|seats?|employees?|staff|people|ppl|units?|rows?|"
    r"records?|transactions?|txns?|words?|emails?|calls?|visits?|views?|events?)\b"
)
# In a question: a number with a currency, a scale ("60k", "1.2M") or a currency word after it ("1800 bucks").
_STATED = re.compile(
    rf"(?i)(?:{_CURRENCY})(?P<a>{_NUMBER})(?P<a_scale>{_SCALE})?"
    rf"|(?<![\w.])(?!40[13][kb]\b)(?P<b>{_NUMBER})(?P<b_scale>{_SCALE})(?!\s?{_COUNTED})"
    rf"|(?<![\w.])(?P<c>{_NUMBER})\s?(?:bucks|dollars|pounds|euros|usd|eur|gbp)\b"
)
# In a line: the same, or a number grouped in thousands ("| 10,000 | Manager |"); a bare "30" may be days.
_AMOUNT = (
    rf"(?:(?:{_CURRENCY})\s?{_NUMBER}(?:{_SCALE})?|(?<![\w.]){_NUMBER}(?:{_SCALE})"
    r"|(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]))"
)
_UPPER_BEFORE = r"(?:up to|below|under|less than|not exceeding|not more than|no more than|at most|max(?:imum)?|<=?|≤)"
_LOWER_BEFORE = r"(?:above|over|more than|greater than|exceeding|in excess of|at least|at or above|from|>=?|≥)"
_RANGE = re.compile(rf"(?i)(?:between\s+)?(?P<low>{_AMOUNT})\s*(?:-|–|—|to|and)\s*(?P<high>{_AMOUNT})")
_UPPER = re.compile(
    rf"(?i)\b{_UPPER_BEFORE}\s+(?P<x>{_AMOUNT})|(?P<y>{_AMOUNT})\s+(?:and|or)\s+(?:below|under|less)\b"
)
_LOWER = re.compile(
    rf"(?i)(?:\b{_LOWER_BEFORE}\s+(?P<x>{_AMOUNT})|(?P<y>{_AMOUNT})\s*(?:\+|(?:and|or)\s+(?:above|over|more|up)\b))"
)
# "40k a year" over "a 3 year deal" is also 120k in total: a policy may bracket either figure.
_PER_YEAR = re.compile(r"(?i)^\s*(?:an?|per|/)\s*(?:year|yr|annum)\b|^\s*(?:annually|yearly|p\.?a\.?)(?!\w)")
_TERM = re.compile(r"(?i)\b(?P<n>[2-9]|10|two|three|four|five)[- ]?(?:years?|yrs?)\b(?!\s+(?:ago|old))")
_TERM_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5}
_EMPHASIS = re.compile(r"[*`]")
_CLAUSE_END = re.compile(r",\s|;|:\s|\(")
# A CSV row's cells as ingest/tabular.py writes them, and the column names that make a cell a bound.
_FIELD = re.compile(r"(?:^|;\s)(\w[\w ()/.-]{0,40})=([^;]*)")
_PLAIN_NUMBER = re.compile(r"[$€£]?\s?\d[\d,]*(?:\.\d+)?")
_LOW_NAMES = {"from", "min", "minimum", "lower", "low", "above", "over", "floor", "start", "exceeding"}
_HIGH_NAMES = {"to", "upto", "up", "max", "maximum", "upper", "high", "below", "under", "ceiling", "cap", "until"}
_MONEY_NAMES = {"usd", "eur", "gbp", "sgd", "jpy", "chf", "cad", "aud", "amount", "value", "limit", "threshold",
                "spend", "cost", "price"}
_LABEL_CHARS = 40  # the longest label of a "Label: value" line, as bot/answering/spans.py reads field lines


@dataclass(frozen=True)
class Bracket:
    """Amounts from `low` to `high` (either may be open)."""

    low: float | None
    high: float | None

    def holds(self, amount: float) -> bool:
        return (self.low is None or amount >= self.low) and (self.high is None or amount <= self.high)


def value_of(text: str) -> float:
    """ "$1.2M" -> 1200000.0, "USD 100,000" -> 100000.0, "180k" -> 180000.0."""
    match = re.search(rf"(?i)({_NUMBER})\s?({_SCALE})?", text)
    if match is None:
        raise ValueError(f"no amount in {text!r}")
    number = float(match.group(1).replace(",", ""))
    scale = (match.group(2) or "").strip().lower()
    return number * _SCALES.get(scale, 1.0)


def stated_amounts(question: str) -> tuple[float, ...]:
    """The amounts the question states: "a 1.2M journal entry" -> (1200000.0,). Years, days and counts
    are not amounts: a number needs a currency or a scale, "10k miles" counts miles and a 401k is a plan.
    An amount a year with a term ("3 year saas deal at 40k a year") also states the total (120000.0)."""
    found = []
    term = _TERM.search(question)
    years = (_TERM_WORDS.get(term.group("n").lower()) or int(term.group("n"))) if term else 0
    for match in _STATED.finditer(question):
        number = match.group("a") or match.group("b") or match.group("c")
        scale = match.group("a_scale") or match.group("b_scale") or ""
        found.append(value_of(number + scale))
        if years and _PER_YEAR.match(question[match.end() :]):
            found.append(found[-1] * years)
    return tuple(found)


def brackets(line: str) -> tuple[Bracket, ...]:
    """The amount bracket a line is about: the one its first clause states (before ", ", ";", ":" or "("),
    as a range ("$100,000 to $999,999.99"), bounds ("above USD 2,500 and up to USD 10,000: ...") or one
    bound ("$1,000,000 and above"); in a "Label: value" line, the value's first clause ("Approval limit: up
    to USD 5,000"); in a table row, the first cell that states one; in a CSV row, the cells its column names
    call bounds ("from_usd=25000.01; up_to_usd=150000"). A bracket later in a sentence is a
    detail of something else ("Each quarter, audit queries ..., round-amount entries over $250,000, ...")."""
    text = _EMPHASIS.sub("", line).strip()
    if _FIELD.match(text):
        return _bracket_of_fields(text)
    if "|" in text:
        return next((found for cell in text.strip("|").split("|") if (found := _bracket_of(cell))), ())
    found = _bracket_of(_CLAUSE_END.split(text, maxsplit=1)[0])
    label, colon, value = text.partition(": ")
    if not found and colon and len(label) <= _LABEL_CHARS:
        found = _bracket_of(_CLAUSE_END.split(value, maxsplit=1)[0])
    return found


def _bracket_of(clause: str) -> tuple[Bracket, ...]:
    ranges = [Bracket(value_of(m.group("low")), value_of(m.group("high"))) for m in _RANGE.finditer(clause)]
    if ranges:
        return tuple(ranges)
    lows = [value_of(m.group("x") or m.group("y")) for m in _LOWER.finditer(clause)]
    highs = [value_of(m.group("x") or m.group("y")) for m in _UPPER.finditer(clause)]
    if not lows and not highs:
        return ()
    return (Bracket(max(lows) if lows else None, min(highs) if highs else None),)


def _bracket_of_fields(record: str) -> tuple[Bracket, ...]:
    """A CSV row as ingest renders it ("category=Capex; from_usd=25000.01; up_to_usd=150000; ..."): the
    bounds its column names say are bounds, in plain numbers."""
    low = high = None
    for name, value in _FIELD.findall(record):
        words = set(re.split(r"[_\W]+", name.lower()))
        if not _PLAIN_NUMBER.fullmatch(value.strip()) or not (words & _MONEY_NAMES or value.strip()[0] in "$€£"):
            continue  # "days_to_pay=30" is no amount
        if words & _LOW_NAMES and low is None:
            low = value_of(value)
        elif words & _HIGH_NAMES and high is None:
            high = value_of(value)
    return (Bracket(low, high),) if low is not None or high is not None else ()


def fit(amounts: tuple[float, ...], line_brackets: tuple[Bracket, ...]) -> float:
    """1 when the line's bracket holds an amount of the question, else 0. A bracket that does not hold it is
    no worse than none: "differences above USD 1,000 must be investigated" answers "it's off by $800, do I
    need to chase it"."""
    if not amounts or not line_brackets:
        return 0.0
    return 1.0 if any(b.holds(a) for a in amounts for b in line_brackets) else 0.0
