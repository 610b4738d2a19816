"""From a question to (metric, period, group-by, filters) without an LLM: "what was ARR in Q3 2025?",
"NRR last quarter", "enterprise ARR in EMEA by currency for H1 2025".

Metrics are named by their name, label, acronym or `meta.aliases`; the longest name found wins. A question is a
value question only when it names a period and does not ask how something is defined or calculated. Filters are
the metric's dimension values the question names ("enterprise", "EMEA", "in EUR"), matched against the values the
warehouse holds; any other word is refused by name, never dropped. A name that fits two metrics, or a value that
fits two dimensions, is asked back (AmbiguousQuestion, with the choices).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.errors import MetricQueryError
from bot.values.filters import (
    FILLER,
    AmbiguousQuestion,
    Choice,
    DimensionValues,
    Filter,
    find_filters,
    normalise,
    reworded,
    singular,
)
from bot.values.periods import FoundPeriod, Period, find_period
from bot.values.project import Definition

# "how is X calculated", "what does X mean": a question about the definition, answered from the documents
_DEFINITION = re.compile(
    r"\b(how\s+(?:is|are|do|does|did|should|would)\b.*\b(?:calculat|comput|defin|measur|work|count|treat|recogni)\w*"
    r"|defin(?:e|ed|ition)|formula|mean(?:s|t)?\b|why\b|explain|policy|rule)"
)
# "what was <name> in|for <period>": the words naming the metric, to refuse an unknown one by name
_ASKED_NAME = re.compile(
    r"^\s*what(?:\s+was|\s+were|\s+is|\s+are|'s)\s+(?:the\s+|our\s+|total\s+)?(?P<name>[\w\s&'/-]+?)\s+"
    r"(?:in|for|during|over)\s*$"
)
# "by plan", "per region", "broken down by currency": a group-by (up to three words)
_GROUP_BY = re.compile(
    r"\b(?:split\s+by|broken\s+down\s+by|grouped\s+by|by|per|for\s+each)\s+([a-z][a-z_]*(?:\s+[a-z_]+){0,2})"
)


# Filler that may end the words naming a metric ("how many customers did we have in"); "value" or "rate" may not
_TRAILING_FILLER = frozenset(FILLER - {"value", "number", "figure", "amount", "total", "level", "end", "close"})
@dataclass(frozen=True)
class ValueQuestion:
    """What a value question asks: one metric for one period (relative periods counted from `as_of`)."""

    definition: Definition
    period: Period
    as_of: date
    named_as: str  # the words that named the metric
    group_by: str = ""  # "plan" in "ARR by plan": resolved against the metric's dimensions by the caller
    filters: tuple[Filter, ...] = ()


class MetricNames:
    """Every way the corpus names a metric, normalised for whole-word matching."""

    def __init__(self, definitions: Iterable[Definition]) -> None:
        self.definitions = {d.name: d for d in definitions}
        self.terms: dict[str, set[str]] = {}
        for d in self.definitions.values():
            for term in _terms(d):
                self.terms.setdefault(term, set()).add(d.name)

    def find(self, text: str) -> tuple[Definition, str] | None:
        """The metric a text names (longest name first) and the name used.

        Raises AmbiguousQuestion when one name fits several metrics, MetricQueryError when it names several."""
        words = f" {normalise(text)} "
        hits: list[tuple[int, int, str]] = []
        for term in sorted(self.terms, key=len, reverse=True):
            for match in re.finditer(rf"(?<= ){re.escape(term)}(?= )", words):
                start, end = match.start(), match.end()
                if not any(s < end and start < e for s, e, _ in hits):
                    hits.append((start, end, term))
        if not hits:
            return None
        named = {name for _, _, term in hits for name in self.terms[term]}
        if len(named) > 1:
            shared = [term for _, _, term in hits if len(self.terms[term]) > 1]
            if len(hits) == 1 and shared:
                raise AmbiguousQuestion("metric", shared[0], self.choices(text, shared[0], sorted(named)))
            choices = ", ".join(sorted(named))
            raise MetricQueryError(
                f"the question names more than one metric ({choices}); ask for one metric at a time"
            )
        return self.definitions[named.pop()], hits[0][2]

    def partial(self, words: Sequence[str]) -> list[str]:
        """The metrics with a name ending in `words` ("customers": active, new and churned customers); failing
        that, the few (at most 4) with a name holding every one of them."""
        if not words:
            return []
        tail = [singular(w) for w in words]
        ending = sorted({
            name for term, names in self.terms.items() if _ends_with(term.split(), tail) for name in names
        })
        if ending:
            return ending
        wanted = set(tail)
        holding = sorted({
            name for term, names in self.terms.items() if wanted <= {singular(w) for w in term.split()}
            for name in names
        })
        return holding if len(holding) <= 4 else []

    def choices(self, question: str, words: str, metrics: Sequence[str]) -> list[Choice]:
        """Each metric as a choice, with the question reworded to name it."""
        found = []
        for name in metrics:
            definition = self.definitions[name]
            term = _naming_term(definition, words)
            found.append(Choice(name, definition.label or name, reworded(question, words, term)))
        return found

    def suggest(self, words: str) -> list[str]:
        """Metric names close to words that named no metric."""
        close = difflib.get_close_matches(normalise(words), list(self.terms), n=3, cutoff=0.6)
        return sorted({name for term in close for name in self.terms[term]})


def read_question(
    question: str, names: MetricNames, as_of: date, values: Callable[[str], DimensionValues] | None = None
) -> ValueQuestion | None:
    """The metric, period, group-by and filters a value question asks; None when it is not one (let the documents
    answer). `values(metric)` gives the values of each of the metric's dimensions, to read filters from.

    Raises AmbiguousQuestion when a name fits several metrics or a value several dimensions, and MetricQueryError
    when it is a value question that cannot be answered as asked: an unknown metric, a word that is no value of the
    metric's dimensions, a period that is not supported, or several metrics at once.
    """
    lowered = question.lower()
    if _DEFINITION.search(lowered):
        return None
    # a name of several metrics (asked back) or several metrics named (refused) matter only with a period
    pending: MetricQueryError | None = None
    try:
        found = _find_metric(question, names, as_of)
    except MetricQueryError as exc:
        found, pending = None, exc
    named_words = found[1] if found else pending.words if isinstance(pending, AmbiguousQuestion) else ""
    rest = _without(lowered, named_words) if named_words else lowered
    try:
        period_found = find_period(rest, as_of)
    except MetricQueryError:
        if found is None:
            return None  # a period phrase but no one metric: not ours to refuse
        raise
    if period_found is None:
        return None
    if pending is not None:
        raise pending
    rest = _blanked(rest, period_found)
    rest, group_words = _group_by(rest)
    if found is None:
        _refuse_unknown(question, lowered[: period_found.spans[0][0]], rest, names)
        return None
    definition = found[0]
    if all(w in FILLER for w in normalise(rest).split()):  # nothing left to filter by: no need for the values
        return ValueQuestion(definition, period_found.period, as_of, found[1], group_words)
    dimensions = values(definition.name) if values else {}
    filters, extra = find_filters(question, rest, dimensions, definition)
    if extra:
        _refuse_extra(question, extra, definition, dimensions)
    return ValueQuestion(definition, period_found.period, as_of, found[1], group_words, tuple(filters))


def _find_metric(question: str, names: MetricNames, as_of: date) -> tuple[Definition, str] | None:
    """names.find, but when two metrics seem named, once more without the period ("trailing 12 months" is not the
    'months' of another metric's name)."""
    try:
        return names.find(question)
    except AmbiguousQuestion:
        raise
    except MetricQueryError:
        try:
            period = find_period(question.lower(), as_of)
        except MetricQueryError:
            period = None
        if period is None:
            raise
        return names.find(_blanked(question.lower(), period))


def _terms(definition: Definition) -> set[str]:
    terms = {definition.name, definition.name.replace("_", " "), *definition.aliases}
    label = definition.label
    if label:
        terms.add(label)
        acronym = re.search(r"\(([^)]+)\)\s*$", label)
        if acronym:
            # "(ARR)" names the metric; "(monthly)" or "(months)" only qualifies the label
            if re.fullmatch(r"[A-Z][A-Z0-9&/-]*[A-Z0-9]s?", acronym.group(1)):
                terms.add(acronym.group(1))
            terms.add(label[: acronym.start()])
    return {t for t in map(normalise, terms) if t}


def _without(lowered: str, term: str) -> str:
    """The question with the metric's name blanked (same length), so "YTD billings" is not read as a period."""
    pattern = r"[^a-z0-9]+".join(map(re.escape, term.split()))
    return re.sub(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])", lambda m: " " * len(m.group(0)), lowered, count=1)


