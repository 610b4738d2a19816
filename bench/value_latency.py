"""Latency of a warm value answer (question -> MetricFlow -> DuckDB -> reply) next to plain SQL of the same number.

    .venv/bin/python bench/value_latency.py              # 30 rounds, writes docs/benchmarks.md
    .venv/bin/python bench/value_latency.py --rounds 5   # a quick look, writes nothing

Builds the demo warehouse (scripts/build_warehouse.py) in a temporary folder, loads the value service once (the
corpus's manifest, MetricFlow, a read-only DuckDB connection: timed as the cold start), then asks each question
once per round, interleaved with a hand-written SQL query returning the same number on a separate read-only
connection, so load on the shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs

from bot.config import load_config
from bot.evaluation.evaluate import percentile
from bot.values.answer import load_value_service

REPO = Path(__file__).resolve().parent.parent
COMMAND = ".venv/bin/python bench/value_latency.py"
AS_OF = date(2026, 1, 15)
# (question, kind, plain SQL of the same number)
CASES = (
    ("what was MRR in Q3 2025?", "balance",
     "select sum(mrr_usd) from fct_mrr where snapshot_month = date '2025-09-01'"),
    ("what was ARR in Q3 2025?", "derived",
     "select 12 * sum(mrr_usd) from fct_mrr where snapshot_month = date '2025-09-01'"),
    ("what was ARPA in Q3 2025?", "ratio",
     "select sum(mrr_usd) / count(distinct case when mrr_usd > 0 then customer_id end) from fct_mrr "
     "where snapshot_month = date '2025-09-01'"),
    ("what were billings in March 2025?", "simple",
     "select sum(amount_excl_tax_usd) from fct_invoice_lines where invoice_date between '2025-03-01' and '2025-03-31'"),
    ("what were YTD billings at the end of Q3 2025?", "cumulative",
     "select sum(amount_excl_tax_usd) from fct_invoice_lines where invoice_date between '2025-01-01' and '2025-09-30'"),
    ("what was net new MRR last quarter?", "derived, relative",
     "select sum(mrr_change_usd) from fct_mrr_movements where movement_type <> 'fx_remeasurement' "
     "and movement_month between '2025-10-01' and '2025-12-01'"),
    ("what was enterprise ARR in EMEA in Q3 2025?", "derived, 2 filters",
     "select 12 * sum(mrr_usd) from fct_mrr where snapshot_month = date '2025-09-01' "
     "and plan_tier = 'enterprise' and region = 'emea'"),
    ("what was recognized revenue in Q3 2025?", "simple (revenue schedule)",
     "select sum(recognized_amount_usd) from fct_revenue_schedule "
     "where recognition_date between '2025-07-01' and '2025-09-30'"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        warehouse = Path(scratch) / "demo.duckdb"
        subprocess.run([sys.executable, str(REPO / "scripts" / "build_warehouse.py"), str(warehouse)], check=True,
                       capture_output=True)
        config_path = Path(scratch) / "config.yaml"
        config_path.write_text(f"corpus:\n  paths: [{REPO / 'corpus'}]\nwarehouse:\n  path: {warehouse}\n")
        started = time.perf_counter()
        service = load_value_service(load_config(config_path))
        cold = time.perf_counter() - started
        assert service is not None
        plain = duckdb.connect(str(warehouse), read_only=True)
        answer_ms: dict[str, list[float]] = {q: [] for q, _, _ in CASES}
        sql_ms: dict[str, list[float]] = {q: [] for q, _, _ in CASES}
        for question, _, sql in CASES:  # warm-up, and the two must agree
            answer = service.answer(question, AS_OF)
            expected = float(plain.execute(sql).fetchall()[0][0])
            assert answer is not None and answer.value is not None, question
            assert abs(answer.value - expected) < 0.005, (question, answer.value, expected)
        for _ in range(args.rounds):
            for question, _, sql in CASES:
                t0 = time.perf_counter()
                service.answer(question, AS_OF)
                t1 = time.perf_counter()
                plain.execute(sql).fetchall()
                t2 = time.perf_counter()
                answer_ms[question].append((t1 - t0) * 1000)
                sql_ms[question].append((t2 - t1) * 1000)
    rows = []
    for question, kind, _ in CASES:
        a, s = sorted(answer_ms[question]), sorted(sql_ms[question])
        rows.append(f"| {question} | {kind} | {statistics.median(a):.1f} | {percentile(a, 95):.1f} | "
                    f"{statistics.median(s):.2f} | {percentile(s, 95):.2f} | "
                    f"{percentile(a, 95) / percentile(s, 95):.0f}x |")
    every_answer = sorted(x for q in answer_ms.values() for x in q)
    every_sql = sorted(x for q in sql_ms.values() for x in q)
    rows.append(f"| **all** | | {statistics.median(every_answer):.1f} | {percentile(every_answer, 95):.1f} | "
                f"{statistics.median(every_sql):.2f} | {percentile(every_sql, 95):.2f} | "
                f"{percentile(every_answer, 95) / percentile(every_sql, 95):.0f}x |")
    text = "\n".join([
        "## Metric value answers (MetricFlow on DuckDB)",
        "",
        f"Reproduce with `{COMMAND}`. The demo warehouse (scripts/build_warehouse.py) and the value service are "
        f"loaded once (cold start {cold:.2f} s: the corpus's manifest built and validated, MetricFlow, DuckDB "
        f"read-only); then each question is answered {args.rounds} times (reading the question, MetricFlow "
        "compiling the SQL, DuckDB running it, the reply), interleaved with a hand-written SQL query of the same "
        "number on its own connection. Both agree to the cent before timing starts. Target: warm p95 <= 100 ms.",
        "",
        "| question | metric kind | answer p50 ms | answer p95 ms | plain SQL p50 ms | plain SQL p95 ms | "
        "p95 / SQL p95 |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ])
    print(text)
    if args.rounds >= 30:
        write_section("value-latency", text)


if __name__ == "__main__":
    main()
