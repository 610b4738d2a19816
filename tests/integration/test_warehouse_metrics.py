"""The demo warehouse's finance tables: every corpus metric runs, and its values equal hand-written SQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from bot.interfaces.cli import cli
from bot.values.answer import ValueService
from tests.conftest import CORPUS, REPO, by_hand, write_config

one = by_hand  # the expected figures below read shorter

AS_OF = date(2026, 1, 15)


def rows(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_corpus_metric_is_queryable(value_config: Path, value_service: ValueService) -> None:
    result = CliRunner().invoke(cli, ["--config", str(value_config), "metrics", "--check"])
    assert result.exit_code == 0, result.output
    total = len(value_service.definitions)
    assert total >= 60 and f"{total} of {total} metrics queryable" in result.output
    assert "not queryable" not in result.output


def test_the_check_names_a_metric_whose_table_is_missing(warehouse: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial.duckdb"
    partial.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(partial)) as con:
        con.execute("drop table fct_lumen_disputes")
    config = write_config(tmp_path, CORPUS, warehouse={"path": str(partial)})
    result = CliRunner().invoke(cli, ["--config", str(config), "metrics", "--check"])
    assert result.exit_code == 1
    assert "disputes_opened                    not queryable: disputes_opened is defined, but the warehouse has no " \
           "table main.fct_lumen_disputes (semantic model lumen_disputes)" in result.output


REVENUE = ("select sum(recognized_amount_usd) from fct_revenue_schedule "
           "where recognition_date between date '{}' and date '{}'{}")
COST = ("select sum(amount_usd) from fct_gl_pnl_lines where account_category = '{}' "
        "and accounting_period between date '{}' and date '{}'{}")
Q3 = ("2025-07-01", "2025-09-30")


def expected_values(w: Path) -> dict[tuple[str, str], float]:
    """(metric, period) -> the number, from SQL written here against the tables (not MetricFlow's)."""
    revenue = one(w, REVENUE.format(*Q3, ""))
    cost = one(w, COST.format("cost_of_revenue", "2025-07-01", "2025-09-01", ""))
    variable = one(w, COST.format("operating_expense", "2025-07-01", "2025-09-01", " and cost_behavior = 'variable'"))
    charges = "from fct_lumen_balance_transactions where activity_date between date '2025-01-01' and date '2025-12-31'"
    gross = one(w, f"select sum(amount_usd) {charges} and reporting_category = 'charge'")
    refunded = one(w, f"select -sum(amount_usd) {charges} and reporting_category = 'refund'")
    ar_end = "from fct_ar_balances_daily where balance_date = date '2025-09-30'"
    billed = one(w, "select sum(amount_excl_tax_usd) from fct_invoice_lines "
                    "where invoice_date between date '2025-07-01' and date '2025-09-30'")
    cohort = "from fct_retention_cohorts where measurement_month = date '2025-12-01'"
    return {
        ("recognized_revenue", "Q3 2025"): revenue,
        ("subscription_revenue", "Q3 2025"): one(w, REVENUE.format(*Q3, " and revenue_stream = 'subscription'")),
        ("recognized_revenue_ytd", "Q3 2025"): one(w, REVENUE.format("2025-01-01", Q3[1], "")),
        ("cost_of_revenue", "Q3 2025"): cost,
        ("gross_profit", "Q3 2025"): revenue - cost,
        ("gross_margin", "Q3 2025"): (revenue - cost) / revenue,
        ("contribution_margin", "Q3 2025"): (revenue - cost - variable) / revenue,
        ("sales_and_marketing_spend", "Q3 2025"): one(w, COST.format(
            "operating_expense", "2025-07-01", "2025-09-01", " and department in ('sales', 'marketing')")),
        ("gross_payment_volume", "FY2025"): gross,
        ("refunded_amount", "FY2025"): refunded,
        ("refund_rate", "FY2025"): refunded / gross,
        ("take_rate", "FY2025"): one(w, "select sum(fee_amount_usd) from fct_lumen_fees where fee_category = "
                                        "'processing' and fee_date between date '2025-01-01' and date '2025-12-31'")
        / gross,
        ("authorization_rate", "FY2025"): one(w, "select avg(case when outcome = 'authorized' then 1 else 0 end) "
                                                 "from fct_payment_attempts where year(attempted_at) = 2025"),
        ("disputes_opened", "FY2025"): one(w, "select count(*) from fct_lumen_disputes where year(opened_at) = 2025"),
        ("dispute_win_rate", "FY2025"): one(w, "select avg(case when status = 'won' then 1 else 0 end) from "
                                               "fct_lumen_disputes where status in ('won', 'lost') "
                                               "and year(closed_at) = 2025"),
        ("accounts_receivable", "Q3 2025"): one(w, f"select sum(open_balance_usd) {ar_end}"),
        ("past_due_receivables", "Q3 2025"): one(w, f"select sum(open_balance_usd) {ar_end} "
                                                    "and aging_bucket <> 'current'"),
        ("allowance_for_doubtful_accounts", "Q3 2025"): one(w, f"select sum(open_balance_usd * allowance_rate) "
                                                               f"{ar_end}"),
        ("dso", "Q3 2025"): one(w, f"select sum(open_balance_usd) {ar_end}") / billed * 92,
        ("collection_rate", "Q3 2025"): one(w, "select sum(collected_by_due_month_end_usd) / sum(amount_due_usd) "
                                               "from fct_invoice_collections "
                                               "where due_date between date '2025-07-01' and date '2025-09-30'"),
        ("deferred_revenue", "Q3 2025"): one(w, "select sum(deferred_revenue_usd) from fct_contract_balances_daily "
                                                "where balance_date = date '2025-09-30'"),
        ("net_revenue_retention", "December 2025"): one(w, "select sum(starting_mrr_usd + expansion_mrr_usd - "
                                                           f"contraction_mrr_usd - churned_mrr_usd) / "
                                                           f"sum(starting_mrr_usd) {cohort}"),
        ("net_burn", "FY2025"): one(w, "select sum(net_burn_usd) from fct_cash_burn_monthly "
                                       "where year(cash_month) = 2025"),
        ("days_in_period", "Q3 2025"): 92,
    }


@pytest.fixture(scope="module")
def expected(warehouse: Path) -> dict[tuple[str, str], float]:
    return expected_values(warehouse)


@pytest.mark.parametrize(("metric", "period"), [
    ("recognized_revenue", "Q3 2025"), ("subscription_revenue", "Q3 2025"), ("recognized_revenue_ytd", "Q3 2025"),
    ("cost_of_revenue", "Q3 2025"), ("gross_profit", "Q3 2025"), ("gross_margin", "Q3 2025"),
    ("contribution_margin", "Q3 2025"), ("sales_and_marketing_spend", "Q3 2025"),
    ("gross_payment_volume", "FY2025"), ("refunded_amount", "FY2025"), ("refund_rate", "FY2025"),
    ("take_rate", "FY2025"), ("authorization_rate", "FY2025"), ("disputes_opened", "FY2025"),
    ("dispute_win_rate", "FY2025"), ("accounts_receivable", "Q3 2025"), ("past_due_receivables", "Q3 2025"),
    ("allowance_for_doubtful_accounts", "Q3 2025"), ("dso", "Q3 2025"), ("collection_rate", "Q3 2025"),
    ("deferred_revenue", "Q3 2025"), ("net_revenue_retention", "December 2025"), ("net_burn", "FY2025"),
    ("days_in_period", "Q3 2025"),
])
def test_finance_metrics_equal_hand_written_sql(value_service: ValueService, expected: dict[tuple[str, str], float],
                                                metric: str, period: str) -> None:
    answer = value_service.query(metric, period, AS_OF)
    assert not answer.refused, answer.text
    assert answer.value is not None and answer.value != 0
    assert answer.value == pytest.approx(expected[(metric, period)], rel=1e-9, abs=0.005)


def test_refunds_fall_inside_the_window_of_their_date(warehouse: Path) -> None:
    """Full refunds of annual plans: 14 days before 2025-07-01, 30 days from then (day 1 = service start)."""
    found = rows(warehouse, """
        select l.invoice_date, cast(t.activity_date as date), -t.amount_usd, l.amount_excl_tax_usd
        from fct_lumen_balance_transactions t
        join fct_invoice_lines l on t.balance_transaction_line_id = 'txn_' || l.invoice_line_id || '_re'
        where t.reporting_category = 'refund'""")
    assert len(found) == by_hand(warehouse, "select count(*) from fct_lumen_balance_transactions "
                                        "where reporting_category = 'refund'") >= 3
    for start, refunded_on, amount, fee in found:
        assert isinstance(start, date) and isinstance(refunded_on, date)
        asked = refunded_on - timedelta(days=1)  # refunded the day after the request
        window = 30 if asked >= date(2025, 7, 1) else 14
        assert (asked - start).days + 1 <= window  # the service start date is day 1
        assert amount == pytest.approx(fee)


def test_a_refund_stops_the_subscriptions_revenue_and_reverses_what_was_recognised(warehouse: Path) -> None:
    net = rows(warehouse, """
        select s.invoice_line_id, sum(s.recognized_amount_usd),
               max(case when s.revenue_stream = 'subscription' then s.recognition_date end),
               any_value(cast(t.activity_date as date))
        from fct_revenue_schedule s
        join fct_lumen_balance_transactions t on t.balance_transaction_line_id = 'txn_' || s.invoice_line_id || '_re'
        group by 1""")
    assert net
    for _, total, last_day, refunded_on in net:
        assert float(total) == pytest.approx(0, abs=0.01)  # nothing stays recognised
        assert last_day < refunded_on


def test_the_gl_ties_to_the_revenue_schedule(warehouse: Path) -> None:
    gl = by_hand(warehouse, "select sum(amount_usd) from fct_gl_pnl_lines where account_category = 'revenue' "
                        "and year(accounting_period) = 2025")
    assert gl == pytest.approx(by_hand(warehouse, REVENUE.format("2025-01-01", "2025-12-31", "")), abs=0.5)


def test_lumen_fees_follow_the_price_list(warehouse: Path) -> None:
    fees = dict(rows(warehouse, """
        select f.fee_type, max(abs(f.fee_amount_usd - case f.fee_type
            when 'card_percentage' then 0.029 * t.amount_usd when 'card_fixed' then 0.30
            when 'international_surcharge' then 0.015 * t.amount_usd
            when 'ach_percentage' then least(0.008 * t.amount_usd, 5)
            when 'dispute_fee' then 15 when 'dispute_fee_return' then -15 end))
        from fct_lumen_fees f join fct_lumen_balance_transactions t using (balance_transaction_line_id)
        group by 1"""))
    assert set(fees) >= {"card_percentage", "card_fixed", "international_surcharge", "ach_percentage",
                         "dispute_fee"}
    assert all(float(gap) <= 0.005 for gap in fees.values()), fees


def test_receivables_age_by_due_date_and_are_written_off_at_180_days(warehouse: Path) -> None:
    wrong = by_hand(warehouse, """
        select count(*) from fct_ar_balances_daily a join fct_invoice_collections c using (invoice_id)
        where a.aging_bucket <> case when a.balance_date <= c.due_date then 'current'
            when a.balance_date - c.due_date <= 30 then '1_30' when a.balance_date - c.due_date <= 60 then '31_60'
            when a.balance_date - c.due_date <= 90 then '61_90' else 'over_90' end
           or a.balance_date - c.due_date >= 180""")
    assert wrong == 0
    assert by_hand(warehouse, "select count(distinct aging_bucket) from fct_ar_balances_daily") == 5


def test_the_finance_tables_are_the_same_on_every_build(warehouse: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.duckdb"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_warehouse.py"), str(again)], check=True,
                   capture_output=True)
    tables = [t for (t,) in rows(warehouse, "select table_name from information_schema.tables order by 1")]
    assert len(tables) == 17
    for table in tables:
        query = f"select * from {table} order by all"
        assert rows(warehouse, query) == rows(again, query), table


