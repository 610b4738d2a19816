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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.errors import MetricQueryError
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
# Words a value question may hold besides the metric and the period; any other word is a filter or a group-by
# this version can't apply, and is refused rather than silently dropped ("Acme", "enterprise", "by region").
_FILLER_WORDS = (
    "what whats was were is are s the our a an in for during at of over total how much many did do we have had "
    "show me give tell value number figure amount please exactly company brightline end close as level on from with "
    "and or"
)
_FILLER = frozenset(_FILLER_WORDS.split())
# "by plan", "per region", "broken down by currency": a group-by (up to three words)
_GROUP_BY = re.compile(
    r"\b(?:split\s+by|broken\s+down\s+by|grouped\s+by|by|per|for\s+each)\s+([a-z][a-z_]*(?:\s+[a-z_]+){0,2})"
)


# Filler that may end the words naming a metric ("how many customers did we have in"); "value" or "rate" may not
_TRAILING_FILLER = frozenset(_FILLER - {"value", "number", "figure", "amount", "total", "level", "end", "close"})
# Words before a value that exclude it ("ARR excluding EMEA"), and nouns that may stand next to a value
# ("enterprise customers", "the EMEA region", "billed in EUR") besides the words of the dimension's own name
_EXCLUDE_WORDS = "excluding exclude except ex without not outside"
_EXCLUDE = frozenset(_EXCLUDE_WORDS.split())
_VALUE_NOUN_WORDS = (
    "customer customers account accounts segment segments plan plans tier tiers region regions currency currencies "
    "entity entities billed invoiced booked paid paying type types deal deals contract contracts order orders invoice "
    "invoices line lines subscription subscriptions"
)
_VALUE_NOUNS = frozenset(_VALUE_NOUN_WORDS.split())

# The values of each dimension of a metric (`customer_month__region` -> emea, apac, ...), given by the caller
DimensionValues = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Filter:
    """Rows whose dimension holds one of `values` (with `exclude`: none of them), values as the warehouse has them."""

    dimension: str  # entity-qualified: `customer_month__region`
    values: tuple[str, ...]
    exclude: bool = False
    words: str = ""  # how the question named them

    @property
    def short(self) -> str:
        return self.dimension.split("__")[-1]

    def describe(self) -> str:
        """`region is emea or apac`, `currency is not EUR`."""
        return f"{self.short} is {'not ' if self.exclude else ''}{' or '.join(self.values)}"


@dataclass(frozen=True)
class Choice:
    """One way to read an ambiguous question: a metric or a dimension, and the question that asks for it."""

    name: str  # the metric (`active_customers`) or dimension (`customer_month__billing_interval`)
    label: str  # "Active customers", "billing_interval = annual"
    question: str  # the question reworded to ask for this choice
    note: str = ""  # "a balance at the period end" / "a total over the period" (filled in by the caller)


class AmbiguousQuestion(MetricQueryError):
    """A name that fits more than one metric, or a value that fits more than one dimension: ask which."""

    def __init__(self, what: str, words: str, choices: Sequence[Choice], metric: Definition | None = None) -> None:
        self.what = what  # "metric" or "dimension value"
        self.words = words
        self.choices = list(choices)
        self.metric = metric
        options = "; ".join(f"{c.label} ({c.name})" if c.label != c.name else c.name for c in self.choices)
        if len(self.choices) == 1:
            super().__init__(f"'{words}' is not the name of a {what}; did you mean {options}?")
        else:
            super().__init__(f"'{words}' could be more than one {what}: {options}. Which one?")


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
        tail = [_singular(w) for w in words]
        ending = sorted({
            name for term, names in self.terms.items() if _ends_with(term.split(), tail) for name in names
        })
        if ending:
            return ending
        wanted = set(tail)
        holding = sorted({
            name for term, names in self.terms.items() if wanted <= {_singular(w) for w in term.split()}
            for name in names
        })
        return holding if len(holding) <= 4 else []

    def choices(self, question: str, words: str, metrics: Sequence[str]) -> list[Choice]:
        """Each metric as a choice, with the question reworded to name it."""
        found = []
        for name in metrics:
            definition = self.definitions[name]
            term = _naming_term(definition, words)
            found.append(Choice(name, definition.label or name, _reworded(question, words, term)))
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
    if all(w in _FILLER for w in normalise(rest).split()):  # nothing left to filter by: no need for the values
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


