"""GET /v1/metrics and POST /v1/metrics/query: metric values as data, behind the same keys and limits as /v1/ask."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.errors import USER_ERRORS, WarehouseUnavailableError
from bot.interfaces.http_errors import ErrorOut
from bot.values.structured import MAX_GROUP_BYS, MAX_METRICS, PERIOD_PATTERN, UnknownNameError

if TYPE_CHECKING:
    from bot.interfaces.service import Service
    from bot.values.answer import ValueService

Cell = str | float | int | bool | None
Name = Annotated[str, Field(min_length=1, max_length=200)]


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

    metrics: list[Name] = Field(min_length=1, max_length=MAX_METRICS, examples=[["arr", "active_customers"]],
                                description="Metric names, labels or aliases (GET /v1/metrics lists them); an "
                                "unknown one is a 404.")
    period: str = Field(pattern=PERIOD_PATTERN, examples=["Q3 2025"],
                        description="A month (March 2025, 2025-03), quarter (Q3 2025), year (FY2025, 2025) or "
                        "last month/quarter/year.")
    group_by: list[Name] = Field(default_factory=list, max_length=MAX_GROUP_BYS, examples=[["plan_tier"]])
    where: dict[str, Annotated[list[Name], Field(min_length=1, max_length=50)]] = Field(
        default_factory=dict, max_length=5, examples=[{"region": ["emea"]}],
        description="Dimension -> the values to keep; only values the warehouse holds for that dimension (else 404).",
    )
    as_of: dt.date | None = Field(None, strict=False, description="Count relative periods from this date "
                                  "(YYYY-MM-DD; default: the month after the first metric's latest data).")

    @field_validator("as_of", mode="before")
    @classmethod
    def an_iso_date(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError("as_of must be a date string such as 2026-01-15")
        return value


class MetricQueryOut(BaseModel):
    metrics: list[str]
    period: PeriodOut
    columns: list[str] = Field(description="The group-by dimensions, then one column per metric.")
    rows: list[list[Cell]]
    sql: str = Field(description="The SQL MetricFlow generated and ran (only MetricFlow's SQL ever runs).")
    citations: list[str] = Field(description="Where each metric is defined.")
    end_of_period: list[str] = Field(description="The balance metrics: their value is the period-end one.")


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "A metric, dimension or dimension value that does not exist."},
}


def mount_metric_routes(app: FastAPI, service: Service, values: ValueService) -> None:
    """The two routes (only with metric values on, like the MCP server's query_metric tool)."""

    def run(work: Any) -> Any:
        try:
            return work()
        except WarehouseUnavailableError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        except UnknownNameError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
        except USER_ERRORS as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None

    @app.get("/v1/metrics", response_model=MetricsOut, responses=service.ask_responses, dependencies=[service.guard])
    async def metrics() -> dict[str, Any]:
        """The metrics the corpus defines: which the warehouse can compute, and their dimensions."""
        from bot.values.structured import list_metrics

        listed = await service.slots.run(lambda: run(lambda: list_metrics(values)))
        return {"metrics": [asdict(m) for m in listed]}

    @app.post("/v1/metrics/query", response_model=MetricQueryOut, responses={**service.ask_responses, **NOT_FOUND},
              dependencies=[service.guard])
    async def query(request: MetricQueryIn) -> dict[str, Any]:
        """Metric values for a period, grouped and filtered, with the SQL MetricFlow ran."""
        from bot.values.structured import query_metrics

        table = await service.slots.run(lambda: run(lambda: query_metrics(
            values, request.metrics, request.period, request.group_by, request.where, request.as_of
        )))
        return asdict(table)