def _blanked(text: str, found: FoundPeriod) -> str:
    for start, end in found.spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _group_by(rest: str) -> tuple[str, str]:
    """The text without its group-by phrase, and the words naming the dimension ("plan" in "by plan")."""
    group = _GROUP_BY.search(rest)
    if not group:
        return rest, ""
    words = group.group(1).split()
    lead = list(itertools.takewhile(lambda w: w not in FILLER, words))
    return f"{rest[: group.start()]} {' '.join(words[len(lead):])} {rest[group.end():]}", " ".join(lead)


def _refuse_unknown(question: str, before_period: str, rest: str, names: MetricNames) -> None:
    """A value question naming no metric: ask back when its words are part of metric names, else refuse by name
    when it asks "what was <name> in <period>"; otherwise leave it to the documents."""
    words = normalise(rest).split()
    while words and words[0] in FILLER:
        words.pop(0)
    while words and words[-1] in _TRAILING_FILLER:
        words.pop()
    metrics = names.partial(words)
    if metrics:
        phrase = " ".join(words)
        raise AmbiguousQuestion("metric", phrase, names.choices(question, phrase, metrics))
    asked = _ASKED_NAME.match(before_period)
    if asked and len(asked.group("name").split()) <= 5:
        name = asked.group("name").strip()
        close = names.suggest(name)
        hint = f" Close names: {', '.join(close)}." if close else " `finbot metrics` lists the metrics."
        raise MetricQueryError(f"'{name}' is not a metric I know, so I can't give its value.{hint}")


