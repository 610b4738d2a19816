"""Questions asking for a figure of a period, told from questions about a definition, and whether a passage
is about the period asked for."""

from __future__ import annotations

import pytest

from bot.answering.figures import Period, asks_for_an_amount, needs_a_stated_figure, period_asked


@pytest.mark.parametrize(
    ("question", "period"),
    [
        ("what was NRR for december 2025", Period("december 2025", 2025, 12)),
        ("Q4 2025 burn multiple?", Period("Q4 2025", 2025, quarter=4)),
        ("gross margin last quarter", Period("last quarter")),
        ("ARR at the end of FY26?", Period("FY26", 2026)),
        ("churn in sept '25?", Period("sept '25", 2025, 9)),
        ("ytd bookings", Period("ytd")),
        ("total fees for full year 2025?", Period("full year 2025", 2025)),
        ("how much deferred rev did we have at 6/30/26", Period("6/30/26", 2026, 6)),
        ("cash at 2026-03-31?", Period("2026-03-31", 2026, 3)),
        ("how many disputes did we lose in march 12, 2026", Period("march 12, 2026", 2026, 3)),
    ],
)
def test_a_period_is_a_request_for_a_figure(question: str, period: Period) -> None:
    assert period_asked(question) == period


@pytest.mark.parametrize(
    "question",
    [
        "how is NRR calculated for Q4?",  # about the definition, whatever the period
        "does deferred revenue include usage billed in december 2025?",
        "payouts created on jun 30 that arrive jul 1",  # days, not a period
        "refund window on annual plans - is it still 14 days?",
        "what is the march close date",
        "is it 1/12 of the annual price each month?",  # a fraction, not a date
    ],
)
def test_questions_about_definitions_and_dates_are_not(question: str) -> None:
    assert period_asked(question) is None


@pytest.mark.parametrize(
    ("period", "passage"),
    [
        (Period("aug 2026", 2026, 8), '"month": "2026-08", "flash_revenue": "BD3"'),
        (Period("aug 2026", 2026, 8), "The August 2026 close starts on September 1."),
        (Period("6/30/26", 2026, 6), "Payouts created on June 30, 2026 arrive on July 1."),
        (Period("6/30/26", 2026, 6), "as of 06/30/2026"),
        (Period("Q3 2026", 2026, quarter=3), "Q3 2026 quarter-end additions"),
        (Period("fy25", 2025), "FY2025 audit"),
    ],
)
def test_a_passage_that_names_the_period_in_any_spelling_is_about_it(period: Period, passage: str) -> None:
    assert period.mentioned_in(passage)


@pytest.mark.parametrize(
    ("period", "passage"),
    [
        (Period("april 2026", 2026, 4), "Example: DSO for March 2026 is 41 days."),
        (Period("april 2026", 2026, 4), "April 2025 example"),
        (Period("Q3 2026", 2026, quarter=3), "Q2 2026"),
        (Period("full year 2025", 2025), "the 2025 refund policy"),  # a year alone is not the fiscal year
        (Period("last quarter"), "last quarter"),  # a relative period cannot be looked for
    ],
)
def test_a_passage_about_another_period_is_not(period: Period, passage: str) -> None:
    assert not period.mentioned_in(passage)


def test_a_metric_definition_or_a_passage_about_another_period_needs_a_line_stating_the_figure() -> None:
    dated, relative = Period("april 2026", 2026, 4), Period("last month")
    assert needs_a_stated_figure(dated, "April 2026 worked example", is_metric_definition=True, asks_an_amount=False)
    assert needs_a_stated_figure(dated, "March 2026 worked example", is_metric_definition=False, asks_an_amount=True)
    assert not needs_a_stated_figure(dated, "April 2026 close calendar", is_metric_definition=False,
                                     asks_an_amount=True)
    assert not needs_a_stated_figure(relative, "anything", is_metric_definition=False, asks_an_amount=True)


def test_a_passage_about_another_fiscal_year_or_quarter_cannot_give_the_one_asked() -> None:
    question = "what merit increase are we assuming for fy28"  # asks no amount in so many words
    period = period_asked(question)
    assert period == Period("fy28", 2028) and not asks_for_an_amount(question)
    assert needs_a_stated_figure(period, "The main FY27 assumptions: merit increases of 3.5%", False, False)
    assert not needs_a_stated_figure(period, "Merit increases average 3.5% a year", False, False)
    assert not needs_a_stated_figure(period, "The FY28 assumptions: merit increases of 3%", False, False)
    # a month is not a plan period: a policy's "last updated 2025-01-10" does not make march 2025 another's
    scene = Period("march 2025", 2025, 3)
    assert not needs_a_stated_figure(scene, "Last updated 2025-01-10. Refund window for annual plans", False, False)


def test_a_date_that_only_sets_the_scene_asks_no_figure() -> None:
    question = "does the 2024 refund window still apply to a refund requested in march 2025?"
    period = period_asked(question)
    assert period == Period("march 2025", 2025, 3) and not asks_for_an_amount(question)
    assert not needs_a_stated_figure(period, "Refund window for annual plans", False, asks_for_an_amount(question))


@pytest.mark.parametrize(
    ("question", "amount"),
    [
        ("how much deferred rev did we have at 6/30/26?", True),
        ("total fees we paid for full year 2025?", True),
        ("how many disputes did we lose in march 2026", True),
        ("whats the FY26 materiality $ number the cfo signed off?", True),
        ("refund amount for a march 2025 cancellation?", True),
        ("would they have gotten a refund back then?", False),
    ],
)
def test_how_much_and_totals_ask_an_amount(question: str, amount: bool) -> None:
    assert asks_for_an_amount(question) is amount
