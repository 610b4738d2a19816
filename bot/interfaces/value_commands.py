"""`finbot value`, `finbot query` and `finbot metrics`: metric values through MetricFlow, from the shell."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import click

from bot.errors import MetricQueryError

if TYPE_CHECKING:
    from bot.config import Config
    from bot.interfaces.cli import CliState
    from bot.values.answer import ValueAnswer, ValueService

_AS_OF = click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Count relative periods (last quarter) from this date. "
    "[default: the month after the metric's latest data]",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")


def _service(config: Config) -> ValueService:
    from bot.values.answer import load_value_service

    service = load_value_service(config)
    if service is None:
        raise MetricQueryError(
            "Metric values are off: set warehouse.path in config.yaml (or FINBOT_WAREHOUSE__PATH) to a DuckDB file, "
            "or FINBOT_WAREHOUSE__DSN to a PostgreSQL database; "
            "`python scripts/build_warehouse.py .finbot/warehouse.duckdb` builds the demo one."
        )
    return service


def _print(answer: ValueAnswer, as_json: bool) -> None:
    click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if as_json else answer.text)
    if answer.refused:
        raise SystemExit(1)


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


@click.command("value")
@click.argument("question")
@_AS_OF
@_JSON
@click.pass_obj
def value_command(state: CliState, question: str, as_of: dt.datetime | None, as_json: bool) -> None:
    """Answer a value question ("what was ARR in Q3 2025?") with the number, its SQL and the definition cited.

    Exits 1 when the question asks no metric value, or when it can't be answered (unknown metric, unsupported
    period, no data), saying why.
    """
    answer = _service(state.config).answer(question, _date(as_of))
    if answer is None:
        raise click.ClickException(
            "This question asks no metric's value for a period; `finbot ask` answers it from the documents."
        )
    _print(answer, as_json)


@click.command("query")
@click.argument("metric")
@click.option("--period", required=True, help="Q3 2025, March 2025, 2025-03, FY2025, 2025, last quarter, ...")
@_AS_OF
@_JSON
@click.pass_obj
def query_command(state: CliState, metric: str, period: str, as_of: dt.datetime | None, as_json: bool) -> None:
    """The value of METRIC (name, label or alias) for a period, with the SQL MetricFlow ran."""
    _print(_service(state.config).query(metric, period, _date(as_of)), as_json)


@click.command("metrics")
@click.option("--check", is_flag=True, help="Run every metric on the warehouse for its latest month; list the ones "
              "that can't be computed, with why (exit 1 if any).")
@click.pass_obj
def metrics_command(state: CliState, check: bool) -> None:
    """List the metrics the corpus defines, with where each is defined (no warehouse needed without --check)."""
    from bot.values.project import load_project

    config = state.config
    if check:
        failed = check_metrics(_service(config))
        if failed:
            raise SystemExit(1)
        return
    project = load_project(config.corpus.paths, config.warehouse.schema_name, cache=config.index.path / "semantic")
    for definition in sorted(project.definitions.values(), key=lambda d: d.name):
        click.echo(f"{definition.name:34} {definition.type:10} {definition.citation}")


def check_metrics(service: ValueService) -> list[str]:
    """Print each metric's value for its latest month, or why it is not queryable; returns the ones that failed."""
    from bot.values.periods import parse_period

    failed = []
    for name in sorted(service.definitions):
        try:
            latest = service.engine.latest_month(name)
            if latest is None:
                raise MetricQueryError("the warehouse holds no rows for it")
            month = parse_period(f"{latest:%B %Y}", latest)
            computed = service.engine.query(name, month)
            if computed.value is None:  # a metric with a time offset reads one month past its data
                latest = (latest - dt.timedelta(days=1)).replace(day=1)
                month = parse_period(f"{latest:%B %Y}", latest)
                computed = service.engine.query(name, month)
        except MetricQueryError as exc:
            failed.append(name)
            click.echo(f"{name:34} not queryable: {exc}")
            continue
        shown = "no data" if computed.value is None else f"{computed.value:,.4f}".rstrip("0").rstrip(".")
        click.echo(f"{name:34} ok  {month.label:15} {shown}")
    click.echo(f"{len(service.definitions) - len(failed)} of {len(service.definitions)} metrics queryable")
    return failed
