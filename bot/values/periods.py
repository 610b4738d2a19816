"""Reporting periods named in a question: Q3 2025, March 2025, 2025-03, FY2025, 2025, last month/quarter/year.

Brightline's fiscal year is the calendar year (corpus/metrics/bookings_and_billings.yaml), so FY25 is 2025.
Relative periods are anchored to a reference date (`as_of`: given, or the month after the latest data), which the
answer states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.errors import MetricQueryError

Grain = Literal["month", "quarter", "year"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_WORD = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?" \
              r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_YEAR = r"'?(\d{4}|\d{2})"
_ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}

# (pattern, kind); the first that matches wins, so a quarter's year is not read as a year of its own
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\bq([1-4])\s*(?:of\s+)?(?:fy\s*)?{_YEAR}\b"), "quarter"),
    (re.compile(r"\b(?:fy\s*)?(\d{4})\s*q([1-4])\b"), "year_quarter"),
    (re.compile(rf"\b(first|1st|second|2nd|third|3rd|fourth|4th)\s+quarter\s+(?:of\s+)?(?:fy\s*)?{_YEAR}\b"),
     "ordinal_quarter"),
    (re.compile(rf"\b{_MONTH_WORD}\.?\s+(?:of\s+)?{_YEAR}\b"), "month"),
    (re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])\b(?!-\d)"), "iso_month"),
    (re.compile(r"\b(?:last|previous|prior)\s+(month|quarter|fiscal\s+year|year)\b"), "relative"),
    (re.compile(r"\bfy\s*'?(\d{4}|\d{2})\b"), "fiscal_year"),
    (re.compile(r"\b(?:in|for|during|of|over)\s+(20\d\d)\b"), "year"),
)

# Period phrases understood as periods but not queryable yet: refused with the forms that work.
_UNSUPPORTED = re.compile(
    r"\b(ytd|qtd|mtd|year[\s-]to[\s-]date|quarter[\s-]to[\s-]date|month[\s-]to[\s-]date|trailing(?:\s+\w+){0,2}"
    r"|ttm|ltm|rolling(?:\s+\w+){0,2}|(?:last|past|previous)\s+\d+\s+\w+|(?:last|this|next)\s+week|this\s+"
    r"(?:month|quarter|year|fiscal\s+year)|next\s+(?:month|quarter|year)|yesterday|today|h[12](?:\s+\d{4})?"
    r"|(?:first|second)\s+half|since\s+\w+|between\s+\w+|\d{1,2}/\d{1,2}/\d{2,4})\b"
)

SUPPORTED_FORMS = "a month (March 2025, 2025-03), a quarter (Q3 2025), a year (FY2025, 2025) or last month/quarter/year"


@dataclass(frozen=True)
class Period:
    """A whole reporting period: first and last day (inclusive), its grain and how finance writes it."""

    start: date
    end: date
    grain: Grain
    label: str
    relative: str = ""  # "last quarter" when the question said so


def reanchor(period: Period, as_of: date) -> Period:
    """A relative period ("last quarter") counted again from another reference date; others unchanged."""
    if not period.relative:
        return period
    return _relative(period.relative.split()[-1], as_of, period.relative)


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


def find_period(text: str, as_of: date) -> tuple[Period, str] | None:
    """The period a question names and the words that named it; None if it names none.

    Raises MetricQueryError for a period phrase that is understood but not supported (YTD, trailing twelve months,
    H1, "this quarter"), naming it and the forms that work.
    """
    lowered = text.lower()
    unsupported = _UNSUPPORTED.search(lowered)
    if unsupported:
        raise MetricQueryError(
            f"'{unsupported.group(0)}' is not a period I can query yet; ask for {SUPPORTED_FORMS}."
        )
    for pattern, kind in _PATTERNS:
        match = pattern.search(lowered)
        if match:
            return _period(kind, match, as_of), match.group(0)
    return None


def parse_period(text: str, as_of: date) -> Period:
    """A period given on its own (`--period Q3 2025`); MetricQueryError when it is not one."""
    found = find_period(text if re.search(r"\b(in|for)\b", text) else f"for {text}", as_of)
    if found is None:
        raise MetricQueryError(f"'{text}' is not a period I can read; give {SUPPORTED_FORMS}.")
    return found[0]


def _period(kind: str, match: re.Match[str], as_of: date) -> Period:
    groups = match.groups()
    if kind == "quarter":
        return quarter_period(_year(groups[1]), int(groups[0]))
    if kind == "year_quarter":
        return quarter_period(int(groups[0]), int(groups[1]))
    if kind == "ordinal_quarter":
        return quarter_period(_year(groups[1]), _ORDINAL[groups[0]])
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


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
