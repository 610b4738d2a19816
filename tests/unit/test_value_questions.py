"""Periods and metric names read from value questions (no warehouse, no MetricFlow)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import MetricQueryError
from bot.values.filters import AmbiguousQuestion, Filter, find_filters
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
    definition("active_customers", "Active customers", ("paying customers", "logos")),
    definition("new_customers", "New customers", ("new logos",)),
    definition("arpa", "Average revenue per account (ARPA)", ("average MRR per customer",)),
    definition("logo_churn_rate", "Logo churn rate (monthly)", ("customer churn rate",)),
    definition("revenue_churn_rate", "Gross MRR churn rate (monthly)", ("MRR churn rate",)),
])
# the values of arr's dimensions, as the warehouse would give them
ARR_VALUES = {
    "customer_month__plan_tier": ("enterprise", "growth", "starter"),
    "customer_month__region": ("apac", "emea", "north_america"),
    "customer_month__currency": ("AUD", "EUR", "USD"),
    "customer_month__billing_interval": ("annual", "monthly"),
    "customer_month__legal_entity": ("brightline_gmbh", "brightline_inc"),
}


def values(metric: str) -> dict[str, tuple[str, ...]]:
    return ARR_VALUES if metric in ("arr", "mrr") else {}


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
    ("billings H1 2025", date(2025, 1, 1), date(2025, 6, 30), "H1 2025"),
    ("billings h2 fy24", date(2024, 7, 1), date(2024, 12, 31), "H2 2024"),
    ("billings in the second half of 2025", date(2025, 7, 1), date(2025, 12, 31), "H2 2025"),
    ("billings 1H25", date(2025, 1, 1), date(2025, 6, 30), "H1 2025"),
    # relative: through the last closed month before AS_OF (December 2025)
    ("billings YTD", date(2025, 1, 1), date(2025, 12, 31), "January–December 2025"),
    ("billings year to date", date(2025, 1, 1), date(2025, 12, 31), "January–December 2025"),
    ("billings QTD", date(2025, 10, 1), date(2025, 12, 31), "October–December 2025"),
    ("billings TTM", date(2025, 1, 1), date(2025, 12, 31), "January–December 2025"),
    ("billings trailing 12 months", date(2025, 1, 1), date(2025, 12, 31), "January–December 2025"),
    ("billings over the last 6 months", date(2025, 7, 1), date(2025, 12, 31), "July–December 2025"),
    ("billings last 2 quarters", date(2025, 7, 1), date(2025, 12, 31), "July–December 2025"),
    # to a named period
    ("billings YTD Q3 2025", date(2025, 1, 1), date(2025, 9, 30), "January–September 2025"),
    ("billings year to date at the end of March 2025", date(2025, 1, 1), date(2025, 3, 31), "January–March 2025"),
    ("billings LTM to March 2025", date(2024, 4, 1), date(2025, 3, 31), "April 2024–March 2025"),
    ("billings trailing twelve months ending Q2 2025", date(2024, 7, 1), date(2025, 6, 30), "July 2024–June 2025"),
    # a range between two named periods
    ("billings from Jan 2025 to March 2025", date(2025, 1, 1), date(2025, 3, 31), "January–March 2025"),
    ("billings between Q3 2024 and Q1 2025", date(2024, 7, 1), date(2025, 3, 31), "July 2024–March 2025"),
])
def test_periods_are_read_with_their_bounds(text: str, start: date, end: date, label: str) -> None:
    found = find_period(text, AS_OF)
    assert found is not None
    period = found[0]
    assert (period.start, period.end, period.label) == (start, end, label)


@pytest.mark.parametrize(("text", "message"), [
    ("billings Q3 2025 vs Q3 2024", r"names two periods \(Q3 2025 and Q3 2024\); ask for one period, or a range of "
                                    r"months as 'from Q3 2024 to Q3 2025'"),
    ("billings from Q3 2025 to Q1 2025", r"names two periods"),
    ("billings last quarter to March 2025", r"names two periods \(Q4 2025 and March 2025\)"),
    ("billings YTD Q3 2025 and Q3 2024", r"'ytd' with two periods is more than I can read"),
])
def test_two_periods_that_are_no_range_are_refused_not_half_read(text: str, message: str) -> None:
    with pytest.raises(MetricQueryError, match=message):
        find_period(text, AS_OF)


def test_last_quarter_in_january_is_the_previous_years_q4_and_can_be_counted_again() -> None:
    period = parse_period("last quarter", date(2025, 2, 1))
    assert (period.label, period.relative) == ("Q4 2024", "last quarter")
    assert reanchor(period, date(2025, 8, 1)).label == "Q2 2025"
    assert reanchor(parse_period("Q3 2025", AS_OF), date(2025, 8, 1)).label == "Q3 2025"


def test_relative_ranges_are_counted_again_from_another_date_and_say_what_they_are() -> None:
    ytd = parse_period("YTD", AS_OF)
    assert (ytd.relative, ytd.kind, ytd.grain) == ("ytd", "year to date", "range")
    again = reanchor(ytd, date(2025, 10, 2))
    assert (again.start, again.end, again.label) == (date(2025, 1, 1), date(2025, 9, 30), "January–September 2025")
    ttm = reanchor(parse_period("last 12 months", AS_OF), date(2025, 4, 1))
    assert (ttm.start, ttm.end, ttm.kind) == (date(2024, 4, 1), date(2025, 3, 31), "trailing 12 months")
    fixed = parse_period("YTD Q3 2025", AS_OF)
    assert (fixed.relative, fixed.kind) == ("", "year to date through Q3 2025")
    assert reanchor(fixed, date(2024, 1, 1)) == fixed


@pytest.mark.parametrize("text", ["this quarter", "MTD", "H1", "billings since March", "last 5 weeks",
                                  "billings from jan to March 2025"])
def test_unsupported_periods_are_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(MetricQueryError, match=r"is not a period I can query; ask for a month \(March 2025"):
        find_period(text, AS_OF)


def test_a_window_over_three_years_is_refused() -> None:
    with pytest.raises(MetricQueryError, match="too long a window"):
        find_period("billings trailing 48 months", AS_OF)


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


def test_words_that_are_no_known_value_are_refused_by_name_not_dropped() -> None:
    with pytest.raises(MetricQueryError, match=r"'Acme' is not a known value of any dimension of arr "
                                               r"\(billing_interval, currency, legal_entity, plan_tier, region\)"):
        read_question("what was Acme ARR in Q3 2025", NAMES, AS_OF, values)
    with pytest.raises(MetricQueryError, match=r"'Acme' in the question is not part of billings or the period, and "
                                               r"billings has no dimension values"):
        read_question("what were Acme billings in Q3 2025", NAMES, AS_OF, values)
    with pytest.raises(MetricQueryError, match=r"'enterprize'.*Close values: enterprise \(plan_tier\)"):
        read_question("what was enterprize ARR in Q3 2025", NAMES, AS_OF, values)


@pytest.mark.parametrize(("question", "filters"), [
    ("what was enterprise ARR in Q3 2025?", [("customer_month__plan_tier", ("enterprise",), False)]),
    ("ARR in EMEA for Q3 2025", [("customer_month__region", ("emea",), False)]),
    ("ARR billed in EUR for Q3 2025", [("customer_month__currency", ("EUR",), False)]),
    ("ARR for customers in North America in Q3 2025", [("customer_month__region", ("north_america",), False)]),
    ("ARR for Brightline GmbH in Q3 2025", [("customer_month__legal_entity", ("brightline_gmbh",), False)]),
    ("ARR for the GmbH entity in Q3 2025", [("customer_month__legal_entity", ("brightline_gmbh",), False)]),
    ("ARR for EMEA and APAC in Q3 2025", [("customer_month__region", ("emea", "apac"), False)]),
    ("ARR excluding EMEA in Q3 2025", [("customer_month__region", ("emea",), True)]),
    ("ARR for enterprise customers on annual plans in the EMEA region in Q3 2025", [
        ("customer_month__plan_tier", ("enterprise",), False),
        ("customer_month__billing_interval", ("annual",), False),
        ("customer_month__region", ("emea",), False),
    ]),
])
def test_dimension_values_named_become_filters_of_the_known_values(
    question: str, filters: list[tuple[str, tuple[str, ...], bool]]
) -> None:
    asked = read_question(question, NAMES, AS_OF, values)
    assert asked is not None
    assert [(f.dimension, f.values, f.exclude) for f in asked.filters] == filters


def test_filters_are_matched_as_whole_words_and_the_rest_is_handed_back() -> None:
    found, extra = find_filters("q", "for emeaish and enterprise widgets", ARR_VALUES)
    assert found == [Filter("customer_month__plan_tier", ("enterprise",), False, "enterprise")]
    assert extra == ["emeaish", "widgets"]
    assert found[0].describe() == "plan_tier is enterprise"
    assert Filter("x__region", ("emea", "apac"), True).describe() == "region is not emea or apac"


def test_a_value_of_two_dimensions_is_asked_back_unless_a_dimension_word_settles_it() -> None:
    both = {"order__billing_interval": ("annual", "monthly"), "order__payment_terms": ("annual", "net_30")}
    with pytest.raises(AmbiguousQuestion) as caught:
        find_filters("bookings for annual in Q3 2025", "bookings for annual", both)
    assert caught.value.what == "dimension value"
    assert [(c.name, c.label) for c in caught.value.choices] == [
        ("order__billing_interval", "billing_interval = annual"), ("order__payment_terms", "payment_terms = annual"),
    ]
    assert caught.value.choices[0].question == "bookings for annual billing interval in Q3 2025"
    found, extra = find_filters("q", caught.value.choices[1].question.replace(" in Q3 2025", ""), both)
    assert [(f.dimension, f.values) for f in found] == [("order__payment_terms", ("annual",))] and extra == ["bookings"]


def test_a_name_that_ends_several_metric_names_is_asked_back_with_the_choices() -> None:
    with pytest.raises(AmbiguousQuestion) as caught:
        read_question("how many customers did we have in June 2025", NAMES, AS_OF, values)
    assert caught.value.what == "metric" and caught.value.words == "customers"
    assert [c.name for c in caught.value.choices] == ["active_customers", "new_customers"]  # not arpa's "per customer"
    assert caught.value.choices[0].question == "how many active customers did we have in June 2025"
    with pytest.raises(AmbiguousQuestion, match=r"'churn rate' could be more than one metric"):
        read_question("what was churn rate in Q3 2025", NAMES, AS_OF)
    assert read_question("how many customers did we have", NAMES, AS_OF) is None  # no period: the documents'


def test_a_parenthesised_qualifier_is_not_a_metric_name() -> None:
    """"Logo churn rate (monthly)": "monthly" is a billing interval, not a name of two churn rates."""
    asked = read_question("ARR for monthly plans in Q3 2025", NAMES, AS_OF, values)
    assert asked is not None and asked.definition.name == "arr"
    assert [f.values for f in asked.filters] == [("monthly",)]


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


def test_a_group_by_and_a_filter_together() -> None:
    asked = read_question("ARR by plan for EMEA in Q3 2025", NAMES, AS_OF, values)
    assert asked is not None and asked.group_by == "plan"
    assert [(f.dimension, f.values) for f in asked.filters] == [("customer_month__region", ("emea",))]


def test_one_name_of_two_metrics_is_asked_back_with_each_reworded() -> None:
    names = MetricNames([definition("gross_bookings", "Gross bookings", ("bookings",)),
                         definition("net_bookings", "Net bookings", ("bookings",))])
    with pytest.raises(AmbiguousQuestion, match="'bookings' could be more than one metric") as caught:
        read_question("what were bookings in Q3 2025", names, AS_OF)
    assert [(c.name, c.question) for c in caught.value.choices] == [
        ("gross_bookings", "what were gross bookings in Q3 2025"),
        ("net_bookings", "what were net bookings in Q3 2025"),
    ]
    assert read_question("what are bookings?", names, AS_OF) is None  # no period: not a value question


def test_dimension_values_are_asked_for_only_when_words_are_left_to_filter_by() -> None:
    asked_for: list[str] = []

    def counting(metric: str) -> dict[str, tuple[str, ...]]:
        asked_for.append(metric)
        return ARR_VALUES

    assert read_question("what was ARR by plan in Q3 2025", NAMES, AS_OF, counting) is not None
    assert asked_for == []
    assert read_question("what was EMEA ARR in Q3 2025", NAMES, AS_OF, counting) is not None
    assert asked_for == ["arr"]
