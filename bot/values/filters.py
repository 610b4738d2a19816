"""A value question's words as filters on the metric's dimensions ("enterprise", "EMEA", "excluding EUR"), and
what reading a question shares with it: its words normalised, the filler it may hold, and the ask-back when a
name or a value fits more than one thing (AmbiguousQuestion, with the choices).

Values are matched against the values the warehouse holds, as whole words (underscores as spaces, a trailing s
allowed); the filter holds the value exactly as the warehouse has it, so no text of the question reaches SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.errors import MetricQueryError
from bot.values.project import Definition

# Words a value question may hold besides the metric and the period; any other word is a filter or a group-by
# this version can't apply, and is refused rather than silently dropped ("Acme", "enterprise", "by region").
FILLER_WORDS = (
    "what whats was were is are s the our a an in for during at of over total how much many did do we have had "
    "show me give tell value number figure amount please exactly company brightline end close as level on from with "
    "and or"
)
FILLER = frozenset(FILLER_WORDS.split())
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
                       reworded(question, words, f"{words} {d.split('__')[-1].replace('_', ' ')}"))
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
            if not used[k] and (token in nouns or singular(token) in nouns):
                used[k] = True
    grouped: dict[tuple[str, bool], list[str]] = {}
    words_of: dict[tuple[str, bool], list[str]] = {}
    for start, end, dimension, value, exclude in matched:
        if value not in grouped.setdefault((dimension, exclude), []):
            grouped[(dimension, exclude)].append(value)
        words_of.setdefault((dimension, exclude), []).append(" ".join(tokens[start:end]))
    filters = [Filter(d, tuple(v), x, " ".join(words_of[(d, x)])) for (d, x), v in grouped.items()]
    extra = [t for k, t in enumerate(tokens) if not used[k] and t not in FILLER]
    return filters, extra


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _value_variants(dimensions: DimensionValues) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    """Each value's words ("north america" for north_america), its plural and its words without filler ("gmbh")."""
    variants: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for dimension, values in dimensions.items():
        for value in values:
            tokens = normalise(value).split()
            if not tokens or all(t in FILLER for t in tokens):
                continue
            forms = {tuple(tokens)}
            if tokens[-1].isalpha() and len(tokens[-1]) > 2:
                forms.add((*tokens[:-1], tokens[-1] + "s"))
            stripped = tuple(t for t in tokens if t not in FILLER)
            if stripped and len("".join(stripped)) > 1:
                forms.add(stripped)
            for form in forms:
                if (dimension, value) not in variants.setdefault(form, []):
                    variants[form].append((dimension, value))
    return variants


def _settle(dimensions: list[str], tokens: list[str]) -> list[str]:
    """The one dimension whose name the question says most ("annual billing interval"), or none."""
    said = {singular(t) for t in tokens}
    scores = {d: sum(singular(w) in said for w in d.split("__")[-1].split("_")) for d in dimensions}
    best = max(scores.values())
    winners = [d for d, score in scores.items() if score == best]
    return winners if best > 0 and len(winners) == 1 else []


def singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def reworded(question: str, words: str, replacement: str) -> str:
    """The question with `words` replaced (first time, any case) by `replacement`."""
    pattern = r"[^a-z0-9]+".join(map(re.escape, words.split()))
    found = re.search(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])", question, re.IGNORECASE)
    if not found:
        return question
    return f"{question[: found.start()]}{replacement}{question[found.end():]}"
