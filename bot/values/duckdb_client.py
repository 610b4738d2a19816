"""MetricFlow's SqlClient protocol over a DuckDB file, opened read-only: MetricFlow ships no DuckDB client.

This is the seam for another warehouse: a class with the same seven members over psycopg (SqlEngine.POSTGRES with
PostgresSQLSqlPlanRenderer) or a Snowflake/BigQuery driver plugs in here; MetricFlow renders those dialects.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import duckdb
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from bot.errors import MetricQueryError, WarehouseUnavailableError

_NO_PARAMETERS = SqlBindParameterSet()


class DuckDbClient:
    """Runs MetricFlow's SQL on one read-only DuckDB connection; at most `max_rows` rows come back.

    The file is opened on first use, so a server started before the warehouse was built answers value questions
    as soon as it exists (and until then says how to build it, with the definition).
    """

    def __init__(self, path: Path, max_rows: int = 10_000, timeout_seconds: float = 10.0) -> None:
        self.path = path
        self._con: duckdb.DuckDBPyConnection | None = None
        self._tables: set[str] | None = None
        self._lock = threading.Lock()  # one DuckDB connection is not for concurrent use
        self._renderer = DuckDbSqlPlanRenderer()
        self.max_rows = max_rows
        self.timeout_seconds = timeout_seconds

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """The open connection (call with the lock held); MetricQueryError naming the file when there is none."""
        if self._con is None:
            if not self.path.is_file():
                raise WarehouseUnavailableError(
                    f"No warehouse at {self.path}. Build the demo one with `make warehouse` (or "
                    f"`python scripts/build_warehouse.py {self.path}`) or point warehouse.path at your DuckDB file"
                )
            try:
                self._con = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as exc:
                raise WarehouseUnavailableError(f"{self.path}: cannot open the warehouse read-only: {exc}") from None
        return self._con

    @property
    def sql_engine_type(self) -> SqlEngine:
        return SqlEngine.DUCKDB

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return self._renderer

    def query(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS
    ) -> MetricFlowDataTable:
        with self._lock:
            cursor = self._run(stmt, sql_bind_parameter_set)
            rows = cursor.fetchmany(self.max_rows + 1)
            names = [d[0] for d in cursor.description or []]
        if len(rows) > self.max_rows:
            raise MetricQueryError(f"the query returned more than {self.max_rows:,} rows (warehouse.max_rows)")
        return MetricFlowDataTable.create_from_rows(column_names=names, rows=rows)

    def execute(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS) -> None:
        with self._lock:
            self._run(stmt, sql_bind_parameter_set)

    def dry_run(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS) -> None:
        with self._lock:
            self._run(f"EXPLAIN {stmt}", sql_bind_parameter_set)

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"

    def tables(self) -> set[str]:
        """The `schema.table` names the warehouse holds (lower case), read once."""
        with self._lock:
            if self._tables is None:
                rows = self._connection().execute(
                    "select table_schema, table_name from information_schema.tables"
                ).fetchall()
                self._tables = {f"{schema}.{name}".lower() for schema, name in rows}
            return self._tables

    def _run(self, stmt: str, params: SqlBindParameterSet) -> Any:
        # DuckDB has no statement timeout: interrupt the connection from a timer instead
        con = self._connection()
        timer = threading.Timer(self.timeout_seconds, con.interrupt)
        timer.start()
        try:
            return con.execute(stmt, dict(params.param_dict) or None)
        except duckdb.InterruptException:
            raise MetricQueryError(
                f"the warehouse query took longer than {self.timeout_seconds:g} s (warehouse.timeout_seconds)"
            ) from None
        except duckdb.Error as exc:
            raise MetricQueryError(f"the warehouse rejected the generated SQL: {str(exc).splitlines()[0]}") from None
        finally:
            timer.cancel()
