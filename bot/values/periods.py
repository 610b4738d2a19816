"""Reporting periods named in a question: Q3 2025, March 2025, 2025-03, FY2025, 2025, H1 2025, last month/quarter/year,
year to date (YTD, QTD), trailing 12 months (TTM, LTM, last 6 months), alone or ending at a named period, and
"from <period> to <period>" as one run of months (any other two periods are refused, never half read).

Brightline's fiscal year is the calendar year (corpus/metrics/bookings_and_billings.yaml, cumulative_billings), so
FY25 is January-December 2025. Relative periods are anchored to a reference date (`as_of`: given, or the month after
the latest data), which the answer states: "last month" is the last whole month before it, and year to date and
trailing months run to the end of that month (the last closed month).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal, NamedTuple

from bot.errors import MetricQueryError

# "range": any other run of whole months (year to date, trailing 12 months, a half year), queried as one total
Grain = Literal["month", "quarter", "year", "range"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_WORD = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?" \
              r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_YEAR = r"'?(\d{4}|\d{2})"
_ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_COUNT = {"one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "nine": 9, "twelve": 12, "eighteen": 18,
          "twenty four": 24}

# (pattern, kind); the first that matches wins, so a quarter's year is not read as a year of its own
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\bq([1-4])\s*(?:of\s+)?(?:fy\s*)?{_YEAR}\b"), "quarter"),
    (re.compile(r"\b(?:fy\s*)?(\d{4})\s*q([1-4])\b"), "year_quarter"),
    (re.compile(rf"\b(first|1st|second|2nd|third|3rd|fourth|4th)\s+quarter\s+(?:of\s+)?(?:fy\s*)?{_YEAR}\b"),
     "ordinal_quarter"),
    (re.compile(rf"\b(?:h([12])\s*(?:of\s+)?(?:fy\s*)?{_YEAR}|([12])h\s*(?:fy\s*)?{_YEAR})\b"), "half"),
    (re.compile(rf"\b(first|1st|second|2nd)\s+half\s+(?:of\s+)?(?:the\s+)?(?:fy\s*|fiscal\s+year\s+)?{_YEAR}\b"),
     "ordinal_half"),
    (re.compile(rf"\b{_MONTH_WORD}\.?\s+(?:of\s+)?{_YEAR}\b"), "month"),
    (re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])\b(?!-\d)"), "iso_month"),
    (re.compile(r"\b(?:last|previous|prior)\s+(month|quarter|fiscal\s+year|year)\b"), "relative"),
    (re.compile(r"\bfy\s*'?(\d{4}|\d{2})\b"), "fiscal_year"),
    (re.compile(r"\b(?:in|for|during|of|over)\s+(20\d\d)\b"), "year"),
)
# Year or quarter to date, and trailing months: alone (relative) or running to a named period ("YTD Q3 2025")
_TO_DATE = re.compile(
    r"\b(?:(?:fiscal\s+)?(year|quarter)[\s-]to[\s-]date|f?(y|q)td)\b(?:\s+(?:at|to|through|thru|as\s+of|ending|"
    r"until)(?:\s+(?:the\s+)?end\s+of)?\b)?"
)
_TRAILING = re.compile(
    r"\b(?:(?:trailing|rolling|last|past|previous|prior)\s+(\d{1,2}|one|two|three|four|six|nine|twelve|eighteen"
    r"|twenty[\s-]four)[\s-](months?|quarters?)|(?:trailing|rolling)\s+(year|twelve[\s-]months?)|(ttm|ltm))\b"
    r"(?:\s+(?:to|through|thru|ending(?:\s+in)?|ended|as\s+of|at|until)(?:\s+(?:the\s+)?end\s+of)?\b)?"
)
# Period phrases understood as periods but not queryable: refused with the forms that work.
_UNSUPPORTED = re.compile(
    r"\b(mtd|month[\s-]to[\s-]date|trailing(?:\s+\w+){0,2}|rolling(?:\s+\w+){0,2}|(?:last|past|previous)\s+\d+\s+\w+"
    r"|(?:last|this|next)\s+week|this\s+(?:month|quarter|year|fiscal\s+year)|next\s+(?:month|quarter|year)"
    r"|yesterday|today|h[12]|[12]h|(?:first|second)\s+half|(?:since|between|from)\s+(?:the\s+)?(?:q[1-4]|fy|\d|"
    rf"{_MONTH_WORD}|last|start|beginning)\w*|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})\b"
)

# "<period> to <period>", "between <period> and <period>": one run of months
_RANGE_JOIN = re.compile(r"\s*(?:to|through|thru|until|till|and|-|–)\s*")

SUPPORTED_FORMS = (
    "a month (March 2025, 2025-03), a quarter (Q3 2025), a half (H1 2025), a year (FY2025, 2025), last "
    "month/quarter/year, year to date (YTD, or YTD Q3 2025) or trailing 12 months (TTM, last 6 months)"
)


@dataclass(frozen=True)
class Period:
    """A whole reporting period: first and last day (inclusive), its grain and how finance writes it."""

    start: date
    end: date
    grain: Grain
    label: str
    relative: str = ""  # "last quarter" when the question said so: counted again from the reference date
    kind: str = ""  # "year to date", "trailing 12 months" when the question said so


class FoundPeriod(NamedTuple):
    """A period found in a text, the words that named it, and where they are (to blank them out)."""

    period: Period
    words: str
    spans: tuple[tuple[int, int], ...]


def reanchor(period: Period, as_of: date) -> Period:
    """A relative period ("last quarter", "YTD") counted again from another reference date; others unchanged."""
    if not period.relative:
        return period
    found = find_period(period.relative, as_of)
    if found is None:  # pragma: no cover - `relative` always holds words find_period read
        raise MetricQueryError(f"'{period.relative}' is not a period I can read")
    return found.period


def month_period(year: int, month: int) -> Period:
    start = date(year, month, 1)
    end = _next_month(start) - timedelta(days=1)
    return Period(start, end, "month", f"{start:%B} {year}")


def quarter_period(year: int, quarter: int) -> Period:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year, 12, 31) if quarter == 4 else date(year, 3 * quarter + 1, 1) - timedelta(days=1)
    return Period(start, end, "quarter", f"Q{quarter} {year}")


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), "year", f"FY{year}")


def half_period(year: int, half: int) -> Period:
    start = date(year, 1 if half == 1 else 7, 1)
    end = date(year, 6, 30) if half == 1 else date(year, 12, 31)
    return Period(start, end, "range", f"H{half} {year}")


def months_period(start: date, end: date, kind: str) -> Period:
    """The whole months from `start`'s to `end`'s, labelled as finance writes a range ("January–September 2025")."""
    first = start.replace(day=1)
    last = _next_month(end.replace(day=1)) - timedelta(days=1)
    if (first.year, first.month) == (last.year, last.month):
        label = f"{first:%B %Y}"
    elif first.year == last.year:
        label = f"{first:%B}–{last:%B %Y}"
    else:
        label = f"{first:%B %Y}–{last:%B %Y}"
    return Period(first, last, "range", label, kind=kind)


def find_period(text: str, as_of: date) -> FoundPeriod | None:
    """The period a question names and the words that named it; None if it names none.

    Raises MetricQueryError for a period phrase that is understood but not supported ("this quarter", MTD, a
    date range), naming it and the forms that work.
    """
    lowered = text.lower()
    modifier = _TO_DATE.search(lowered) or _TRAILING.search(lowered)
    rest = _blank(lowered, modifier.span()) if modifier else lowered
    named = _named(rest)
    if named is not None:
        rest = _blank(rest, named[1].span())
        second = _named(rest)
        if second is not None:
            if modifier is not None:
                raise MetricQueryError(f"'{modifier.group(0).strip()}' with two periods is more than I can read; ask "
                                       f"for one period ({SUPPORTED_FORMS})")
            return _between(lowered, named, second, as_of)
    unsupported = _UNSUPPORTED.search(rest)
    if unsupported:
        raise MetricQueryError(f"'{unsupported.group(0)}' is not a period I can query; ask for {SUPPORTED_FORMS}.")
    if modifier is None and named is None:
        return None
    spans = tuple(sorted(m.span() for m in (modifier, named[1] if named else None) if m is not None))
    words = " ".join(lowered[s:e].strip() for s, e in spans)
    if modifier is None:
        assert named is not None
        return FoundPeriod(_period(named[0], named[1], as_of), words, spans)
    if named is not None:
        base = _period(named[0], named[1], as_of)
        if base.relative:  # "YTD last quarter": still counted from the reference date
            return FoundPeriod(_modified(modifier, base.end, words, ""), words, spans)
        return FoundPeriod(_modified(modifier, base.end, "", base.label), words, spans)
    last_closed = as_of.replace(day=1) - timedelta(days=1)
    return FoundPeriod(_modified(modifier, last_closed, modifier.group(0).strip(), ""), words, spans)


def parse_period(text: str, as_of: date) -> Period:
    """A period given on its own (`--period Q3 2025`); MetricQueryError when it is not one."""
    found = find_period(text if re.search(r"\b(in|for)\b", text) else f"for {text}", as_of)
    if found is None:
        raise MetricQueryError(f"'{text}' is not a period I can read; give {SUPPORTED_FORMS}.")
    return found.period


def _between(text: str, one: tuple[str, re.Match[str]], other: tuple[str, re.Match[str]], as_of: date) -> FoundPeriod:
    """Two periods: "from January to March 2025" style ranges are one run of months; anything else is refused."""
    first, last = sorted((one, other), key=lambda found: found[1].start())
    start, end = _period(first[0], first[1], as_of), _period(last[0], last[1], as_of)
    joined = _RANGE_JOIN.fullmatch(text[first[1].end(): last[1].start()])
    if joined is None or start.relative or end.relative or start.start > end.end:
        earlier, later = sorted((start, end), key=lambda period: period.start)
        raise MetricQueryError(
            f"the question names two periods ({start.label} and {end.label}); ask for one period, or a range of "
            f"months as 'from {earlier.label} to {later.label}'"
        )
    lead = re.search(r"\b(?:from|between)\s+$", text[: first[1].start()])
    span = (lead.start() if lead else first[1].start(), last[1].end())
    return FoundPeriod(months_period(start.start, end.end, ""), text[span[0]: span[1]].strip(), (span,))


def _named(text: str) -> tuple[str, re.Match[str]] | None:
    for pattern, kind in _PATTERNS:
        match = pattern.search(text)
        if match:
            return kind, match
    return None


def _modified(modifier: re.Match[str], end: date, relative: str, base_label: str) -> Period:
    """Year/quarter to date or trailing months ending on `end`'s month."""
    groups = modifier.groups()
    if modifier.re is _TO_DATE:
        unit = groups[0] or {"y": "year", "q": "quarter"}[groups[1]]
        start = date(end.year, 1 if unit == "year" else 3 * ((end.month - 1) // 3) + 1, 1)
        kind = f"{unit} to date"
    else:
        count, unit, year_words, acronym = groups
        if count:
            months = (int(count) if count.isdigit() else _COUNT[re.sub(r"[\s-]+", " ", count)])
            months *= 3 if unit.startswith("quarter") else 1
        else:
            months = 12
        if not 1 <= months <= 36:
            raise MetricQueryError(f"'{modifier.group(0).strip()}' is too long a window; ask for at most 36 months")
        first = end.replace(day=1)
        for _ in range(months - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        start = first
        kind = f"trailing {months} months" if months != 1 else "trailing month"
    period = months_period(start, end, kind)
    if base_label:
        kind = f"{kind} through {base_label}"
    return replace(period, kind=kind, relative=relative)


def _period(kind: str, match: re.Match[str], as_of: date) -> Period:
    groups = match.groups()
    if kind == "quarter":
        return quarter_period(_year(groups[1]), int(groups[0]))
    if kind == "year_quarter":
        return quarter_period(int(groups[0]), int(groups[1]))
    if kind == "ordinal_quarter":
        return quarter_period(_year(groups[1]), _ORDINAL[groups[0]])
    if kind == "half":
        half, year = (groups[0], groups[1]) if groups[0] else (groups[2], groups[3])
        return half_period(_year(year), int(half))
    if kind == "ordinal_half":
        return half_period(_year(groups[1]), _ORDINAL[groups[0]])
    if kind == "month":
        return month_period(_year(groups[1]), _MONTHS.index(groups[0][:3]) + 1)
    if kind == "iso_month":
        return month_period(int(groups[0]), int(groups[1]))
    if kind in ("fiscal_year", "year"):
        return year_period(_year(groups[0]))
    return _relative(groups[0].split()[-1], as_of, match.group(0))


def _relative(unit: str, as_of: date, words: str) -> Period:
    """The last whole month, quarter or year before `as_of`."""
    if unit == "month":
        first = as_of.replace(day=1) - timedelta(days=1)
        period = month_period(first.year, first.month)
    elif unit == "quarter":
        quarter = (as_of.month - 1) // 3 + 1
        year, quarter = (as_of.year - 1, 4) if quarter == 1 else (as_of.year, quarter - 1)
        period = quarter_period(year, quarter)
    else:
        period = year_period(as_of.year - 1)
    return Period(period.start, period.end, period.grain, period.label, relative=words)


def _blank(text: str, span: tuple[int, int]) -> str:
    """`text` with the span replaced by spaces (positions of the rest unchanged)."""
    return text[: span[0]] + " " * (span[1] - span[0]) + text[span[1]:]


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
