"""Column questions about a named report: does the report hold what the question asks for?

"Which column in rpt_gl_export has the vendor name" names a report model and asks for a column. The
model's document then matches the question very well (its name is right there), so similarity and
coverage look confident even when no column holds what is asked. What tells is narrower: the words
that say *what* is asked (not the model's name, not "which column has") found in the model's document.

A metric question is checked against the metrics the project defines: "ltv:cac metric - how is it calculated"
in a project whose metrics' names and labels share no word with it is not answered by the nearest metric's
definition. Only a question that shares no word at all is caught, since people name metrics loosely.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.retrieval.words import WordSet, words_of

if TYPE_CHECKING:
    from bot.retrieval.glossary import Entity, GlossaryHit
    from ingest.keyword_index import KeywordIndex

ASKS_FOR_A_COLUMN = re.compile(r"(?i)\b(?:col|cols|column|columns|field|fields)\b")
# "does stg_charges have the processing fee", "is there a ... on fct_invoices": asking whether a named model
# holds something is a column question too.
ASKS_WHETHER_IT_HOLDS = re.compile(
    r"(?i)^\W*(?:does|do|did|is there|are there|can)\b.*\b(?:have|has|carry|carries|include|includes|hold|holds|"
    r"contain|contains|store|stores|keep|keeps|show|shows)\b"
)
# Words of a column question that say how it asks, not what it asks for.
ASKING_WORDS = (
    "column col field show shows has have hold holds contain contains give store stores carry carries include "
    "includes keep keeps report table model find see"
)
ASKS_FOR_A_METRIC = re.compile(r"(?i)\bmetric\b")  # one metric, by name ("which metrics ..." asks for a list)


class ColumnCheck:
    """Answers `coverage()` for one keyword index; the words of each model's document are read once."""

    def __init__(self, keyword: KeywordIndex) -> None:
        self.keyword = keyword
        self._asking = set(keyword.tokens(ASKING_WORDS))
        self._documents: dict[str, WordSet] = {}
        # The words of every metric's name and label ("gross mrr churn", "Gross MRR churn rate"), but "metric".
        names = " ".join(
            f"{c.section.split('.')[1].replace('_', ' ')} {c.title}" for c in keyword.chunks
            if c.section.startswith("metrics.")
        )
        self._metric_words = set(keyword.tokens(names)) - set(keyword.tokens("metric"))

    def coverage(self, question: str, words: Sequence[str], hits: Sequence[GlossaryHit]) -> float:
        """IDF-weighted share of what a column question asks for that the named model's document holds
        (loosely, see bot/retrieval/words.py); 1.0 for a question that names no model or asks for no column.
        0.0 for a question about a metric that shares no word with the name or label of any metric the project
        defines ("gross churn metric" shares "churn" with gross_mrr_churn; "ltv:cac metric" shares nothing)."""
        if self._metric_words and ASKS_FOR_A_METRIC.search(question) and self._metric_words.isdisjoint(words):
            return 0.0
        models = [h.entity for h in hits if h.entity.kind == "model"]
        if not models or not (ASKS_FOR_A_COLUMN.search(question) or ASKS_WHETHER_IT_HOLDS.search(question)):
            return 1.0
        model = models[0]
        named = set(self.keyword.tokens(model.name.replace("_", " ")))
        asked = [w for w in dict.fromkeys(words) if w not in named and w not in self._asking]
        return self._document(model).share(asked, self.keyword.idf) if asked else 1.0

    def _document(self, model: Entity) -> WordSet:
        """The words of the model's own chunks (not of the other models its YAML file defines) and of its SQL."""
        if model.name not in self._documents:
            key, sql = f"models.{model.name}", f"{model.name}.sql"
            chunks = (
                c for c in self.keyword.chunks
                if c.section == key or c.section.startswith(key + ".") or c.path.rsplit("/", 1)[-1] == sql
            )
            self._documents[model.name] = words_of(self.keyword, chunks)
        return self._documents[model.name]
