"""Questions that ask for a figure of a period: "what was NRR for december 2025", "dso for april 2026?".

The documents define metrics and mostly hold no results. A figure for a period comes from a passage about
that period (the close calendar's 2026-08 entry answers "when are the books closed for the august 2026
close"), or from a line that states one: it names the period, is about what was asked, and holds an
amount, a percentage or a duration ("Example for April 2025: ... = 1.91%" under revenue churn). So when
the best passage is a metric definition, or the question asks an amount ("how much", "total", or it
names a metric) and the best passage never mentions the period, or the best passage is about another
quarter or fiscal year than the one named (the FY27 plan for "fy28"), the answer leads with such a line of the
top documents, and is refused when there is none, however well the passages match (a revision-history
row dated that month states no figure). Asking how a metric is calculated for a period ("how is NRR
calculated for Q4?") is a question about the definition, and a date that only sets the scene ("a refund
requested in march 2025") asks no amount: both are left to the confidence model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.answering.conflicts import figures

if TYPE_CHECKING:
    from bot.answering.spans import QuestionWords, ScoredSpan

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_YEAR = r"(?:20\d\d|'\d\d)"
_PERIOD = re.compile(
    rf"(?i)\b(?:(?P<quarter>q[1-4])(?:\s*(?:fy)?\s*(?P<quarter_year>'?\d{{2,4}}))?"
    rf"|(?:fy|full[ -]year|fiscal(?:\s+year)?)\s*(?P<fiscal_year>'?\d{{2,4}})"
    rf"|h[12]\s+20\d\d"
    rf"|(?P<month>{_MONTH})(?:\s+\d{{1,2}}(?:st|nd|rd|th)?,?)?\s+(?P<month_year>{_YEAR})"
    rf"|(?P<us_month>[01]?\d)/(?:[0-3]?\d/(?P<us_year>20\d\d|\d\d)|(?P<us_year4>20\d\d))"
    rf"|(?P<iso_year>20\d\d)-(?P<iso_month>[01]\d)(?:-[0-3]\d)?"
    r"|(?:last|this|next|previous|prior)\s+(?:month|quarter|year|week)|ytd|mtd|qtd)\b"
)
_AMOUNT = re.compile(
    r"(?i)\b(?:how\s+(?:much|many|big|large)|total|spend|spent|paid|earned|booked|billed|collected|cost us)\b"
    r"|\$|(?<!\w)(?:usd|eur|gbp)\b|\b(?:amount|number|figure)\b"
)
# Dates inside a line, taken out before looking for the figure it states.
_DATE = re.compile(
    rf"(?i)\b{_MONTH}(?:\s+\d{{1,2}}(?:st|nd|rd|th)?,?)?\s+{_YEAR}\b|\b20\d\d(?:-\d\d){{0,2}}\b|\bq[1-4]\b"
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
)
_ABOUT_THE_DEFINITION = re.compile(  # "how much" and "how many" ask an amount, not how
    r"(?i)\b(?:how(?!\s+(?:much|many)\b)|why|formula|calculat\w*|comput\w*|defin\w*|mean\w*|includ\w*"
    r"|exclud\w*|treat\w*)\b"
)


@dataclass(frozen=True)
class Period:
    """A period a question asks a figure for, as the question says it, and what it names when it can be
    read: a year with a month or a quarter, or a fiscal year. Relative periods ("last quarter") name none."""

    text: str
    year: int | None = None
    month: int | None = None
    quarter: int | None = None

    @property
    def kind(self) -> str:
        return "month" if self.month else "quarter" if self.quarter else "fiscal year" if self.year else "relative"

    def mentioned_in(self, text: str) -> bool:
        """Whether a passage is about this period: it names the same month, quarter or fiscal year in any
        of the usual spellings. A relative period is never found (no passage says "last quarter" of now)."""
        if self.year is None:
            return False
        yy, yyyy = f"{self.year % 100:02d}", str(self.year)
        year = rf"(?:{yyyy}|'{yy})"
        if self.month:
            name = _MONTHS[self.month - 1]
            pattern = (
                rf"\b{name}[a-z]*\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?,?)?\s+{year}\b"
                rf"|\b{yyyy}-{self.month:02d}\b|\b0?{self.month}/(?:[0-3]?\d/(?:{yyyy}|{yy})|{yyyy})\b"
            )
        elif self.quarter:
            quarter = f"q{self.quarter}"
            pattern = rf"\b{quarter}\s*(?:fy\s*)?{year}|\b{yyyy}[ -]?{quarter}\b|\b{quarter}\s+fy{yy}\b"
        else:
            pattern = rf"\b(?:fy\s*{year}|fy{yy}|fiscal(?:\s+year)?\s+{yyyy}|full[ -]year\s+{yyyy})\b"
        return re.search(pattern, text, re.IGNORECASE) is not None


def needs_a_stated_figure(period: Period, passage: str, is_metric_definition: bool, asks_an_amount: bool) -> bool:
    """Whether the best passage cannot give the figure asked for, so that only a line stating it can: the
    passage is a metric definition; or the question names a period with a year that the passage never
    mentions, and it asks an amount ("how much", or it names a metric) or the passage is about another
    quarter or fiscal year (the FY27 plan's assumptions do not answer "what are we assuming for fy28"). A
    date that only sets the scene ("would they have got a refund back in sept 2024?") asks no amount, and a
    relative period ("last quarter") cannot be looked for: only a metric definition rules those out."""
    if is_metric_definition:
        return True
    if period.year is None or period.mentioned_in(passage):
        return False
    return asks_an_amount or (period.kind != "month" and any(p.kind == period.kind for p in periods_in(passage)))


def lines_of_period(period: Period, scored: Sequence[ScoredSpan], question: QuestionWords) -> list[ScoredSpan]:
    """The lines among `scored` (best first) that give a figure for `period`: they name the period, hold what
    the figure is of (the question's rarest word besides the period's own, in the line or its heading), and
    state an amount, a percentage or a duration once their dates are taken out ("Example for April 2025:
    (27,000 + 14,000) / 2,150,000 = 1.91%" under revenue churn). A revision-history row dated that month, or
    a plan's other figures for that year, do not."""
    period_words = set(question.keyword.tokens(period.text))
    rest = [w for w in question.words if w not in period_words]
    if not rest:
        return []
    subject = max(rest, key=lambda w: question.weights[w])
    return [
        line for line in scored
        if subject in line.found | line.context_found and period.mentioned_in(line.span.text)
        and figures(_DATE.sub(" ", line.span.text))
    ]


def asks_for_an_amount(question: str) -> bool:
    """"how much", "how many", "total", "what did we spend", "the $ number": the question wants a number, not
    a rule."""
    return _AMOUNT.search(question) is not None


def period_asked(question: str) -> Period | None:
    """The period a question asks a figure for ("Q4 2025", "december 2025", "6/30/26", "last quarter"), or
    None when it names none or asks how something is defined or calculated."""
    match = _PERIOD.search(question)
    if not match or _ABOUT_THE_DEFINITION.search(question):
        return None
    return _period(match)


def periods_in(text: str) -> list[Period]:
    """Every period a passage names, read as period_asked() reads a question's."""
    return [_period(match) for match in _PERIOD.finditer(text)]


def _period(match: re.Match[str]) -> Period:
    found = {k: v for k, v in match.groupdict().items() if v}
    text = match.group(0)
    if "quarter" in found:
        year = _year(found.get("quarter_year"))
        return Period(text, year, quarter=int(found["quarter"][1])) if year else Period(text)
    if "fiscal_year" in found:
        return Period(text, _year(found["fiscal_year"]))
    if "month" in found:
        month = _MONTHS.index(found["month"][:3].lower()) + 1
        return Period(text, _year(found["month_year"]), month)
    if "us_month" in found and 1 <= int(found["us_month"]) <= 12:
        return Period(text, _year(found.get("us_year") or found.get("us_year4")), int(found["us_month"]))
    if "iso_month" in found and 1 <= int(found["iso_month"]) <= 12:
        return Period(text, int(found["iso_year"]), int(found["iso_month"]))
    return Period(text)


def _year(text: str | None) -> int | None:
    """2026 from "2026", "26" or "'26"."""
    digits = (text or "").lstrip("'")
    if not digits.isdigit() or len(digits) not in (2, 4):
        return None
    return int(digits) if len(digits) == 4 else 2000 + int(digits)
