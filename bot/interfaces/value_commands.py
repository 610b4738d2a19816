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
            "Metric values are off: set warehouse.path in config.yaml (or FINBOT_WAREHOUSE__PATH) to a DuckDB file; "
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
@click.pass_obj
def metrics_command(state: CliState) -> None:
    """List the metrics the corpus defines, with where each is defined (no warehouse needed)."""
    from bot.values.project import load_project

    config = state.config
    project = load_project(config.corpus.paths, config.warehouse.schema_name)
    for definition in sorted(project.definitions.values(), key=lambda d: d.name):
        click.echo(f"{definition.name:34} {definition.type:10} {definition.citation}")
