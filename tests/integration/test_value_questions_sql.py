"""Value questions with filters, group-bys and every period form, through real MetricFlow on the real demo DuckDB
warehouse; each expected number is plain SQL written here against the seed tables (never MetricFlow's output)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from bot.errors import MetricQueryError
from bot.values.answer import ValueAnswer, ValueService
from tests.conftest import by_hand

AS_OF = date(2026, 1, 15)  # the demo data runs to December 2025: "last quarter" is Q4 2025, YTD is all of 2025


def grouped(warehouse: Path, sql: str) -> list[tuple[str, float]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [(str(k), float(v)) for k, v in con.execute(sql).fetchall()]


def answered(value_service: ValueService, question: str, as_of: date = AS_OF) -> ValueAnswer:
    answer = value_service.answer(question, as_of)
    assert answer is not None and not answer.refused, answer and answer.text
    return answer


def mrr(month: str, where: str = "true") -> str:
    return f"select sum(mrr_usd) from fct_mrr where snapshot_month = date '{month}' and ({where})"


def customers(month: str, where: str = "true") -> str:
    return (f"select count(distinct customer_id) from fct_mrr where snapshot_month = date '{month}' and mrr_usd > 0 "
            f"and ({where})")


def billed(start: str, end: str, where: str = "true") -> str:
    return (f"select sum(amount_excl_tax_usd) from fct_invoice_lines where invoice_date between date '{start}' and "
            f"date '{end}' and ({where})")


def booked(start: str, end: str, where: str = "true", column: str = "sum(total_contract_value_usd)") -> str:
    return f"select {column} from fct_bookings where booking_date between date '{start}' and date '{end}' and ({where})"


def moved(start: str, end: str, where: str = "true", column: str = "sum(mrr_change_usd)") -> str:
    return (f"select {column} from fct_mrr_movements where movement_month between date '{start}' and date '{end}' "
            f"and ({where})")


def times(k: int, sql: str) -> str:
    return f"select {k} * ({sql})"


def ratio(numerator: str, denominator: str) -> str:
    return f"select ({numerator}) / ({denominator})"


NET = "movement_type in ('new', 'expansion', 'reactivation', 'contraction', 'churn')"

CASES = [
    # simple metrics, filtered by a dimension value the question names
    ("what was enterprise ARR in Q3 2025?", times(12, mrr("2025-09-01", "plan_tier = 'enterprise'"))),
    ("MRR in EMEA for March 2025", mrr("2025-03-01", "region = 'emea'")),
    ("billings in EUR for H1 2025", billed("2025-01-01", "2025-06-30", "currency = 'EUR'")),
    ("bookings from renewals in Q1 2025", booked("2025-01-01", "2025-03-31", "booking_type = 'renewal'")),
    ("new logo bookings in H2 2024", booked("2024-07-01", "2024-12-31", "booking_type = 'new_logo'")),
    ("how many active customers did we have in EMEA at the end of Q2 2025", customers("2025-06-01", "region = 'emea'")),
    ("active customers on the starter plan last month", customers("2025-12-01", "plan_tier = 'starter'")),
    ("new customers in Q1 2025", moved("2025-01-01", "2025-03-01", "movement_type = 'new'",
                                       "count(distinct customer_id)")),
    ("churned customers on monthly plans in FY2025",
     moved("2025-01-01", "2025-12-01", "movement_type = 'churn' and billing_interval = 'monthly'",
           "count(distinct customer_id)")),
    ("ARR excluding EMEA in Q3 2025", times(12, mrr("2025-09-01", "region <> 'emea'"))),
    ("ARR for EMEA and APAC in FY25", times(12, mrr("2025-12-01", "region in ('emea', 'apac')"))),
    ("ARR for annual customers in North America in Q4 2025",
     times(12, mrr("2025-12-01", "billing_interval = 'annual' and region = 'north_america'"))),
    ("ARR for Brightline GmbH in Q2 2025", times(12, mrr("2025-06-01", "legal_entity = 'brightline_gmbh'"))),
    # ratio metrics with a filter: both sides filtered at the same month end
    ("ARPA for enterprise in Q3 2025", ratio(mrr("2025-09-01", "plan_tier = 'enterprise'"),
                                             customers("2025-09-01", "plan_tier = 'enterprise'"))),
    ("ACV in EMEA for FY2025", booked("2025-01-01", "2025-12-31", "booking_type in ('new_logo', 'renewal') and "
                                      "billing_interval = 'annual' and region = 'emea'",
                                      "avg(first_year_subscription_value_usd)")),
    # derived metrics
    ("net new MRR in APAC for H1 2025", moved("2025-01-01", "2025-06-01", f"{NET} and region = 'apac'")),
    ("net new ARR last quarter", times(12, moved("2025-10-01", "2025-12-01", NET))),
    ("SaaS quick ratio in FY2025",
     ratio(moved("2025-01-01", "2025-12-01", "movement_type in ('new', 'expansion', 'reactivation')"),
           moved("2025-01-01", "2025-12-01", "movement_type in ('contraction', 'churn')", "sum(abs(mrr_change_usd))"))),
    # cumulative metrics, filtered
    ("YTD billings at the end of Q3 2025 in GBP", billed("2025-01-01", "2025-09-30", "currency = 'GBP'")),
    ("LTM billings for subscription lines in June 2025",
     billed("2024-07-01", "2025-06-30", "line_type = 'subscription'")),
    # periods: year to date, trailing months, halves, fiscal years (the calendar year)
    ("billings YTD", billed("2025-01-01", "2025-12-31")),
    ("billings year to date at the end of Q3 2025", billed("2025-01-01", "2025-09-30")),
    ("billings trailing 12 months to March 2025", billed("2024-04-01", "2025-03-31")),
    ("billings over the last 6 months", billed("2025-07-01", "2025-12-31")),
    ("billings FY25", billed("2025-01-01", "2025-12-31")),
    ("billings in the second half of 2024", billed("2024-07-01", "2024-12-31")),
    ("bookings QTD", booked("2025-10-01", "2025-12-31")),
    ("billings from January 2025 to March 2025", billed("2025-01-01", "2025-03-31")),
    # a balance over a range of months is its value at the range's last month end
    ("MRR between Q1 2025 and Q2 2025", mrr("2025-06-01")),
    ("MRR for H1 2025", mrr("2025-06-01")),
    ("active customers over the trailing 12 months", customers("2025-12-01")),
]


@pytest.mark.parametrize(("question", "sql"), CASES, ids=[q for q, _ in CASES])
def test_value_equals_hand_written_sql(value_service: ValueService, warehouse: Path, question: str, sql: str) -> None:
    answer = answered(value_service, question)
    assert answer.value == pytest.approx(by_hand(warehouse, sql), abs=0.005)


RELATIVE = [
    ("MRR last month", date(2025, 10, 15), mrr("2025-09-01"), "last month (September 2025, counted from 2025-10-15)"),
    ("billings YTD", date(2025, 7, 20), billed("2025-01-01", "2025-06-30"),
     "year to date (January–June 2025, counted from 2025-07-20)"),
    ("billings last 12 months", date(2025, 4, 2), billed("2024-04-01", "2025-03-31"),
     "trailing 12 months (April 2024–March 2025, counted from 2025-04-02)"),
    ("new MRR last quarter in EMEA", date(2025, 8, 10),
     moved("2025-04-01", "2025-06-01", "movement_type = 'new' and region = 'emea'"),
     "last quarter (Q2 2025, counted from 2025-08-10)"),
    ("bookings quarter to date", date(2025, 5, 3), booked("2025-04-01", "2025-04-30"),
     "quarter to date (April 2025, counted from 2025-05-03)"),
]


@pytest.mark.parametrize(("question", "as_of", "sql", "said"), RELATIVE, ids=[q for q, *_ in RELATIVE])
def test_relative_periods_count_from_the_date_given_and_say_so(
    value_service: ValueService, warehouse: Path, question: str, as_of: date, sql: str, said: str
) -> None:
    answer = answered(value_service, question, as_of)
    assert answer.value == pytest.approx(by_hand(warehouse, sql), abs=0.005)
    assert said in answer.text


def test_relative_periods_without_a_date_count_from_the_latest_data(
    value_service: ValueService, warehouse: Path
) -> None:
    answer = value_service.answer("billings YTD")
    assert answer is not None and not answer.refused
    assert "year to date (January–December 2025; the latest data is for December 2025)" in answer.text
    assert answer.value == pytest.approx(by_hand(warehouse, billed("2025-01-01", "2025-12-31")))


def test_the_answer_says_the_filter_and_carries_it(value_service: ValueService) -> None:
    answer = answered(value_service, "ARR excluding EMEA in Q3 2025")
    assert answer.text.startswith("Annual recurring revenue (ARR) where region is not emea, Q3 2025: USD ")
    assert answer.filters is not None and [(f.dimension, f.values, f.exclude) for f in answer.filters] == [
        ("customer_month__region", ("emea",), True)
    ]
    assert answer.sql is not None and "NOT IN ('emea')" in answer.sql
    body = answer.to_dict()
    assert body["filters"] == [{"dimension": "customer_month__region", "values": ("emea",), "exclude": True,
                                "words": "emea"}]
    assert {"metric", "period", "start", "end", "value", "unit", "sql", "citation", "group_by", "rows"} <= set(body)
    assert body["choices"] is None and body["ambiguous"] is None


GROUPED = [
    ("ARR by plan for EMEA in Q3 2025", "plan_tier",
     "select plan_tier, 12 * sum(mrr_usd) from fct_mrr where snapshot_month = date '2025-09-01' and region = 'emea' "
     "group by 1"),
    ("billings by currency YTD", "currency",
     "select currency, sum(amount_excl_tax_usd) from fct_invoice_lines where invoice_date between date '2025-01-01' "
     "and date '2025-12-31' group by 1"),
    ("bookings per region for renewals in H1 2025", "region",
     "select region, sum(total_contract_value_usd) from fct_bookings where booking_type = 'renewal' and booking_date "
     "between date '2025-01-01' and date '2025-06-30' group by 1"),
    ("net new MRR by plan for EMEA in Q2 2025", "plan_tier",
     f"select plan_tier, sum(mrr_change_usd) from fct_mrr_movements where {NET} and region = 'emea' and "
     "movement_month between date '2025-04-01' and date '2025-06-01' group by 1"),
]


@pytest.mark.parametrize(("question", "dimension", "sql"), GROUPED, ids=[q for q, *_ in GROUPED])
def test_group_bys_with_filters_are_ordered_largest_first(
    value_service: ValueService, warehouse: Path, question: str, dimension: str, sql: str
) -> None:
    answer = answered(value_service, question)
    assert answer.group_by == dimension and answer.rows is not None and answer.value is None
    expected = sorted(grouped(warehouse, sql), key=lambda row: -row[1])
    assert [k for k, _ in answer.rows] == [k for k, _ in expected]
    assert [v for _, v in answer.rows] == pytest.approx([v for _, v in expected], abs=0.005)
    assert answer.rows_total == len(expected)
    table = [line.split("|")[1].strip() for line in answer.text.splitlines() if line.startswith("| ")][1:]
    assert table == [k for k, _ in expected]


def test_a_long_table_is_cut_to_the_largest_rows_and_says_so(warehouse: Path, value_service: ValueService) -> None:
    small = ValueService(value_service.engine, max_table_rows=2)
    answer = small.answer("ARR by plan in Q3 2025", AS_OF)
    assert answer is not None and not answer.refused and answer.rows is not None
    expected = sorted(grouped(warehouse, "select plan_tier, 12 * sum(mrr_usd) from fct_mrr where snapshot_month = "
                                         "date '2025-09-01' group by 1"), key=lambda row: -row[1])
    assert [k for k, _ in answer.rows] == [k for k, _ in expected[:2]] and answer.rows_total == 3
    assert "(1 more plan_tier values not shown: the 2 largest of 3; filter to see others)" in answer.text


def test_a_name_of_several_metrics_is_asked_back_and_each_choice_answers(value_service: ValueService,
                                                                           warehouse: Path) -> None:
    answer = value_service.answer("how many customers did we have in June 2025", AS_OF)
    assert answer is not None and answer.refused and answer.value is None and answer.ambiguous == "metric"
    assert answer.choices is not None
    assert [(c.name, c.note) for c in answer.choices] == [
        ("active_customers", "a balance at the period end"), ("churned_customers", "a total over the period"),
        ("new_customers", "a total over the period"),
    ]
    assert answer.text.startswith("'customers' could be more than one metric")
    assert '1. Active customers (active_customers), a balance at the period end: ask "how many active customers did ' \
           'we have in June 2025"' in answer.text
    chosen = answered(value_service, answer.choices[0].question)
    assert chosen.metric == "active_customers"
    assert chosen.value == pytest.approx(by_hand(warehouse, customers("2025-06-01")))
    assert answer.to_dict()["choices"][2]["name"] == "new_customers"


@pytest.mark.parametrize(("question", "choices"), [
    ("what was churn rate in Q3 2025", ["logo_churn_rate", "revenue_churn_rate"]),
    ("what was contract value in Q1 2025", ["average_contract_value", "bookings"]),
])
def test_other_ambiguous_names_ask_back(value_service: ValueService, question: str, choices: list[str]) -> None:
    answer = value_service.answer(question, AS_OF)
    assert answer is not None and answer.refused and answer.value is None and answer.ambiguous == "metric"
    assert [c.name for c in answer.choices or []] == choices


@pytest.mark.parametrize(("question", "message"), [
    ("what was ARR for Acme in Q3 2025", "'Acme' is not a known value of any dimension of arr (billing_interval, "
                                         "currency, legal_entity, plan_tier, region)"),
    ("what was enterprize ARR in Q3 2025", "Close values: enterprise (plan_tier)"),
    ("billings for EMEA in Q3 2025", "'EMEA' is not a known value of any dimension of billings (billing_interval, "
                                     "currency, legal_entity, line_type, payment_terms)"),  # a region: not of billings
    ("logo churn rate for EMEA in Q3 2025", "'EMEA' in the question is not part of logo_churn_rate or the period, "
                                            "and logo_churn_rate has no dimension values to filter by here"),
    ("what were billings this quarter", "'this quarter' is not a period I can query"),
    ("bookings for expansion deals in Q2 2025 for Acme", "'Acme' is not a known value of any dimension of bookings"),
    ("net new MRR for expansion in Q2 2025", "The warehouse holds no Net new MRR figures where movement_type is "
                                             "expansion for Q2 2025 (net_new_mrr is computed from other metrics"),
])
def test_unknown_words_are_refused_by_name(value_service: ValueService, question: str, message: str) -> None:
    answer = value_service.answer(question, AS_OF)
    assert answer is not None and answer.refused and answer.value is None
    assert message in answer.text


def test_query_takes_a_group_by_and_where_filters_of_known_values(value_service: ValueService, warehouse: Path) -> None:
    answer = value_service.query("arr", "Q3 2025", AS_OF, group_by="plan", where=["region=EMEA", "currency!=USD"])
    assert not answer.refused and answer.rows is not None
    expected = grouped(warehouse, "select plan_tier, 12 * sum(mrr_usd) from fct_mrr where snapshot_month = "
                                  "date '2025-09-01' and region = 'emea' and currency <> 'USD' group by 1")
    assert dict(answer.rows) == pytest.approx(dict(expected))
    with pytest.raises(MetricQueryError, match="'mars' is not a value of region for arr; it holds apac, emea, "
                                               "north_america"):
        value_service.query("arr", "Q3 2025", AS_OF, where=["region=mars"])
    with pytest.raises(MetricQueryError, match="'region' is not a filter; write DIMENSION=VALUE"):
        value_service.query("arr", "Q3 2025", AS_OF, where=["region"])
