"""MetricFlow's SqlClient protocol over PostgreSQL (psycopg 3): the same seven members as DuckDbClient.

Each statement runs in a read-only transaction with `statement_timeout`, so only MetricFlow's SELECTs can run and
a slow one is cancelled by the server; at most `max_rows` rows come back. MetricFlow renders the Postgres dialect.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from bot.errors import MetricQueryError, WarehouseUnavailableError

_NO_PARAMETERS = SqlBindParameterSet()


class PostgresClient:
    """Runs MetricFlow's SQL on one Postgres connection (opened on first use, reopened after it drops)."""

    def __init__(self, dsn: str, max_rows: int = 10_000, timeout_seconds: float = 10.0) -> None:
        self._dsn = dsn
        self._con: psycopg.Connection[Any] | None = None
        self._tables: set[str] | None = None
        self._lock = threading.Lock()
        self._renderer = PostgresSQLSqlPlanRenderer()
        self.max_rows = max_rows
        self.timeout_seconds = timeout_seconds

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.POSTGRES

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return self._renderer

    def query(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS
    ) -> MetricFlowDataTable:
        with self._lock:
            rows, names = self._run(stmt, sql_bind_parameter_set, fetch=True)
        if len(rows) > self.max_rows:
            raise MetricQueryError(f"the query returned more than {self.max_rows:,} rows (warehouse.max_rows)")
        return MetricFlowDataTable.create_from_rows(column_names=names, rows=rows)

    def execute(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS) -> None:
        with self._lock:
            self._run(stmt, sql_bind_parameter_set, fetch=False)

    def dry_run(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS) -> None:
        with self._lock:
            self._run(f"EXPLAIN {stmt}", sql_bind_parameter_set, fetch=False)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"%({bind_parameter_key})s"

    def tables(self) -> set[str]:
        """The `schema.table` names the warehouse holds (lower case), read once."""
        with self._lock:
            if self._tables is None:
                rows, _ = self._run("select table_schema, table_name from information_schema.tables",
                                    _NO_PARAMETERS, fetch=True)
                self._tables = {f"{schema}.{name}".lower() for schema, name in rows}
            return self._tables

    def _connection(self) -> psycopg.Connection[Any]:
        if self._con is None or self._con.closed:
            try:
                self._con = psycopg.connect(self._dsn, connect_timeout=max(1, int(self.timeout_seconds)))
            except psycopg.Error as exc:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise WarehouseUnavailableError(
                    f"cannot connect to the Postgres warehouse (warehouse.dsn): {reason}"
                ) from None
        return self._con

    def _run(self, stmt: str, params: SqlBindParameterSet, fetch: bool) -> tuple[list[Any], list[str]]:
        con = self._connection()
        try:
            with con.transaction(), con.cursor() as cursor:
                cursor.execute("set transaction read only")
                cursor.execute(f"set local statement_timeout = {int(self.timeout_seconds * 1000)}")
                cursor.execute(stmt, dict(params.param_dict) or None)
                if not fetch:
                    return [], []
                rows = cursor.fetchmany(self.max_rows + 1)
                return rows, [d.name for d in cursor.description or []]
        except psycopg.errors.QueryCanceled:
            raise MetricQueryError(
                f"the warehouse query took longer than {self.timeout_seconds:g} s (warehouse.timeout_seconds)"
            ) from None
        except psycopg.OperationalError as exc:
            raise WarehouseUnavailableError(f"the Postgres warehouse dropped the connection: {exc}") from None
        except psycopg.Error as exc:
            raise MetricQueryError(f"the warehouse rejected the generated SQL: {str(exc).splitlines()[0]}") from None
