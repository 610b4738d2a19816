"""How likely it is that the documents answer the question (0-1), from signals retrieval and the answer lines have.

A logistic model over five signals that exist in any corpus, fitted on the dev splits of both golden corpora
together by `bench/calibrate_abstention.py --fit` (which also fits each corpus alone and reports it on the
other, so the choice is checked on a corpus of another shape); the same script picks retrieval.min_confidence.
A glossary hit may add, but its absence must not sink a prose-only corpus, which has none. It estimates "the
documents cover this", not "the first source is the right one". Questions that ask for a figure no line
states (bot/answering/figures.py) are refused before this model is read, and are left out of its fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.retrieval.hybrid import Retrieval

if TYPE_CHECKING:
    from bot.answering.spans import QuestionWords, ScoredSpan

SIGNALS = ("similarity", "coverage", "glossary", "columns", "lead")
BIAS = -16.09
WEIGHTS = (
    9.56,  # similarity: best cosine similarity vector search found
    0.55,  # coverage: IDF-weighted share of the question's words found in the cited chunks
    2.63,  # glossary: weight of the strongest glossary hit (the question names a metric, model or column)
    10.41,  # columns: share of what a column question asks that the named report holds; 0 for a metric no
    #        metric's name or label shares a word with (else 1; bot/retrieval/columns.py)
    2.96,  # lead: IDF-weighted share of the question's words in the best answer line (its text, label and heading)
)
# Tried and not kept: "asked", the share of the kinds of answer asked for (amount, duration, role...) that the
# best line holds. Fitted with the five above it caught more unanswerable asks on both dev splits and did
# better fitted on either corpus and read on the other, but at its threshold (0.28) the test splits saw 5% and
# 7% of their answerable asks refused (0.30 today: 1% and 3%): a line that answers often says it in words
# the kind patterns don't know. Also tried, each added to the five and fitted with the intranet set as a third
# corpus (fit on two dev splits, threshold at 3% refused, read on the third's dev split, all three ways): the
# rarest question word in the best line or in the top 3 chunks, the IDF share of question words no chunk holds,
# the share the first document holds, and the embedding cosine of the question to the best 1-3 lines. None
# caught more held-out unanswerable asks on more than one corpus (6-23% caught either way).
NO_VECTOR_SIMILARITY = 0.55  # stands in for the similarity in bm25-only mode (the dev split's average)


def signals(found: Retrieval, lead: Sequence[ScoredSpan], words: QuestionWords) -> tuple[float, ...]:
    """What the model reads, in SIGNALS order."""
    similarity = NO_VECTOR_SIMILARITY if found.best_similarity is None else found.best_similarity
    glossary = max((h.weight for h in found.hits), default=0.0)
    best = lead[0] if lead else None
    answered = words.share(best.found | best.context_found) if best else 0.0
    return similarity, found.coverage, glossary, found.column_coverage, answered


def estimate(values: Sequence[float], weights: Sequence[float] = WEIGHTS, bias: float = BIAS) -> float:
    z = bias + sum(w * v for w, v in zip(weights, values, strict=True))
    return 1 / (1 + math.exp(-z))