def _refuse_extra(question: str, extra: list[str], definition: Definition, dimensions: DimensionValues) -> None:
    """Words that are neither the metric, the period, a group-by nor a known value: refused by name."""
    said = " ".join(_as_written(question, w) for w in extra)
    name = definition.name
    if not dimensions:
        raise MetricQueryError(
            f"'{said}' in the question is not part of {name} or the period, and {name} has no dimension values to "
            f"filter by here; ask for {name} as a whole"
        )
    shorts = sorted({d.split("__")[-1] for d in dimensions})
    known = {normalise(v): (v, d.split("__")[-1]) for d, vs in dimensions.items() for v in vs}
    close = sorted({f"{known[c][0]} ({known[c][1]})" for w in extra
                    for c in difflib.get_close_matches(w, list(known), n=2, cutoff=0.75)})
    hint = f" Close values: {', '.join(close)}." if close else ""
    raise MetricQueryError(
        f"'{said}' is not a known value of any dimension of {name} ({', '.join(shorts)}), nor part of its name or "
        f"the period, so I can't filter by it; ask without it, or group by a dimension (\"by plan\").{hint}"
    )


def _as_written(question: str, word: str) -> str:
    found = re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", question, re.IGNORECASE)
    return found.group(0) if found else word


def _ends_with(term: list[str], tail: list[str]) -> bool:
    """"active customers" ends with "customers"; "average mrr per customer" does not (a per-unit figure)."""
    if len(term) <= len(tail) or [singular(w) for w in term[-len(tail):]] != tail:
        return False
    return term[-len(tail) - 1] not in ("per", "of", "to", "by")


def _naming_term(definition: Definition, words: str) -> str:
    """The metric's name that holds `words` ("active customers" for "customers"), to reword a question with."""
    tail = [singular(w) for w in words.split()]
    label = re.sub(r"\s*\([^)]*\)\s*$", "", definition.label)
    terms = [t for t in map(normalise, (definition.name.replace("_", " "), label, *definition.aliases)) if t]
    for term in terms:
        if [singular(w) for w in term.split()][-len(tail):] == tail:
            return term
    for term in terms:
        if set(tail) <= {singular(w) for w in term.split()}:
            return term
    return normalise(label or definition.name)
