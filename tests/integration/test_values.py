"""Metric values through real MetricFlow on a real DuckDB demo warehouse, checked against hand-written SQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from bot.config import load_config
from bot.interfaces.cli import cli
from bot.values.answer import ValueAnswer, ValueService, answer_value, load_value_service
from tests.conftest import CORPUS, REPO, by_hand, write_config

AS_OF = date(2026, 1, 15)


def value(value_service: ValueService, question: str) -> float:
    answer = value_service.answer(question, AS_OF)
    assert answer is not None and not answer.refused, answer and answer.text
    assert answer.value is not None
    return answer.value


MRR_AT = "select sum(mrr_usd) from fct_mrr where snapshot_month = date '{}'"
CUSTOMERS_AT = "select count(distinct customer_id) from fct_mrr where snapshot_month = date '{}' and mrr_usd > 0"
BILLED = "select sum(amount_excl_tax_usd) from fct_invoice_lines where invoice_date between date '{}' and date '{}'"
MOVED = ("select sum(mrr_change_usd) from fct_mrr_movements where movement_type in "
         "('new', 'expansion', 'reactivation', 'contraction', 'churn') "
         "and movement_month between date '{}' and date '{}'")


@pytest.mark.parametrize(("question", "sql", "scale"), [
    # a balance at quarter grain is the last month end of the quarter, not a sum of the three months
    ("what was MRR in Q3 2025?", MRR_AT.format("2025-09-01"), 1),
    ("what was ARR in Q3 2025?", MRR_AT.format("2025-09-01"), 12),
    ("ARR FY2024", MRR_AT.format("2024-12-01"), 12),
    ("how many active customers did we have in June 2025?", CUSTOMERS_AT.format("2025-06-01"), 1),
    ("billings for March 2025", BILLED.format("2025-03-01", "2025-03-31"), 1),
    ("what were billings in Q2 2025", BILLED.format("2025-04-01", "2025-06-30"), 1),
    ("what were YTD billings at the end of Q3 2025", BILLED.format("2025-01-01", "2025-09-30"), 1),
    ("what was net new MRR in Q2 2025", MOVED.format("2025-04-01", "2025-06-01"), 1),
    ("what was net new ARR in 2025", MOVED.format("2025-01-01", "2025-12-01"), 12),
    ("what was MRR last quarter", MRR_AT.format("2025-12-01"), 1),  # Q4 2025, counted from 2026-01-15
    ("bookings in November 2025", "select sum(total_contract_value_usd) from fct_bookings "
                                  "where booking_date between date '2025-11-01' and date '2025-11-30'", 1),
])
def test_values_equal_hand_written_sql(value_service: ValueService, warehouse: Path, question: str, sql: str,
                                       scale: int) -> None:
    assert value(value_service, question) == pytest.approx(by_hand(warehouse, sql) * scale, abs=0.005)


def test_a_ratio_divides_its_inputs_at_the_same_month_end(value_service: ValueService, warehouse: Path) -> None:
    mrr = by_hand(warehouse, MRR_AT.format("2025-09-01"))
    customers = by_hand(warehouse, CUSTOMERS_AT.format("2025-09-01"))
    assert value(value_service, "what was ARPA in Q3 2025") == pytest.approx(mrr / customers)


def test_a_filtered_metric_applies_its_yaml_filter(value_service: ValueService, warehouse: Path) -> None:
    expected = by_hand(warehouse, "select avg(first_year_subscription_value_usd) from fct_bookings "
                                  "where booking_type in ('new_logo', 'renewal') and billing_interval = 'annual' "
                                  "and booking_date between date '2025-01-01' and date '2025-03-31'")
    assert value(value_service, "what was ACV in Q1 2025") == pytest.approx(expected)


def test_trailing_twelve_months_ends_on_the_periods_last_day(value_service: ValueService, warehouse: Path) -> None:
    expected = by_hand(warehouse, BILLED.format("2024-04-01", "2025-03-31"))
    assert value(value_service, "what were LTM billings in March 2025") == pytest.approx(expected)


def grouped(warehouse: Path, sql: str) -> dict[str, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {("(none)" if k is None else str(k)): float(v) for k, v in con.execute(sql).fetchall()}


@pytest.mark.parametrize(("question", "dimension", "sql"), [
    ("what was ARR by plan in Q3 2025?", "plan_tier",
     "select plan_tier, 12 * sum(mrr_usd) from fct_mrr where snapshot_month = date '2025-09-01' group by 1"),
    ("what was ARPA per region in Q3 2025?", "region",
     "select region, sum(mrr_usd) / count(distinct case when mrr_usd > 0 then customer_id end) from fct_mrr "
     "where snapshot_month = date '2025-09-01' group by 1"),
    ("billings by billing interval for March 2025", "billing_interval",
     "select billing_interval, sum(amount_excl_tax_usd) from fct_invoice_lines "
     "where invoice_date between date '2025-03-01' and date '2025-03-31' group by 1"),
])
def test_group_bys_equal_hand_written_sql(value_service: ValueService, warehouse: Path, question: str, dimension: str,
                                          sql: str) -> None:
    answer = value_service.answer(question, AS_OF)
    assert answer is not None and not answer.refused and answer.rows is not None, answer
    assert answer.group_by == dimension and answer.value is None
    expected = grouped(warehouse, sql)
    assert dict(answer.rows) == pytest.approx(expected)
    assert f"| {dimension} |" in answer.text


def test_an_unknown_dimension_lists_the_ones_there_are(value_service: ValueService) -> None:
    answer = value_service.answer("what was ARR by colour in Q3 2025", AS_OF)
    assert answer is not None and answer.refused
    assert "'colour' is not a dimension of arr; it can be grouped by billing_interval, currency, legal_entity, " \
           "plan_tier, region" in answer.text


def test_the_answer_shows_the_number_the_sql_and_the_cited_definition(value_service: ValueService) -> None:
    answer = value_service.answer("what was ARR in Q3 2025?", AS_OF)
    assert answer is not None and not answer.refused
    assert answer.text.startswith("Annual recurring revenue (ARR), Q3 2025: USD ")
    assert "end-of-period value" in answer.text
    assert answer.sql is not None and "FROM main.fct_mrr" in answer.sql and answer.sql.strip() in answer.text
    assert answer.citation is not None
    assert (answer.citation.path, answer.citation.start_line, answer.citation.end_line) == ("metrics/mrr.yaml", 87, 108)
    assert answer.text.endswith("[1] metrics/mrr.yaml:87-108 (metrics.arr)")
    assert (answer.period, answer.start, answer.end, answer.unit) == ("Q3 2025", "2025-07-01", "2025-09-30", "USD")


def test_a_relative_period_says_what_it_was_counted_from(value_service: ValueService) -> None:
    answer = value_service.answer("what was MRR last quarter", AS_OF)
    assert answer is not None and "last quarter (Q4 2025, counted from 2026-01-15)" in answer.text


def test_without_a_date_relative_periods_count_from_the_latest_data(
    value_service: ValueService, warehouse: Path
) -> None:
    answer = value_service.answer("what was MRR last quarter")  # the demo data ends in December 2025
    assert answer is not None and not answer.refused
    assert "last quarter (Q4 2025; the latest data is for December 2025)" in answer.text
    assert answer.value == pytest.approx(by_hand(warehouse, MRR_AT.format("2025-12-01")))
    answer = value_service.answer("YTD billings last year")
    assert answer is not None and answer.period == "FY2025"
    assert answer.value == pytest.approx(by_hand(warehouse, BILLED.format("2025-01-01", "2025-12-31")))


@pytest.mark.parametrize(("question", "message"), [
    ("what was widget velocity in Q3 2025?", "'widget velocity' is not a metric I know"),
    ("what were billings this quarter?", "'this quarter' is not a period I can query"),
    ("what was ARR for Acme in Q3 2025", "'Acme' is not a known value of any dimension of arr"),
    ("what was ARR in Q3 2030", "The warehouse holds no Annual recurring revenue (ARR) figures for Q3 2030"),
])
def test_unanswerable_value_questions_say_why(value_service: ValueService, question: str, message: str) -> None:
    answer = value_service.answer(question, AS_OF)
    assert answer is not None and answer.refused and answer.value is None
    assert message in answer.text


def test_a_metric_without_a_table_still_cites_its_definition(warehouse: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial.duckdb"
    partial.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(partial)) as con:
        con.execute("drop table fct_gl_pnl_lines; drop table fct_revenue_schedule")
    found = load_value_service(load_config(write_config(tmp_path, CORPUS, warehouse={"path": str(partial)})))
    assert found is not None
    try:
        answer = found.answer("what was gross margin in Q3 2025", AS_OF)
    finally:
        found.engine.client.close()
    assert answer is not None and answer.refused and answer.value is None
    assert "the warehouse has no table main.fct_gl_pnl_lines (semantic model gl_pnl_lines), " \
           "main.fct_revenue_schedule (semantic model revenue_schedule)" in answer.text
    assert answer.text.endswith("Definition: [1] metrics/margins.yaml:110-129 (metrics.gross_margin)")


def test_definition_questions_are_not_value_questions(value_service: ValueService) -> None:
    assert value_service.answer("how is ARR calculated?", AS_OF) is None
    assert value_service.answer("what is the refund window?", AS_OF) is None


def test_values_are_off_without_a_warehouse_path(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, CORPUS))
    assert answer_value("what was ARR in Q3 2025?", config, AS_OF) is None


def test_a_missing_warehouse_file_is_a_clear_error(tmp_path: Path) -> None:
    value_config = write_config(tmp_path, CORPUS, warehouse={"path": str(tmp_path / "nope.duckdb")})
    result = CliRunner().invoke(cli, ["--config", str(value_config), "value", "what was ARR in Q3 2025?"])
    assert result.exit_code == 1
    assert "No warehouse at" in result.output and "scripts/build_warehouse.py" in result.output


def test_cli_value_and_query(value_config: Path, warehouse: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(value_config), "value", "what was ARR in Q3 2025?"])
    assert result.exit_code == 0, result.output
    expected = by_hand(warehouse, MRR_AT.format("2025-09-01")) * 12
    assert f"USD {expected:,.2f} [1]" in result.output
    result = runner.invoke(cli, ["--config", str(value_config), "query", "arr", "--period", "Q3 2025", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["value"] == pytest.approx(expected)
    result = runner.invoke(cli, ["--config", str(value_config), "query", "arrr", "--period", "Q3 2025"])
    assert result.exit_code == 1
    assert "'arrr' is not a known metric; close names: accounts_receivable, arr" in result.output
    result = runner.invoke(cli, ["--config", str(value_config), "query", "arr", "--period", "H1"])
    assert result.exit_code == 1 and "'h1' is not a period I can query" in result.output
    result = runner.invoke(cli, ["--config", str(value_config), "value", "how is ARR calculated?"])
    assert result.exit_code == 1 and "finbot ask" in result.output


def test_the_demo_warehouse_is_the_same_on_every_build(warehouse: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_warehouse.py"), str(again)], check=True,
                   capture_output=True)
    for table in ("fct_mrr", "fct_mrr_movements", "fct_invoice_lines", "fct_bookings", "metricflow_time_spine"):
        query = f"select * from {table} order by all"
        assert by_query(warehouse, query) == by_query(again, query), table


def by_query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_bridge_identity_holds_in_the_demo_data(warehouse: Path) -> None:
    """Opening MRR plus the movements of 2025 equals closing MRR, as rpt_mrr_movements_bridge requires."""
    opening = by_hand(warehouse, MRR_AT.format("2024-12-01"))
    closing = by_hand(warehouse, MRR_AT.format("2025-12-01"))
    moved = by_hand(warehouse, MOVED.format("2025-01-01", "2025-12-01"))
    assert opening + moved == pytest.approx(closing, abs=0.005)


def test_the_client_caps_rows_and_interrupts_slow_queries(warehouse: Path) -> None:
    from bot.errors import MetricQueryError
    from bot.values.duckdb_client import DuckDbClient

    client = DuckDbClient(warehouse, max_rows=10, timeout_seconds=0.2)
    try:
        assert client.query("select * from range(10)").row_count == 10
        with pytest.raises(MetricQueryError, match=r"more than 10 rows \(warehouse.max_rows\)"):
            client.query("select * from range(11)")
        with pytest.raises(MetricQueryError, match=r"longer than 0.2 s \(warehouse.timeout_seconds\)"):
            client.query("select count(*) from range(100000000000) a")
        with pytest.raises(MetricQueryError, match="rejected the generated SQL"):
            client.execute("create table t (x int)")  # read-only
    finally:
        client.close()


def test_concurrent_answers_match_sequential_ones(value_service: ValueService) -> None:
    """Slack answers in worker threads: the same questions at once give the same numbers.

    (Not the same SQL text: MetricFlow numbers its subquery aliases differently once its plan caches are warm.)"""
    from concurrent.futures import ThreadPoolExecutor

    questions = ["what was ARR in Q3 2025?", "billings for March 2025", "what was net new MRR in Q2 2025",
                 "what was ARPA by region in Q3 2025?"] * 4
    expected = {q: value_service.answer(q, AS_OF) for q in set(questions)}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda q: value_service.answer(q, AS_OF), questions))
    def numbers(answer: ValueAnswer | None) -> tuple[object, ...]:
        assert answer is not None and not answer.refused, answer
        return answer.metric, answer.period, answer.value, answer.rows

    assert [numbers(a) for a in answers] == [numbers(expected[q]) for q in questions]


def test_ask_answers_a_value_question_from_the_warehouse_and_documents_the_rest(
    value_config: Path, warehouse: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(value_config), "ingest"]).exit_code == 0
    result = runner.invoke(cli, ["--config", str(value_config), "ask", "--json", "what was MRR in March 2025?"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert not body["abstained"]
    assert body["value"]["metric"] == "mrr" and "select" in body["value"]["sql"].lower()
    assert body["value"]["value"] == pytest.approx(by_hand(warehouse, MRR_AT.format("2025-03-01")))
    assert [s["path"] for s in body["sources"]] == ["metrics/mrr.yaml"]
    assert "SQL (generated by MetricFlow):" in body["answer"]
    defined = runner.invoke(cli, ["--config", str(value_config), "ask", "--json", "how is ARR calculated?"])
    body = json.loads(defined.output)
    assert "value" not in body and body["sources"][0]["section"] == "metrics.arr"  # a definition: the documents
