"""How likely it is that the documents answer the question (0-1), from signals retrieval already has.

A logistic model over four signals, fitted on the golden dev split by `bench/calibrate_abstention.py --fit`
(which prints these weights and their leave-one-out abstention precision and recall); the same script then
picks retrieval.min_confidence on that split. It estimates "the documents cover this", not "the first source
is the right one". Questions that ask for a figure (bot/answering/figures.py) are refused before this model is read,
and are left out of its fit.
"""

from __future__ import annotations

import math

from bot.retrieval.hybrid import Retrieval

BIAS = -20.15
SIMILARITY = 15.56  # best cosine similarity vector search found
COVERAGE = 4.75  # IDF-weighted share of the question's words found in the cited chunks
GLOSSARY = 2.43  # weight of the strongest glossary hit: the question names a metric, model or column
COLUMNS = 9.73  # a column question about a named report: share of what it asks for the report holds (else 1)
NO_VECTOR_SIMILARITY = 0.55  # stands in for the similarity in bm25-only mode (the dev split's average)


def signals(found: Retrieval) -> tuple[float, float, float, float]:
    """(similarity, coverage, glossary, columns): what the model reads."""
    similarity = NO_VECTOR_SIMILARITY if found.best_similarity is None else found.best_similarity
    glossary = max((h.weight for h in found.hits), default=0.0)
    return similarity, found.coverage, glossary, found.column_coverage


def estimate(found: Retrieval) -> float:
    if not found.candidates:
        return 0.0
    similarity, coverage, glossary, columns = signals(found)
    z = BIAS + SIMILARITY * similarity + COVERAGE * coverage + GLOSSARY * glossary + COLUMNS * columns
    return 1 / (1 + math.exp(-z))
