"""Value answers: the number for the period, the SQL MetricFlow ran, and the metric's definition cited.

`load_value_service(config)` once per process (manifest, MetricFlow, the read-only warehouse), then
`service.answer(question)` per question: a ValueAnswer, or None when the question asks no metric's value.
`answer_value(question, config)` does both for a one-shot caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.config import Config
from bot.errors import MetricQueryError
from bot.values.engine import MetricEngine, MetricValue
from bot.values.periods import Period, parse_period, reanchor
from bot.values.project import Definition, TimeSpine, load_project
from bot.values.question import MetricNames, normalise, read_question


@dataclass(frozen=True)
class Citation:
    """Where the metric is defined, in the shape of an answer's sources (`metrics/mrr.yaml:87-108`)."""

    path: str
    start_line: int
    end_line: int
    section: str


@dataclass(frozen=True)
class ValueAnswer:
    """A metric's value for a period, or why it can't be given (`refused`, with the reason in `text`)."""

    text: str
    refused: bool
    metric: str | None = None
    period: str | None = None  # "Q3 2025"
    start: str | None = None  # ISO dates of the period used
    end: str | None = None
    value: float | None = None
    unit: str = ""
    sql: str | None = None
    citation: Citation | None = None
    group_by: str | None = None  # the dimension grouped by (`plan_tier`); then `rows` hold [value of it, number]
    rows: list[tuple[str, float | None]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ValueService:
    """The semantic project, MetricFlow and the warehouse, loaded once; answers value questions."""

    def __init__(self, engine: MetricEngine) -> None:
        self.engine = engine
        self.definitions = engine.project.definitions
        self.names = MetricNames(self.definitions.values())

    def answer(self, question: str, as_of: dt.date | None = None) -> ValueAnswer | None:
        """The value a question asks for; None when it asks none (the documents answer it instead).

        Relative periods ("last quarter") count from `as_of`, or else from the month after the metric's latest data.
        """
        try:
            asked = read_question(question, self.names, as_of or dt.date.today())
        except MetricQueryError as exc:
            return ValueAnswer(text=f"{exc}", refused=True)
        if asked is None:
            return None
        return self._compute(asked.definition, asked.period, as_of, asked.group_by)

    def query(self, metric: str, period: str, as_of: dt.date | None = None) -> ValueAnswer:
        """A metric by its name, label or alias for a period given as text (`Q3 2025`); MetricQueryError if unknown."""
        found = self.names.find(metric)
        if found is None or found[1] != normalise(metric):
            close = self.names.suggest(metric)
            hint = f"; close names: {', '.join(close)}" if close else "; `finbot metrics` lists them"
            raise MetricQueryError(f"'{metric}' is not a known metric{hint}")
        return self._compute(found[0], parse_period(period, as_of or dt.date.today()), as_of)

    def _anchor(self, metric: str, period: Period, as_of: dt.date | None) -> tuple[Period, str]:
        """The period counted from its reference date, and how the answer says which date that was."""
        if not period.relative:
            return period, period.label
        if as_of is None:
            latest = self.engine.latest_month(metric)
            if latest is not None:
                anchor = dt.date(latest.year + latest.month // 12, latest.month % 12 + 1, 1)
                period = reanchor(period, anchor)
                return period, f"{period.relative} ({period.label}; the latest data is for {latest:%B %Y})"
            as_of = dt.date.today()
        period = reanchor(period, as_of)
        return period, f"{period.relative} ({period.label}, counted from {as_of.isoformat()})"

    def _compute(
        self, definition: Definition, period: Period, as_of: dt.date | None, group_words: str = ""
    ) -> ValueAnswer:
        citation = Citation(definition.path, definition.start_line, definition.end_line, f"metrics.{definition.name}")
        name = definition.label or definition.name
        try:
            period, when = self._anchor(definition.name, period, as_of)
        except MetricQueryError as exc:
            return ValueAnswer(text=f"{exc}.\nDefinition: [1] {definition.citation}", refused=True,
                               metric=definition.name, citation=citation)
        base = ValueAnswer(text="", refused=True, metric=definition.name, period=period.label,
                           start=period.start.isoformat(), end=period.end.isoformat(), citation=citation)
        try:
            group_by = self._dimension(definition.name, group_words) if group_words else ""
            computed = self.engine.query(definition.name, period, group_by)
        except MetricQueryError as exc:
            return replace(base, text=f"{exc}.\nDefinition: [1] {definition.citation}")
        if computed.value is None and not computed.rows:
            text = f"The warehouse holds no {name} figures for {when}.\nDefinition: [1] {definition.citation}"
            return replace(base, text=text, sql=computed.sql)
        if computed.group_by:
            dimension = computed.group_by.split("__")[-1]
            lines = [f"{name} by {dimension}, {when} [1]:", "", f"| {dimension} | {definition.name} |", "|---|---:|"]
            lines += [f"| {key} | {format_value(replace(computed, value=v))} |" for key, v in computed.rows]
            base = replace(base, group_by=dimension, rows=list(computed.rows))
        else:
            lines = [f"{name}, {when}: {format_value(computed)} [1]"]
        if computed.end_of_period:
            lines.append(f"This is an end-of-period value: the last month end on or before {period.end:%d %B %Y}.")
        lines += ["", "SQL (generated by MetricFlow):", computed.sql.strip(), "", f"[1] {definition.citation}"]
        return replace(base, text="\n".join(lines), refused=False, value=computed.value, unit=computed.unit,
                       sql=computed.sql)


    def _dimension(self, metric: str, words: str) -> str:
        """The one dimension of `metric` that `words` ("plan", "regions", "billing interval") name."""
        wanted = [w.removesuffix("s") if len(w) > 3 else w for w in normalise(words).split()]
        available = self.engine.dimensions(metric)
        matches = [d for d in available if all(w in d.split("__")[-1].split("_") for w in wanted)]
        short = sorted({d.split("__")[-1] for d in available})
        if not matches:
            raise MetricQueryError(
                f"'{words}' is not a dimension of {metric}; it can be grouped by {', '.join(short) or 'nothing'}"
            )
        if len({d.split("__")[-1] for d in matches}) > 1:
            raise MetricQueryError(f"'{words}' could be {' or '.join(matches)}; say which")
        return matches[0]


def load_value_service(config: Config) -> ValueService | None:
    """The value service for `config`, or None when `warehouse.path` is unset (values are off)."""
    from bot.values.warehouse import open_client

    settings = config.warehouse
    if not settings.enabled:
        return None
    project = load_project(config.corpus.paths, settings.schema_name, TimeSpine(settings.time_spine),
                           cache=config.index.path / "semantic")
    client = open_client(settings)
    return ValueService(MetricEngine(project, client, settings.schema_name))


def answer_value(question: str, config: Config, as_of: dt.date | None = None) -> ValueAnswer | None:
    """One-shot: load the service and answer; None when values are off or the question asks no value."""
    service = load_value_service(config)
    return service.answer(question, as_of) if service else None


def format_value(value: MetricValue) -> str:
    """Finance formatting: `USD 6,806,584.32`, `318`, `6.53` (ratios), `12.5%` for rates below 1."""
    number = value.value
    if number is None:
        return "no data"
    if value.unit == "USD":
        return f"USD {number:,.2f}"
    if value.unit == "count" or number.is_integer():
        return f"{number:,.0f}"
    if value.unit == "ratio" and abs(number) < 1 and "rate" in value.metric:
        return f"{number:.2%}"
    return f"{number:,.2f}"

