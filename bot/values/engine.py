"""The one adapter around MetricFlowEngine (not a declared stable API; metricflow is pinned exactly).

A metric for a period is compiled by MetricFlow from the manifest and run on the warehouse; only MetricFlow's SQL
ever runs, never text from a question.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.errors import MetricQueryError, WarehouseUnavailableError
from bot.values.filters import Filter
from bot.values.periods import Period
from bot.values.project import SemanticProject
from bot.values.warehouse import WarehouseClient


@dataclass(frozen=True)
class MetricValue:
    """One metric's value for one period, and the SQL that computed it."""

    metric: str
    period: Period
    value: float | None  # None: the warehouse has no rows for the period
    sql: str
    end_of_period: bool  # a balance (non-additive over time): the value at the period's last snapshot
    unit: str  # "USD", "count", "ratio" or ""
    group_by: str = ""  # the dimension (`customer_month__plan_tier`) when grouped; then `rows` hold the values
    rows: tuple[tuple[str, float | None], ...] = ()


class MetricEngine:
    """Queries metric values through MetricFlow on one warehouse client."""

    def __init__(self, project: SemanticProject, client: WarehouseClient, schema: str = "main") -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        self.project = project
        self.client = client
        self.schema = schema
        self._engine = MetricFlowEngine(semantic_manifest_lookup=SemanticManifestLookup(project.manifest),
                                        sql_client=client)
        self._metrics = {m.name: m for m in project.manifest.metrics}
        self._measures = {
            measure.name: (model.name, measure)
            for model in project.manifest.semantic_models for measure in model.measures
        }
        # MetricFlowEngine renumbers its SQL aliases per query (consistent_id_enumeration): one query at a time
        self._lock = threading.Lock()
        self._values: dict[str, dict[str, tuple[str, ...]]] = {}  # metric -> dimension -> its values (cached)

    def dimensions(self, metric: str) -> list[str]:
        """The categorical dimensions the metric can be grouped by (entity-qualified: `customer_month__plan_tier`)."""
        with self._lock:
            found = self._engine.list_dimensions(metric_names=[metric])
        return sorted(d.dunder_name for d in found if d.type.value == "categorical")

    def dimension_values(self, metric: str) -> dict[str, tuple[str, ...]]:
        """Each categorical dimension of the metric and the values the warehouse holds for it (asked once, then cached).

        MetricQueryError when the metric's tables are missing; a NULL value (MetricFlow gives it as 'None') is left
        out, and a metric MetricFlow can't list values for has none."""
        cached = self._values.get(metric)
        if cached is not None:
            return cached
        from metricflow_semantics.errors.error_classes import MetricFlowException

        self._check_tables(metric)
        found: dict[str, tuple[str, ...]] = {}
        source = self._values_source(metric)
        try:
            for dimension in self.dimensions(metric):
                with self._lock:
                    values = self._engine.get_dimension_values(metric_names=[source], get_group_by_values=dimension)
                found[dimension] = tuple(sorted(str(v) for v in values if v is not None and str(v) != "None"))
        except MetricFlowException:
            found = {}
        self._values[metric] = found
        return found

    def _values_source(self, metric: str) -> str:
        """The metric to ask dimension values of: MetricFlow won't list them for a windowed cumulative metric, so an
        unfiltered simple metric on the same semantic models stands in (same rows, same values)."""
        if self._metrics[metric].type.value != "cumulative":
            return metric
        models = {model for model, _ in self._inputs(metric)}
        for name, node in sorted(self._metrics.items()):
            if node.type.value == "simple" and node.filter is None and {m for m, _ in self._inputs(name)} == models:
                return str(name)
        return metric

    def latest_month(self, metric: str) -> dt.date | None:
        """The first day of the latest month the metric has data for (a cumulative metric: its input's)."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest
        from metricflow_semantics.errors.error_classes import MetricFlowException

        self._check_tables(metric)
        node = self._metrics[metric]
        cumulative = node.type_params.cumulative_type_params
        # a cumulative metric runs on over the time spine past its data; its input metric stops where the data does
        base = metric
        if node.type.value == "cumulative" and cumulative is not None and cumulative.metric is not None:
            base = cumulative.metric.name
        request = MetricFlowQueryRequest.create(
            metric_names=[base], group_by_names=["metric_time__month"], order_by_names=["-metric_time__month"], limit=1
        )
        try:
            with self._lock:
                result = self._engine.query(request)
        except MetricFlowException as exc:
            reason = str(exc).splitlines()[0]
            raise MetricQueryError(f"MetricFlow could not find {metric}'s latest data: {reason}") from None
        rows = result.result_df.rows if result.result_df is not None else ()
        return _as_date(rows[0][0]) if rows else None

    def query(self, metric: str, period: Period, group_by: str = "", filters: Sequence[Filter] = ()) -> MetricValue:
        """The value of `metric` for `period`: balances at the period end, flows summed, cumulative at the last day.

        `filters` keep the rows whose dimension holds one of the values (or none of them); each value must be one
        the warehouse holds for that dimension, so the where constraint is built only from known values."""
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest
        from metricflow_semantics.errors.error_classes import MetricFlowException

        self._check_tables(metric)
        cumulative = self._metrics[metric].type.value == "cumulative"
        # a cumulative metric (YTD, trailing 12 months) is its value on the period's last day
        grain = "day" if cumulative else period.grain
        first = period.end if cumulative else period.start
        # a range of months (YTD, H1) has no MetricFlow grain: one total over the time constraint (balances: the
        # last snapshot in it, as MetricFlow's non_additive_dimension picks)
        time_column = "" if grain == "range" else f"metric_time__{grain}"
        group_by_names = [*([time_column] if time_column else []), *([group_by] if group_by else [])]
        request = MetricFlowQueryRequest.create(
            metric_names=[metric],
            group_by_names=group_by_names or None,
            time_constraint_start=dt.datetime.combine(first, dt.time.min),
            time_constraint_end=dt.datetime.combine(period.end, dt.time.max),
            where_constraints=[" AND ".join(self._where(metric, f) for f in filters)] if filters else None,
            order_by_names=group_by_names or None,  # MetricFlow's row order is unstable unless every group-by is in it
        )
        try:
            with self._lock:
                result = self._engine.query(request)
        except MetricFlowException as exc:
            raise MetricQueryError(f"MetricFlow could not compute {metric}: {str(exc).splitlines()[0]}") from None
        rows = result.result_df.rows if result.result_df is not None else ()
        columns = [c.column_name for c in result.result_df.column_descriptions] if result.result_df else []
        value = None
        groups: list[tuple[str, float | None]] = []
        for row in rows:
            cells = dict(zip(columns, row, strict=True))
            if not time_column or _as_date(cells.get(time_column)) == first:
                value = _number(cells.get(metric))
                if group_by:
                    key = cells.get(group_by)
                    groups.append(("(none)" if key is None else str(key), value))
        if group_by:
            value = None  # a total is not the sum of the groups for every metric (ratios, distinct counts)
        return MetricValue(metric, period, value, result.sql, self._is_balance(metric), self._unit(metric), group_by,
                           tuple(groups))

    def _where(self, metric: str, found: Filter) -> str:
        """A MetricFlow where constraint from a filter whose values are all known values of its dimension."""
        known = self.dimension_values(metric).get(found.dimension)
        if known is None:
            raise MetricQueryError(f"{found.dimension} is not a dimension of {metric}")
        unknown = [v for v in found.values if v not in known]
        if unknown or not found.values:
            raise MetricQueryError(f"'{', '.join(unknown)}' is not a value of {found.dimension} ({', '.join(known)})")
        return where_in(found.dimension, found.values, found.exclude)

    def _inputs(self, metric: str) -> list[tuple[str, Any]]:
        """(semantic model, measure) pairs the metric reads, through its input metrics."""
        found: list[tuple[str, Any]] = []
        node = self._metrics[metric]
        params = node.type_params
        if params.measure is not None and params.measure.name in self._measures:
            found.append(self._measures[params.measure.name])
        aggregation = params.metric_aggregation_params
        if aggregation is not None and not found:
            found.append((aggregation.semantic_model, None))
        for measure in params.input_measures:
            if measure.name in self._measures and self._measures[measure.name] not in found:
                found.append(self._measures[measure.name])
        for child in node.input_metrics:
            if child.name in self._metrics and child.name != metric:
                found.extend(self._inputs(child.name))
        cumulative = params.cumulative_type_params
        if cumulative is not None and cumulative.metric is not None and cumulative.metric.name != metric:
            found.extend(self._inputs(cumulative.metric.name))
        return found

    def _check_tables(self, metric: str) -> None:
        missing = sorted({
            (f"{self.schema}.{self.project.tables.get(model, model)}", model)
            for model, _ in self._inputs(metric)
            if f"{self.schema}.{self.project.tables.get(model, model)}".lower() not in self.client.tables()
        })
        if missing:
            tables = ", ".join(f"{table} (semantic model {model})" for table, model in missing)
            raise MetricQueryError(
                f"{metric} is defined, but the warehouse has no table {tables}, so its value cannot be computed here"
            )

    def missing_tables(self, metric: str) -> str | None:
        """Why the warehouse cannot compute `metric` (a table it reads is absent), or None when it can."""
        try:
            self._check_tables(metric)
        except WarehouseUnavailableError:
            raise
        except MetricQueryError as exc:
            return str(exc)
        return None

    def run(self, request: Any) -> Any:
        """One MetricFlowQueryRequest (bot/values/structured.py builds it), one at a time: its result."""
        from metricflow_semantics.errors.error_classes import MetricFlowException

        try:
            with self._lock:
                return self._engine.query(request)
        except MetricFlowException as exc:
            raise MetricQueryError(f"MetricFlow could not compute it: {str(exc).splitlines()[0]}") from None

    def values_of(self, metrics: list[str], dimension: str) -> list[str]:
        """The values `dimension` takes in the warehouse for `metrics` (for checking a filter's values)."""
        with self._lock:
            return [str(v) for v in self._engine.get_dimension_values(metrics, dimension)]

    def unit(self, metric: str) -> str:
        """"USD", "count", "ratio" or ""."""
        return self._unit(metric)

    def is_balance(self, metric: str) -> bool:
        """A balance (MRR, active customers): its value for a period is the one at the period end."""
        return self._is_balance(metric)

    def _is_balance(self, metric: str) -> bool:
        return any(m is not None and m.non_additive_dimension is not None for _, m in self._inputs(metric))

    def _unit(self, metric: str) -> str:
        definition = self.project.definitions.get(metric)
        words = f"{metric} {definition.label if definition else ''}".lower()
        if any(w in words for w in ("rate", "ratio", "margin", "retention", "multiple")):
            return "ratio"
        measures = [m for _, m in self._inputs(metric) if m is not None]
        if measures and all(m.agg.value == "count_distinct" or m.agg.value == "count" for m in measures):
            return "count"
        if any("_usd" in m.name for m in measures):
            return "USD"
        return ""


def _as_date(cell: object) -> dt.date | None:
    if isinstance(cell, dt.datetime):
        return cell.date()
    return cell if isinstance(cell, dt.date) else None


def _number(cell: object) -> float | None:
    if isinstance(cell, (int, float, Decimal)) and not isinstance(cell, bool):
        return float(cell)
    return None


def where_in(dimension: str, values: Sequence[str], exclude: bool = False) -> str:
    """MetricFlow's where constraint keeping the rows whose `dimension` is one of `values` (or none of them);
    the values are quoted as SQL strings, and must be ones the warehouse holds (the callers check)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{{{{ Dimension('{dimension}') }}}} {'NOT IN' if exclude else 'IN'} ({quoted})"
