"""How likely it is that the documents answer the question (0-1), from signals retrieval already has.

A logistic model over three signals, fitted on the golden dev split (leave-one-out F1 of the
abstention decision 0.69 there); bench/calibrate_abstention.py then picks retrieval.min_confidence
on the same split. It estimates "the documents cover this", not "the first source is the right one".
"""

from __future__ import annotations

import math

from bot.retrieve import Retrieval

BIAS = -2.78
SIMILARITY = 4.8  # best cosine similarity vector search found
COVERAGE = 1.69  # IDF-weighted share of the question's words found in the cited chunks
GLOSSARY = 1.66  # weight of the strongest glossary hit: the question names a metric, model or column
NO_VECTOR_SIMILARITY = 0.55  # stands in for the similarity in bm25-only mode (the dev split's average)


def estimate(found: Retrieval) -> float:
    if not found.candidates:
        return 0.0
    similarity = NO_VECTOR_SIMILARITY if found.best_similarity is None else found.best_similarity
    glossary = max((h.weight for h in found.hits), default=0.0)
    z = BIAS + SIMILARITY * similarity + COVERAGE * found.coverage + GLOSSARY * glossary
    return 1 / (1 + math.exp(-z))
