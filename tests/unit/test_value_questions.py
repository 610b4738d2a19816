"""Periods and metric names read from value questions (no warehouse, no MetricFlow)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import MetricQueryError
from bot.values.periods import find_period, parse_period, reanchor
from bot.values.project import Definition
from bot.values.question import MetricNames, read_question

AS_OF = date(2026, 1, 15)


def definition(name: str, label: str = "", aliases: tuple[str, ...] = ()) -> Definition:
    return Definition(name, label, aliases, "simple", "metrics/x.yaml", 1, 9)


NAMES = MetricNames([
    definition("arr", "Annual recurring revenue (ARR)", ("annualized run rate",)),
    definition("net_new_arr", "Net new ARR"),
    definition("cumulative_billings", "Cumulative billings (year to date)", ("YTD billings",)),
    definition("billings", "Billings"),
    definition("mrr", "Monthly recurring revenue (MRR)"),
])


@pytest.mark.parametrize(("text", "start", "end", "label"), [
    ("what was ARR in Q3 2025?", date(2025, 7, 1), date(2025, 9, 30), "Q3 2025"),
    ("ARR q4 fy25", date(2025, 10, 1), date(2025, 12, 31), "Q4 2025"),
    ("arr 2025 Q1", date(2025, 1, 1), date(2025, 3, 31), "Q1 2025"),
    ("arr in the second quarter of 2024", date(2024, 4, 1), date(2024, 6, 30), "Q2 2024"),
    ("billings for March 2025", date(2025, 3, 1), date(2025, 3, 31), "March 2025"),
    ("billings feb '24", date(2024, 2, 1), date(2024, 2, 29), "February 2024"),
    ("billings 2025-11", date(2025, 11, 1), date(2025, 11, 30), "November 2025"),
    ("billings FY25", date(2025, 1, 1), date(2025, 12, 31), "FY2025"),
    ("billings in 2024", date(2024, 1, 1), date(2024, 12, 31), "FY2024"),
    ("billings last month", date(2025, 12, 1), date(2025, 12, 31), "December 2025"),
    ("billings last quarter", date(2025, 10, 1), date(2025, 12, 31), "Q4 2025"),
    ("billings previous year", date(2025, 1, 1), date(2025, 12, 31), "FY2025"),
])
def test_periods_are_read_with_their_bounds(text: str, start: date, end: date, label: str) -> None:
    found = find_period(text, AS_OF)
    assert found is not None
    period = found[0]
    assert (period.start, period.end, period.label) == (start, end, label)


def test_last_quarter_in_january_is_the_previous_years_q4_and_can_be_counted_again() -> None:
    period = parse_period("last quarter", date(2025, 2, 1))
    assert (period.label, period.relative) == ("Q4 2024", "last quarter")
    assert reanchor(period, date(2025, 8, 1)).label == "Q2 2025"
    assert reanchor(parse_period("Q3 2025", AS_OF), date(2025, 8, 1)).label == "Q3 2025"


@pytest.mark.parametrize("text", ["billings YTD", "trailing 12 months", "H1 2025", "this quarter", "last 6 months"])
def test_unsupported_periods_are_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(MetricQueryError, match=r"is not a period I can query yet; ask for a month \(March 2025"):
        find_period(text, AS_OF)


def test_a_bare_date_is_not_a_period() -> None:
    assert find_period("the refund requested on 2025-03-14", AS_OF) is None
    with pytest.raises(MetricQueryError, match="'soon' is not a period I can read"):
        parse_period("soon", AS_OF)


@pytest.mark.parametrize(("question", "metric"), [
    ("what was ARR in Q3 2025?", "arr"),
    ("annual recurring revenue for Q3 2025", "arr"),
    ("what was the annualized run rate in 2025", "arr"),
    ("what was net new ARR in Q2 2025", "net_new_arr"),  # the longest name wins over "arr"
    ("YTD billings at the end of Q1 2025", "cumulative_billings"),  # the alias is not read as a period
    ("billings for March 2025", "billings"),
])
def test_metrics_are_found_by_name_label_acronym_or_alias(question: str, metric: str) -> None:
    asked = read_question(question, NAMES, AS_OF)
    assert asked is not None and asked.definition.name == metric


@pytest.mark.parametrize("question", [
    "how is ARR calculated?", "how is ARR defined for Q3 2025", "what does MRR mean", "what is ARR?",
    "how much did we spend on travel in March 2025",
])
def test_questions_that_ask_no_value_are_left_to_the_documents(question: str) -> None:
    assert read_question(question, NAMES, AS_OF) is None


def test_an_unknown_metric_is_refused_by_name_with_close_names() -> None:
    with pytest.raises(MetricQueryError, match="'bilings' is not a metric I know.*Close names: billings"):
        read_question("what were bilings in Q3 2025?", NAMES, AS_OF)


def test_words_that_would_filter_are_refused_not_dropped() -> None:
    with pytest.raises(MetricQueryError, match="'acme' in the question is not part of arr"):
        read_question("what was Acme ARR in Q3 2025", NAMES, AS_OF)


def test_two_metrics_at_once_are_refused() -> None:
    with pytest.raises(MetricQueryError, match=r"more than one metric \(arr, billings\)"):
        read_question("what were ARR and billings in Q3 2025", NAMES, AS_OF)


@pytest.mark.parametrize(("question", "group_by"), [
    ("what was ARR by plan in Q3 2025?", "plan"),
    ("ARR per region for Q3 2025", "region"),
    ("billings broken down by billing interval in March 2025", "billing interval"),
    ("what was ARR in Q3 2025", ""),
])
def test_a_group_by_is_read_for_the_caller_to_resolve(question: str, group_by: str) -> None:
    asked = read_question(question, NAMES, AS_OF)
    assert asked is not None and asked.group_by == group_by


def test_a_filter_after_a_group_by_is_still_refused() -> None:
    with pytest.raises(MetricQueryError, match="'enterprise' in the question is not part of arr"):
        read_question("ARR by plan for enterprise in Q3 2025", NAMES, AS_OF)
