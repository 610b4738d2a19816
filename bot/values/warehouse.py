"""The warehouse client `warehouse:` configures: the seam where another engine plugs in.

MetricFlow compiles metrics to SQL for a `SqlClient` (seven members) and renders the dialect its
`sql_engine_type` names. DuckDbClient (a file, read-only) and PostgresClient (psycopg) implement it; a Snowflake or
BigQuery client is the same class over that driver, with SqlEngine.SNOWFLAKE / BIGQUERY and MetricFlow's
SnowflakeSqlPlanRenderer / BigQuerySqlPlanRenderer, plus `tables()`; `open_client` then picks it from the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.config import Warehouse


class WarehouseClient(Protocol):
    """MetricFlow's SqlClient protocol, plus the table list the engine checks a metric's tables against."""

    max_rows: int
    timeout_seconds: float

    @property
    def sql_engine_type(self) -> Any: ...

    @property
    def sql_plan_renderer(self) -> Any: ...

    def query(self, stmt: str, sql_bind_parameter_set: Any = ...) -> Any: ...

    def execute(self, stmt: str, sql_bind_parameter_set: Any = ...) -> None: ...

    def dry_run(self, stmt: str, sql_bind_parameter_set: Any = ...) -> None: ...

    def close(self) -> None: ...

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str: ...

    def tables(self) -> set[str]: ...


def open_client(settings: Warehouse) -> WarehouseClient:
    """Postgres when `warehouse.dsn` is set, else the DuckDB file at `warehouse.path` (opened on first use)."""
    if settings.dsn is not None:
        from bot.values.postgres_client import PostgresClient

        return PostgresClient(settings.dsn.get_secret_value(), settings.max_rows, settings.timeout_seconds)
    from bot.values.duckdb_client import DuckDbClient

    assert settings.path is not None  # Warehouse.enabled
    return DuckDbClient(settings.path, settings.max_rows, settings.timeout_seconds)
