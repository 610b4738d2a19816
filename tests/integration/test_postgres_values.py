"""A value question answered through MetricFlow's Postgres rendering on a real PostgreSQL server.

The server (Debian's `postgresql` package) is started by the test on a free port in a temporary folder, as the
`postgres` user when the tests run as root; the demo warehouse's tables are copied into it, schema `main`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pytest

from bot.config import load_config
from bot.errors import MetricQueryError, WarehouseUnavailableError
from bot.values.answer import ValueService, load_value_service
from bot.values.postgres_client import PostgresClient
from tests.conftest import CORPUS, write_config
from tests.integration.servers import free_port

pytestmark = pytest.mark.integration

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
TYPES = {"VARCHAR": "text", "DATE": "date", "BOOLEAN": "boolean", "DOUBLE": "double precision"}


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A DSN of a fresh server; stopped and deleted afterwards."""
    if not BINARIES:
        pytest.skip("PostgreSQL is not installed (`make system-deps` installs Debian's postgresql)")
    bin_dir = Path(BINARIES[-1])
    folder = Path(tempfile.mkdtemp(prefix="finbot-pg-"))
    as_user: list[str] = []
    if os.getuid() == 0:  # postgres refuses to run as root
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "finbot", "--no-sync"],
                   check=True, capture_output=True)
    server = subprocess.Popen(
        [*as_user, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
         "-k", str(folder), "-c", "fsync=off"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    dsn = f"host=127.0.0.1 port={port} user=finbot dbname=postgres"
    try:
        for _ in range(600):  # a hang guard: the server normally accepts within a second or two
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else "postgres exited"
            try:
                psycopg.connect(dsn).close()
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield dsn
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def loaded(postgres: str, warehouse: Path) -> str:
    """The demo warehouse's tables copied into schema `main` of the server."""
    with duckdb.connect(str(warehouse), read_only=True) as source, psycopg.connect(postgres, autocommit=True) as pg:
        pg.execute("create schema main")
        tables = [t for (t,) in source.execute("select table_name from information_schema.tables").fetchall()]
        for table in tables:
            columns = source.execute(
                "select column_name, data_type from information_schema.columns where table_name = ? "
                "order by ordinal_position", [table]).fetchall()
            typed = ", ".join(f"{name} {TYPES.get(kind, kind.replace('DECIMAL', 'numeric'))}" for name, kind in columns)
            pg.execute(f"create table main.{table} ({typed})")
            with pg.cursor() as cursor, cursor.copy(f"copy main.{table} from stdin") as copy:
                for row in source.execute(f"select * from {table}").fetchall():
                    copy.write_row(row)
    return postgres


@pytest.fixture(scope="module")
def service(loaded: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValueService]:
    """Through the config, as `finbot serve` would: warehouse.dsn set, warehouse.path not."""
    config = load_config(write_config(tmp_path_factory.mktemp("pg-config"), CORPUS, warehouse={"dsn": loaded}))
    found = load_value_service(config)
    assert found is not None and isinstance(found.engine.client, PostgresClient)
    yield found
    found.engine.client.close()


def by_hand(dsn: str, sql: str) -> float:
    with psycopg.connect(dsn) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return float(row[0])


@pytest.mark.parametrize(("question", "sql"), [
    ("what was ARR in Q3 2025?", "select 12 * sum(mrr_usd) from main.fct_mrr where snapshot_month = '2025-09-01'"),
    ("what were billings in Q2 2025", "select sum(amount_excl_tax_usd) from main.fct_invoice_lines "
                                      "where invoice_date between '2025-04-01' and '2025-06-30'"),
    ("what was gross margin in Q3 2025", """
        select (r - c) / r from
          (select sum(recognized_amount_usd) r from main.fct_revenue_schedule
           where recognition_date between '2025-07-01' and '2025-09-30') rev,
          (select sum(amount_usd) c from main.fct_gl_pnl_lines where account_category = 'cost_of_revenue'
           and accounting_period between '2025-07-01' and '2025-09-01') cost"""),
])
def test_a_value_question_through_the_postgres_dialect(service: ValueService, loaded: str, question: str,
                                                       sql: str) -> None:
    answer = service.answer(question, date(2026, 1, 15))
    assert answer is not None and not answer.refused, answer and answer.text
    assert answer.value == pytest.approx(by_hand(loaded, sql))
    assert answer.sql is not None and "main.fct_" in answer.sql


def test_only_reads_run_and_slow_queries_are_cancelled(loaded: str) -> None:
    client = PostgresClient(loaded, max_rows=10, timeout_seconds=0.5)
    try:
        assert client.query("select generate_series(1, 10)").row_count == 10
        with pytest.raises(MetricQueryError, match=r"more than 10 rows"):
            client.query("select generate_series(1, 11)")
        with pytest.raises(MetricQueryError, match=r"longer than 0.5 s"):
            client.query("select pg_sleep(5)")
        with pytest.raises(MetricQueryError, match="rejected the generated SQL"):
            client.execute("create table main.nope (x int)")  # a read-only transaction
    finally:
        client.close()


def test_an_unreachable_server_says_so(tmp_path: Path) -> None:
    client = PostgresClient(f"host=127.0.0.1 port={free_port()} user=finbot dbname=postgres", timeout_seconds=2)
    with pytest.raises(WarehouseUnavailableError, match="cannot connect to the Postgres warehouse"):
        client.tables()
