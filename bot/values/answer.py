"""Value answers: the number for the period, the SQL MetricFlow ran, and the metric's definition cited; or the
question asked back with its choices when a name fits two metrics or a value two dimensions.

`load_value_service(config)` once per process (manifest, MetricFlow, the read-only warehouse), then
`service.answer(question)` per question: a ValueAnswer, or None when the question asks no metric's value.
`answer_value(question, config)` does both for a one-shot caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.config import Config
from bot.errors import MetricQueryError
from bot.values.engine import MetricEngine, MetricValue
from bot.values.filters import AmbiguousQuestion, Choice, Filter, normalise
from bot.values.periods import Period, parse_period, reanchor
from bot.values.project import Definition, TimeSpine, load_project
from bot.values.question import MetricNames, read_question

# A group-by table shows at most this many rows, largest first (the rest are counted, not shown)
MAX_TABLE_ROWS = 20


@dataclass(frozen=True)
class Citation:
    """Where the metric is defined, in the shape of an answer's sources (`metrics/mrr.yaml:87-108`)."""

    path: str
    start_line: int
    end_line: int
    section: str


@dataclass(frozen=True)
class ValueAnswer:
    """A metric's value for a period, or why it can't be given (`refused`, with the reason in `text`).

    An ask-back is refused with `choices`: what is `ambiguous` ("metric", "dimension value") and each reading,
    with the question reworded to ask for it."""

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
    rows: list[tuple[str, float | None]] | None = None  # largest first, at most MAX_TABLE_ROWS of them
    rows_total: int | None = None  # how many groups there were (more than `rows` when the table was cut)
    filters: list[Filter] | None = None  # the dimension values the question named, as applied
    ambiguous: str | None = None  # an ask-back: "metric" or "dimension value" ...
    choices: list[Choice] | None = None  # ... and the readings to choose from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ValueService:
    """The semantic project, MetricFlow and the warehouse, loaded once; answers value questions."""

    def __init__(self, engine: MetricEngine, max_table_rows: int = MAX_TABLE_ROWS) -> None:
        self.engine = engine
        self.max_table_rows = max_table_rows
        self.definitions = engine.project.definitions
        self.names = MetricNames(self.definitions.values())

    def answer(self, question: str, as_of: dt.date | None = None) -> ValueAnswer | None:
        """The value a question asks for; None when it asks none (the documents answer it instead).

        Relative periods ("last quarter") count from `as_of`, or else from the month after the metric's latest data.
        """
        try:
            asked = read_question(question, self.names, as_of or dt.date.today(), self._dimension_values)
        except AmbiguousQuestion as exc:
            return self._ask_back(exc)
        except _Unqueryable as exc:
            definition = self.definitions[exc.metric]
            citation = Citation(definition.path, definition.start_line, definition.end_line,
                                f"metrics.{definition.name}")
            return ValueAnswer(text=f"{exc}.\nDefinition: [1] {definition.citation}", refused=True,
                               metric=definition.name, citation=citation)
        except MetricQueryError as exc:
            return ValueAnswer(text=f"{exc}", refused=True)
        if asked is None:
            return None
        return self._compute(asked.definition, asked.period, as_of, asked.group_by, asked.filters)

    def query(
        self, metric: str, period: str, as_of: dt.date | None = None, group_by: str = "", where: Sequence[str] = ()
    ) -> ValueAnswer:
        """A metric by its name, label or alias for a period given as text (`Q3 2025`), optionally grouped by a
        dimension (`plan`) and filtered (`region=emea`, `currency=EUR,GBP`, `plan_tier!=starter`); MetricQueryError
        for an unknown metric, dimension or value."""
        try:
            found = self.names.find(metric)
        except AmbiguousQuestion as exc:
            raise MetricQueryError(str(exc)) from None
        if found is None or found[1] != normalise(metric):
            close = self.names.suggest(metric)
            hint = f"; close names: {', '.join(close)}" if close else "; `finbot metrics` lists them"
            raise MetricQueryError(f"'{metric}' is not a known metric{hint}")
        filters = tuple(self._filter(found[0].name, item) for item in where)
        return self._compute(found[0], parse_period(period, as_of or dt.date.today()), as_of, group_by, filters)

    def _dimension_values(self, metric: str) -> dict[str, tuple[str, ...]]:
        try:
            return self.engine.dimension_values(metric)
        except MetricQueryError as exc:  # its tables are missing: say so, and cite the definition
            raise _Unqueryable(metric, str(exc)) from None

    def _filter(self, metric: str, item: str) -> Filter:
        """`region=emea` (`!=` excludes; values comma-separated) as a filter of known values, or MetricQueryError."""
        name, sep, raw = item.partition("!=") if "!=" in item else item.partition("=")
        if not sep or not name.strip() or not raw.strip():
            raise MetricQueryError(f"'{item}' is not a filter; write DIMENSION=VALUE (or !=), e.g. region=emea")
        dimension = self._dimension(metric, name.strip())
        known = {v.lower(): v for v in self.engine.dimension_values(metric).get(dimension, ())}
        values = [v.strip() for v in raw.split(",") if v.strip()]
        unknown = [v for v in values if v.lower() not in known]
        if unknown:
            short = dimension.split("__")[-1]
            raise MetricQueryError(f"'{', '.join(unknown)}' is not a value of {short} for {metric}; "
                                   f"it holds {', '.join(known.values()) or 'no values'}")
        return Filter(dimension, tuple(known[v.lower()] for v in values), sep == "!=", raw.strip())

    def _ask_back(self, asked: AmbiguousQuestion) -> ValueAnswer:
        """What is ambiguous and the choices, instead of a number."""
        choices = asked.choices
        if asked.what == "metric":
            choices = [replace(c, note=self._reading(c.name)) for c in choices]
        if len(choices) == 1:
            lines = [f"'{asked.words}' is not the name of a {asked.what}; did you mean:", ""]
        else:
            lines = [f"'{asked.words}' could be more than one {asked.what}; which one?", ""]
        for n, choice in enumerate(choices, 1):
            note = f", {choice.note}" if choice.note else ""
            lines.append(f"{n}. {choice.label} ({choice.name}){note}: ask \"{choice.question}\"")
        metric = asked.metric
        citation = None
        if metric is not None:
            citation = Citation(metric.path, metric.start_line, metric.end_line, f"metrics.{metric.name}")
            lines += ["", f"[1] {metric.citation}"]
        return ValueAnswer(text="\n".join(lines), refused=True, metric=metric.name if metric else None,
                           citation=citation, ambiguous=asked.what, choices=choices)

    def _reading(self, metric: str) -> str:
        """How a metric reads a period: at its end (a balance), summed over it, or accumulated to its end."""
        definition = self.definitions.get(metric)
        if definition is None:
            return ""
        if definition.type == "cumulative":
            return "accumulated to the period end"
        try:
            if self.engine.unit(metric) == "ratio":
                return "a ratio"
            return "a balance at the period end" if self.engine.is_balance(metric) else "a total over the period"
        except KeyError:
            return ""

    def _anchor(self, metric: str, period: Period, as_of: dt.date | None) -> tuple[Period, str]:
        """The period counted from its reference date, and how the answer says which date that was."""
        if not period.relative:
            return period, f"{period.label} ({period.kind})" if period.kind else period.label
        if as_of is None:
            latest = self.engine.latest_month(metric)
            if latest is not None:
                anchor = dt.date(latest.year + latest.month // 12, latest.month % 12 + 1, 1)
                period = reanchor(period, anchor)
                said = period.kind or period.relative
                return period, f"{said} ({period.label}; the latest data is for {latest:%B %Y})"
            as_of = dt.date.today()
        period = reanchor(period, as_of)
        return period, f"{period.kind or period.relative} ({period.label}, counted from {as_of.isoformat()})"

    def _compute(
        self, definition: Definition, period: Period, as_of: dt.date | None, group_words: str = "",
        filters: Sequence[Filter] = (),
    ) -> ValueAnswer:
        citation = Citation(definition.path, definition.start_line, definition.end_line, f"metrics.{definition.name}")
        name = definition.label or definition.name
        where = f" where {' and '.join(f.describe() for f in filters)}" if filters else ""
        try:
            period, when = self._anchor(definition.name, period, as_of)
        except MetricQueryError as exc:
            return ValueAnswer(text=f"{exc}.\nDefinition: [1] {definition.citation}", refused=True,
                               metric=definition.name, citation=citation)
        base = ValueAnswer(text="", refused=True, metric=definition.name, period=period.label,
                           start=period.start.isoformat(), end=period.end.isoformat(), citation=citation,
                           filters=list(filters) or None)
        try:
            group_by = self._dimension(definition.name, group_words) if group_words else ""
            computed = self.engine.query(definition.name, period, group_by, filters)
        except MetricQueryError as exc:
            return replace(base, text=f"{exc}.\nDefinition: [1] {definition.citation}")
        if computed.value is None and not computed.rows:
            hint = ""
            if filters and definition.type == "derived":
                hint = (f" ({definition.name} is computed from other metrics, and has no figure when the filter leaves "
                        "one of them without rows; ask for those metrics instead)")
            text = (f"The warehouse holds no {name} figures{where} for {when}{hint}.\n"
                    f"Definition: [1] {definition.citation}")
            return replace(base, text=text, sql=computed.sql)
        if computed.group_by:
            dimension = computed.group_by.split("__")[-1]
            # largest first (no data last), ties by name; a long table is cut to max_table_rows
            ordered = sorted(computed.rows, key=lambda row: (row[1] is None, -(row[1] or 0.0), row[0]))
            shown = ordered[: self.max_table_rows]
            lines = [f"{name} by {dimension}{where}, {when} [1]:", "", f"| {dimension} | {definition.name} |",
                     "|---|---:|"]
            lines += [f"| {key} | {format_value(replace(computed, value=v))} |" for key, v in shown]
            if len(ordered) > len(shown):
                lines.append(f"({len(ordered) - len(shown)} more {dimension} values not shown: the "
                             f"{len(shown)} largest of {len(ordered)}; filter to see others)")
            base = replace(base, group_by=dimension, rows=shown, rows_total=len(ordered))
        else:
            lines = [f"{name}{where}, {when}: {format_value(computed)} [1]"]
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


class _Unqueryable(MetricQueryError):
    """A metric named with words to filter by, whose tables the warehouse lacks."""

    def __init__(self, metric: str, message: str) -> None:
        super().__init__(message)
        self.metric = metric


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

