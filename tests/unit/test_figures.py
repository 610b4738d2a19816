"""Questions asking for a metric's figure for a period, told from questions about its definition."""

from __future__ import annotations

import pytest

from bot.figures import period_asked


@pytest.mark.parametrize(
    ("question", "period"),
    [
        ("what was NRR for december 2025", "december 2025"),
        ("Q4 2025 burn multiple?", "Q4 2025"),
        ("gross margin last quarter", "last quarter"),
        ("ARR at the end of FY26?", "FY26"),
        ("churn in sept '25?", "sept '25"),
        ("ytd bookings", "ytd"),
    ],
)
def test_a_period_is_a_request_for_a_figure(question: str, period: str) -> None:
    assert period_asked(question) == period


@pytest.mark.parametrize(
    "question",
    [
        "how is NRR calculated for Q4?",  # about the definition, whatever the period
        "does deferred revenue include usage billed in december 2025?",
        "payouts created on jun 30 that arrive jul 1",  # days, not a period
        "refund window on annual plans - is it still 14 days?",
        "what is the march close date",
    ],
)
def test_questions_about_definitions_and_dates_are_not(question: str) -> None:
    assert period_asked(question) is None
