"""Structured metric queries (POST /v1/metrics/query): metrics, group-bys, a period and filters on known values.

Only MetricFlow's SQL runs. Metric and dimension names are checked against the manifest, and filter values against
the values the warehouse holds for that dimension, before they go into MetricFlow's where template.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.errors import MetricQueryError
from bot.values.engine import where_in
from bot.values.filters import normalise
from bot.values.periods import parse_period, reanchor

if TYPE_CHECKING:
    from bot.values.answer import ValueService
    from bot.values.project import Definition

MAX_METRICS = 10
MAX_GROUP_BYS = 3
# The period forms a structured query takes (the question reader takes more phrasings)
_MONTH_NAMES = "January|February|March|April|May|June|July|August|September|October|November|December"
PERIOD_PATTERN = (rf"^(Q[1-4] (19|20)\d\d|(19|20)\d\d-(0[1-9]|1[0-2])|({_MONTH_NAMES}) (19|20)\d\d"
                  r"|(FY)?(19|20)\d\d|last (month|quarter|year))$")


class UnknownNameError(MetricQueryError):
    """A metric, dimension or dimension value the semantic layer or the warehouse does not have (HTTP 404)."""


@dataclass(frozen=True)
class MetricTable:
    """The rows MetricFlow computed: group-by values then one column per metric, and the SQL that ran."""

    metrics: list[str]
    period: dict[str, str]  # label ("Q3 2025"), start and end (ISO dates)
    columns: list[str]
    rows: list[list[Any]]
    sql: str
    citations: list[str]  # where each metric is defined (`metrics/mrr.yaml:87-108 (metrics.arr)`)
    end_of_period: list[str] = field(default_factory=list)  # balances: the value at the period's last snapshot


@dataclass(frozen=True)
class MetricInfo:
    """A metric as GET /v1/metrics lists it: its definition, dimensions, and why it can't be queried (if so)."""

    name: str
    label: str
    type: str
    description: str
    citation: str
    dimensions: list[str]  # entity-qualified (`customer_month__plan_tier`); the short name works where unique
    queryable: bool
    reason: str | None = None


def list_metrics(service: ValueService) -> list[MetricInfo]:
    """Every metric the corpus defines, queryable or with the reason it is not (WarehouseUnavailableError: none)."""
    found = []
    for name in sorted(service.definitions):
        definition = service.definitions[name]
        reason = service.engine.missing_tables(name)
        dimensions = [] if reason else service.engine.dimensions(name)
        found.append(MetricInfo(name, definition.label, definition.type, definition.description, definition.citation,
                                dimensions, reason is None, reason))
    return found


def query_metrics(
    service: ValueService,
    metrics: Sequence[str],
    period: str,
    group_by: Sequence[str] = (),
    where: Mapping[str, Sequence[str]] | None = None,
    as_of: dt.date | None = None,
) -> MetricTable:
    """Compute `metrics` for `period`, grouped and filtered; MetricQueryError says what is unknown and what exists."""
    from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

    engine = service.engine
    if not metrics or len(metrics) > MAX_METRICS:
        raise MetricQueryError(f"ask for 1 to {MAX_METRICS} metrics")
    if len(group_by) > MAX_GROUP_BYS:
        raise MetricQueryError(f"group by at most {MAX_GROUP_BYS} dimensions")
    definitions = [_metric(service, m) for m in metrics]
    names = list(dict.fromkeys(d.name for d in definitions))
    for name in names:
        if reason := engine.missing_tables(name):
            raise MetricQueryError(reason)
    cumulative = [d.name for d in definitions if d.type == "cumulative"]
    if cumulative and len(names) > 1:
        raise MetricQueryError(f"{cumulative[0]} is cumulative: query it on its own")
    common = set(engine.dimensions(names[0]))
    for name in names[1:]:
        common &= set(engine.dimensions(name))
    dimensions = list(dict.fromkeys(_dimension(d, common, names) for d in group_by))
    constraints = []
    for dimension, values in (where or {}).items():
        qualified = _dimension(dimension, common, names)
        known = set(engine.values_of(names, qualified))
        unknown = [v for v in values if v not in known]
        if unknown or not values:
            raise UnknownNameError(
                f"'{unknown[0] if unknown else ''}' is not a value of {qualified.split('__')[-1]}; it has "
                f"{', '.join(sorted(known)[:20]) or 'no values'}"
            )
        constraints.append(where_in(qualified, values))
    asked = parse_period(period, as_of or dt.date.today())
    if asked.relative:
        latest = engine.latest_month(names[0]) if as_of is None else None
        anchor = as_of or (dt.date(latest.year + latest.month // 12, latest.month % 12 + 1, 1) if latest
                           else dt.date.today())
        asked = reanchor(asked, anchor)
    grain = "day" if cumulative else asked.grain  # a cumulative metric is its value on the period's last day
    first = asked.end if cumulative else asked.start
    time_column = f"metric_time__{grain}"
    group_by_names = [time_column, *dimensions]
    result = engine.run(MetricFlowQueryRequest.create(
        metric_names=names, group_by_names=group_by_names, where_constraints=constraints or None,
        time_constraint_start=dt.datetime.combine(first, dt.time.min),
        time_constraint_end=dt.datetime.combine(asked.end, dt.time.max),
        order_by_names=group_by_names,  # MetricFlow's row order is unstable unless every group-by is in it
    ))
    table = result.result_df
    columns = [c.column_name for c in table.column_descriptions] if table is not None else []
    rows = []
    for row in table.rows if table is not None else ():
        cells = dict(zip(columns, row, strict=True))
        if _as_date(cells.get(time_column)) == first:
            rows.append([_cell(cells.get(d)) for d in dimensions] + [_cell(cells.get(n)) for n in names])
    label = f"{asked.relative} ({asked.label})" if asked.relative else asked.label
    return MetricTable(
        metrics=names, period={"label": label, "start": asked.start.isoformat(), "end": asked.end.isoformat()},
        columns=[d.split("__")[-1] for d in dimensions] + names, rows=rows, sql=result.sql,
        citations=[service.definitions[n].citation for n in names],
        end_of_period=[n for n in names if engine.is_balance(n)],
    )


def _metric(service: ValueService, metric: str) -> Definition:
    found = service.names.find(metric)
    if found is None or found[1] != normalise(metric):
        close = service.names.suggest(metric)
        hint = f"; close names: {', '.join(close)}" if close else "; GET /v1/metrics lists them"
        raise UnknownNameError(f"'{metric}' is not a known metric{hint}")
    return found[0]


def _dimension(name: str, available: set[str], metrics: list[str]) -> str:
    """The qualified dimension `name` names (`plan_tier` or `customer_month__plan_tier`) among the common ones."""
    if name in available:
        return name
    matches = sorted(d for d in available if d.split("__")[-1] == name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise MetricQueryError(f"'{name}' could be {' or '.join(matches)}; say which")
    short = sorted({d.split("__")[-1] for d in available})
    raise UnknownNameError(f"'{name}' is not a dimension of {', '.join(metrics)}; "
                           f"{'they' if len(metrics) > 1 else 'it'} can be grouped by {', '.join(short) or 'nothing'}")


def _as_date(cell: object) -> dt.date | None:
    if isinstance(cell, dt.datetime):
        return cell.date()
    return cell if isinstance(cell, dt.date) else None


def _cell(cell: object) -> Any:
    if isinstance(cell, Decimal):
        return float(cell)
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return cell
