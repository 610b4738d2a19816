"""From a question to (metric, period) without an LLM: "what was ARR in Q3 2025?", "NRR last quarter".

Metrics are named by their name, label, acronym or `meta.aliases`; the longest name found wins. A question is a
value question only when it names a period and does not ask how something is defined or calculated.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.errors import MetricQueryError
from bot.values.periods import Period, find_period
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
# Words a value question may hold besides the metric and the period; any other word is a filter or a group-by
# this version can't apply, and is refused rather than silently dropped ("Acme", "enterprise", "by region").
_FILLER_WORDS = (
    "what whats was were is are s the our a an in for during at of over total how much many did do we have had "
    "show me give tell value number figure amount please exactly company brightline end close as level"
)
_FILLER = frozenset(_FILLER_WORDS.split())
# "by plan", "per region", "broken down by currency": a group-by (up to three words)
_GROUP_BY = re.compile(
    r"\b(?:split\s+by|broken\s+down\s+by|grouped\s+by|by|per|for\s+each)\s+([a-z][a-z_]*(?:\s+[a-z_]+){0,2})"
)


@dataclass(frozen=True)
class ValueQuestion:
    """What a value question asks: one metric for one period (relative periods counted from `as_of`)."""

    definition: Definition
    period: Period
    as_of: date
    named_as: str  # the words that named the metric
    group_by: str = ""  # "plan" in "ARR by plan": resolved against the metric's dimensions by the caller


class MetricNames:
    """Every way the corpus names a metric, normalised for whole-word matching."""

    def __init__(self, definitions: Iterable[Definition]) -> None:
        self.definitions = {d.name: d for d in definitions}
        self.terms: dict[str, set[str]] = {}
        for d in self.definitions.values():
            for term in _terms(d):
                self.terms.setdefault(term, set()).add(d.name)

    def find(self, text: str) -> tuple[Definition, str] | None:
        """The metric a text names (longest name first) and the name used; MetricQueryError when ambiguous."""
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
            choices = ", ".join(sorted(named))
            raise MetricQueryError(
                f"the question names more than one metric ({choices}); ask for one metric at a time"
            )
        return self.definitions[named.pop()], hits[0][2]

    def suggest(self, words: str) -> list[str]:
        """Metric names close to words that named no metric."""
        close = difflib.get_close_matches(normalise(words), list(self.terms), n=3, cutoff=0.6)
        return sorted({name for term in close for name in self.terms[term]})


def read_question(question: str, names: MetricNames, as_of: date) -> ValueQuestion | None:
    """The metric and period a value question asks; None when it is not one (let the documents answer).

    Raises MetricQueryError when it is a value question that cannot be answered as asked: an unknown metric, a
    period that is not supported, or several metrics at once.
    """
    lowered = question.lower()
    if _DEFINITION.search(lowered):
        return None
    found = names.find(question)
    rest = _without(lowered, found[1]) if found else lowered
    try:
        period_found = find_period(rest, as_of)
    except MetricQueryError:
        if found is None:
            return None  # a period phrase but no metric: not ours to refuse
        raise
    if period_found is None:
        return None
    period, period_words = period_found
    before_period = lowered.split(period_words)[0]
    if found is None:
        asked = _ASKED_NAME.match(before_period)
        if asked and len(asked.group("name").split()) <= 5:
            name = asked.group("name").strip()
            close = names.suggest(name)
            hint = f" Close names: {', '.join(close)}." if close else " `finbot metrics` lists the metrics."
            raise MetricQueryError(f"'{name}' is not a metric I know, so I can't give its value.{hint}")
        return None
    rest = _without(rest, period_words)
    group = _GROUP_BY.search(rest)
    group_words = ""
    if group:
        words = group.group(1).split()
        lead = list(itertools.takewhile(lambda w: w not in _FILLER, words))
        group_words = " ".join(lead)
        rest = f"{rest[: group.start()]} {' '.join(words[len(lead):])} {rest[group.end():]}"
    extra = [w for w in normalise(rest).split() if w not in _FILLER]
    if extra:
        raise MetricQueryError(
            f"'{' '.join(extra)}' in the question is not part of {found[0].name} or the period; filters are not "
            f"supported yet, so ask for {found[0].name} as a whole or by a dimension (\"by plan\")"
        )
    return ValueQuestion(found[0], period, as_of, found[1], group_words)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _terms(definition: Definition) -> set[str]:
    terms = {definition.name, definition.name.replace("_", " "), *definition.aliases}
    label = definition.label
    if label:
        terms.add(label)
        acronym = re.search(r"\(([^)]+)\)\s*$", label)
        if acronym:
            terms.add(acronym.group(1))
            terms.add(label[: acronym.start()])
    return {t for t in map(normalise, terms) if t}


def _without(lowered: str, term: str) -> str:
    """The question with the metric's name blanked, so "YTD billings" is not read as a period."""
    pattern = r"[^a-z0-9]+".join(map(re.escape, term.split()))
    return re.sub(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])", " ", lowered, count=1)