def find_filters(
    question: str, text: str, dimensions: DimensionValues, metric: Definition | None = None
) -> tuple[list[Filter], list[str]]:
    """The filters `text` names from the dimensions' values, and the words left that are none of them.

    A value fitting two dimensions is settled by a word of one's name next to it ("annual billing interval"), or
    else asked back (AmbiguousQuestion). Values are matched as whole words, underscores as spaces, a trailing s
    allowed ("renewals"); the matched filter holds the value exactly as the warehouse has it.
    """
    tokens = normalise(text).split()
    variants = _value_variants(dimensions)
    longest = max((len(v) for v in variants), default=0)
    matched: list[tuple[int, int, str, str, bool]] = []  # start, end, dimension, value, exclude
    used = [False] * len(tokens)
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 0, -1):
            candidates = variants.get(tuple(tokens[i: i + size]))
            if candidates:
                break
        else:
            i += 1
            continue
        dims = sorted({d for d, _ in candidates})
        if len(dims) > 1:
            dims = _settle(dims, tokens) or dims
        if len(dims) > 1:
            words = " ".join(tokens[i: i + size])
            choices = [
                Choice(d, f"{d.split('__')[-1]} = {next(v for dd, v in candidates if dd == d)}",
                       _reworded(question, words, f"{words} {d.split('__')[-1].replace('_', ' ')}"))
                for d in dims
            ]
            raise AmbiguousQuestion("dimension value", words, choices, metric)
        value = next(v for d, v in candidates if d == dims[0])
        exclude = i > 0 and tokens[i - 1] in _EXCLUDE
        if exclude:
            used[i - 1] = True
        matched.append((i, i + size, dims[0], value, exclude))
        for k in range(i, i + size):
            used[k] = True
        i += size
    if matched:
        nouns = _VALUE_NOUNS | {w for _, _, d, _, _ in matched for w in d.split("__")[-1].split("_")}
        for k, token in enumerate(tokens):
            if not used[k] and (token in nouns or _singular(token) in nouns):
                used[k] = True
    grouped: dict[tuple[str, bool], list[str]] = {}
    words_of: dict[tuple[str, bool], list[str]] = {}
    for start, end, dimension, value, exclude in matched:
        if value not in grouped.setdefault((dimension, exclude), []):
            grouped[(dimension, exclude)].append(value)
        words_of.setdefault((dimension, exclude), []).append(" ".join(tokens[start:end]))
    filters = [Filter(d, tuple(v), x, " ".join(words_of[(d, x)])) for (d, x), v in grouped.items()]
    extra = [t for k, t in enumerate(tokens) if not used[k] and t not in _FILLER]
    return filters, extra


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


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
    lead = list(itertools.takewhile(lambda w: w not in _FILLER, words))
    return f"{rest[: group.start()]} {' '.join(words[len(lead):])} {rest[group.end():]}", " ".join(lead)


def _refuse_unknown(question: str, before_period: str, rest: str, names: MetricNames) -> None:
    """A value question naming no metric: ask back when its words are part of metric names, else refuse by name
    when it asks "what was <name> in <period>"; otherwise leave it to the documents."""
    words = normalise(rest).split()
    while words and words[0] in _FILLER:
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


def _value_variants(dimensions: DimensionValues) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    """Each value's words ("north america" for north_america), its plural and its words without filler ("gmbh")."""
    variants: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for dimension, values in dimensions.items():
        for value in values:
            tokens = normalise(value).split()
            if not tokens or all(t in _FILLER for t in tokens):
                continue
            forms = {tuple(tokens)}
            if tokens[-1].isalpha() and len(tokens[-1]) > 2:
                forms.add((*tokens[:-1], tokens[-1] + "s"))
            stripped = tuple(t for t in tokens if t not in _FILLER)
            if stripped and len("".join(stripped)) > 1:
                forms.add(stripped)
            for form in forms:
                if (dimension, value) not in variants.setdefault(form, []):
                    variants[form].append((dimension, value))
    return variants


def _settle(dimensions: list[str], tokens: list[str]) -> list[str]:
    """The one dimension whose name the question says most ("annual billing interval"), or none."""
    said = {_singular(t) for t in tokens}
    scores = {d: sum(_singular(w) in said for w in d.split("__")[-1].split("_")) for d in dimensions}
    best = max(scores.values())
    winners = [d for d, score in scores.items() if score == best]
    return winners if best > 0 and len(winners) == 1 else []


def _ends_with(term: list[str], tail: list[str]) -> bool:
    """"active customers" ends with "customers"; "average mrr per customer" does not (a per-unit figure)."""
    if len(term) <= len(tail) or [_singular(w) for w in term[-len(tail):]] != tail:
        return False
    return term[-len(tail) - 1] not in ("per", "of", "to", "by")


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _naming_term(definition: Definition, words: str) -> str:
    """The metric's name that holds `words` ("active customers" for "customers"), to reword a question with."""
    tail = [_singular(w) for w in words.split()]
    label = re.sub(r"\s*\([^)]*\)\s*$", "", definition.label)
    terms = [t for t in map(normalise, (definition.name.replace("_", " "), label, *definition.aliases)) if t]
    for term in terms:
        if [_singular(w) for w in term.split()][-len(tail):] == tail:
            return term
    for term in terms:
        if set(tail) <= {_singular(w) for w in term.split()}:
            return term
    return normalise(label or definition.name)


def _reworded(question: str, words: str, replacement: str) -> str:
    """The question with `words` replaced (first time, any case) by `replacement`."""
    pattern = r"[^a-z0-9]+".join(map(re.escape, words.split()))
    found = re.search(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])", question, re.IGNORECASE)
    if not found:
        return question
    return f"{question[: found.start()]}{replacement}{question[found.end():]}"
