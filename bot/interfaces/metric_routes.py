"""GET /v1/metrics and POST /v1/metrics/query: metric values as data, behind the same keys and limits as /v1/ask."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from bot.errors import USER_ERRORS, WarehouseUnavailableError
from bot.values.structured import MAX_GROUP_BYS, MAX_METRICS

if TYPE_CHECKING:
    from bot.interfaces.service import Service
    from bot.values.answer import ValueService

Cell = str | float | int | bool | None


class PeriodOut(BaseModel):
    label: str = Field(examples=["Q3 2025"])
    start: str = Field(examples=["2025-07-01"])
    end: str = Field(examples=["2025-09-30"])


class MetricOut(BaseModel):
    name: str = Field(examples=["arr"])
    label: str
    type: str = Field(description="simple, ratio, derived or cumulative (dbt Semantic Layer metric types).")
    description: str
    citation: str = Field(examples=["metrics/mrr.yaml:87-108 (metrics.arr)"])
    dimensions: list[str] = Field(description="What it can be grouped and filtered by (entity-qualified; the part "
                                  "after `__` works where it is unique).")
    queryable: bool
    reason: str | None = Field(None, description="Why the warehouse cannot compute it, when it cannot.")


class MetricsOut(BaseModel):
    metrics: list[MetricOut]


class MetricQueryIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    metrics: list[str] = Field(min_length=1, max_length=MAX_METRICS, examples=[["arr", "active_customers"]],
                               description="Metric names, labels or aliases (GET /v1/metrics lists them).")
    period: str = Field(min_length=1, max_length=100, examples=["Q3 2025"],
                        description="A month (March 2025, 2025-03), quarter (Q3 2025), year (FY2025) or "
                        "last month/quarter/year.")
    group_by: list[str] = Field(default_factory=list, max_length=MAX_GROUP_BYS, examples=[["plan_tier"]])
    where: dict[str, list[str]] = Field(
        default_factory=dict, max_length=5, examples=[{"region": ["emea"]}],
        description="Dimension -> the values to keep; only values the warehouse holds for that dimension.",
    )
    as_of: dt.date | None = Field(None, strict=False, description="Count relative periods from this date "
                                  "(default: the month after the first metric's latest data).")


class MetricQueryOut(BaseModel):
    metrics: list[str]
    period: PeriodOut
    columns: list[str] = Field(description="The group-by dimensions, then one column per metric.")
    rows: list[list[Cell]]
    sql: str = Field(description="The SQL MetricFlow generated and ran (only MetricFlow's SQL ever runs).")
    citations: list[str] = Field(description="Where each metric is defined.")
    end_of_period: list[str] = Field(description="The balance metrics: their value is the period-end one.")


def mount_metric_routes(app: FastAPI, service: Service, values: ValueService | None) -> None:
    """The two routes; with values off (no warehouse.path) they answer 503 saying so."""

    def require() -> ValueService:
        if values is None:
            raise HTTPException(status_code=503, detail="Metric values are off on this server: set warehouse.path "
                                "(or FINBOT_WAREHOUSE__PATH) to a DuckDB file; `make warehouse` builds the demo one.")
        return values

    def run(work: Any) -> Any:
        try:
            return work()
        except WarehouseUnavailableError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        except USER_ERRORS as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None

    @app.get("/v1/metrics", response_model=MetricsOut, responses=service.ask_responses, dependencies=[service.guard])
    async def metrics() -> dict[str, Any]:
        """The metrics the corpus defines: which the warehouse can compute, and their dimensions."""
        from bot.values.structured import list_metrics

        found = require()
        listed = await service.slots.run(lambda: run(lambda: list_metrics(found)))
        return {"metrics": [asdict(m) for m in listed]}

    @app.post("/v1/metrics/query", response_model=MetricQueryOut, responses=service.ask_responses,
              dependencies=[service.guard])
    async def query(request: MetricQueryIn) -> dict[str, Any]:
        """Metric values for a period, grouped and filtered, with the SQL MetricFlow ran."""
        from bot.values.structured import query_metrics

        found = require()
        table = await service.slots.run(lambda: run(lambda: query_metrics(
            found, request.metrics, request.period, request.group_by, request.where, request.as_of
        )))
        return asdict(table)