def test_ask_without_the_warehouse_file_says_how_to_build_it_and_cites_the_definition(
    indexed_config: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "not-built.duckdb"
    result = CliRunner(env={"FINBOT_WAREHOUSE__PATH": str(missing)}).invoke(
        cli, ["--config", str(indexed_config), "ask", "--json", "what was ARR in Q3 2025?"]
    )
    body = json.loads(result.output)
    assert f"No warehouse at {missing}. Build the demo one with `make warehouse`" in body["answer"]
    assert body["abstained"] and body["value"]["metric"] == "arr" and body["value"]["value"] is None
    assert [(s["path"], s["section"]) for s in body["sources"]] == [("metrics/mrr.yaml", "metrics.arr")]


def test_cli_query_groups_and_filters(value_config: Path, warehouse: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(value_config), "query", "billings", "--period", "Q3 2025",
                                 "--by", "line_type", "--where", "legal_entity=brightline_gmbh,brightline_uk",
                                 "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    expected = rows(warehouse, "select line_type, sum(amount_excl_tax_usd) from fct_invoice_lines "
                               "where legal_entity in ('brightline_gmbh', 'brightline_uk') "
                               "and invoice_date between date '2025-07-01' and date '2025-09-30' group by 1 order by 1")
    assert body["columns"] == ["line_type", "billings"]
    assert body["rows"] == [[kind, pytest.approx(float(total))] for kind, total in expected]  # type: ignore
    result = runner.invoke(cli, ["--config", str(value_config), "query", "billings", "--period", "Q3 2025",
                                 "--where", "legal_entity=acme_ltd"])
    assert result.exit_code == 1
    assert "'acme_ltd' is not a value of legal_entity; it has brightline_gmbh, brightline_inc, brightline_uk" \
        in result.output
    result = runner.invoke(cli, ["--config", str(value_config), "query", "billings", "--period", "Q3 2025",
                                 "--where", "legal_entity"])
    assert result.exit_code == 2 and "write DIM=VALUE" in result.output
