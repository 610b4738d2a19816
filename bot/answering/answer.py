"""What an answer is: the `Answer` with its numbered `Source`s, and the `Explain` of each source's ranking.

The public JSON shape (`finbot ask --json`, POST /v1/ask) is `Answer.to_dict`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.answering.chunk_spans import Span
    from bot.answering.conflicts import Conflict
    from bot.answering.figures import Period
    from bot.answering.parts import Part
    from bot.answering.spans import ScoredSpan
    from bot.retrieval.hybrid import Retrieval


@dataclass(frozen=True)
class Explain:
    """Why a source ranked where it did: each stage's rank and score (None where that stage missed it)."""

    vector_rank: int | None
    similarity: float | None  # cosine similarity to the question
    bm25_rank: int | None
    bm25_score: float | None
    glossary: str | None  # "metric dso via acronym 'dso'" when the question names the chunk's entity
    glossary_weight: float
    vector_scaled: float  # the similarity scaled 0-1 among this question's vector hits (relative_score adds it)
    bm25_scaled: float  # the BM25 score as a share of this question's best (relative_score adds it)
    fused: float  # this passage's fused score (retrieval.fusion: relative_score or reciprocal_rank)
    support: float  # what the document's other matching passages add; documents rank by fused + support


@dataclass(frozen=True)
class Source:
    """One cited passage; `n` is its [n] marker in the answer text."""

    n: int
    path: str
    section: str | None
    start_line: int | None
    end_line: int | None
    score: float  # retrieval score, 0-1, the sources' rank order (the document's fused score, normalized)
    snippet: str
    text: str  # the whole passage (widened for the best sources), for composing; not part of the JSON
    page: int | None = None  # PDFs: the page, cited instead of the lines of its extracted text
    explain: Explain | None = None  # not part of the JSON unless asked for

    def citation(self) -> str:
        lines = f" p.{self.page}" if self.page else f":{self.start_line}-{self.end_line}" if self.start_line else ""
        section = f" ({self.section})" if self.section else ""
        return f"[{self.n}] {self.path}{lines}{section}"


@dataclass(frozen=True)
class Answer:
    id: str
    question: str
    text: str
    abstained: bool
    sources: list[Source]
    # 0-1: how likely the documents answer the question; below retrieval.min_confidence the answer abstains.
    confidence: float = 0.0
    lead: str = ""  # the quoted lines the answer leads with (the text before its context); "" when abstained
    parts: list[str] = field(default_factory=list)  # the asks found in the question (one: the question itself)
    # A metric value from the warehouse (bot/values/): metric, period, value, unit, sql, ...; None otherwise.
    value: dict[str, Any] | None = None
    # Who wrote the text: extractive (quotes), llm (the model, every sentence checked), llm-fallback (the
    # quotes, because the model's answer could not be used); and how many of the model's sentences were removed.
    mode: str = "extractive"
    removed_sentences: int = 0

    @classmethod
    def from_dict(cls, question: str, body: dict[str, Any]) -> Answer:
        """An answer from its JSON shape (a server's POST /v1/ask reply); `text` of sources is not sent."""
        sources = []
        for fields in body["sources"]:
            explain = fields.get("explain")
            kept = {k: v for k, v in fields.items() if k != "cited"}  # `cited` is recomputed from the text
            sources.append(Source(**{**kept, "text": "", "explain": Explain(**explain) if explain else None}))
        return cls("remote", question, body["answer"], body["abstained"], sources, body["confidence"], "",
                   body.get("parts") or [], body.get("value"), body.get("mode", "extractive"),
                   body.get("removed_sentences", 0))

    def to_dict(self, explain: bool = False) -> dict[str, Any]:
        """The public JSON shape, shared by `finbot ask --json` and POST /v1/ask."""
        from bot.answering.citations import citations

        cited = set() if self.abstained else set(citations(self.text))  # an abstention only points at sources
        sources = []
        for source in self.sources:
            fields = asdict(source)
            del fields["text"]
            if not explain:
                del fields["explain"]
            fields["cited"] = source.n in cited  # a source the text never cites is still listed, marked uncited
            sources.append(fields)
        body: dict[str, Any] = {
            "answer": self.text, "abstained": self.abstained, "confidence": self.confidence, "sources": sources,
            "mode": self.mode, "removed_sentences": self.removed_sentences,
        }
        if self.value is not None:
            body["value"] = self.value
            if (data := value_data(self.value)) is not None:
                body["data"] = data
        if explain:
            body["parts"] = self.parts
        return body


def value_data(value: dict[str, Any]) -> dict[str, Any] | None:
    """A value answer's numbers as a table (`data` in the JSON): metrics, period, columns, rows, sql; None when
    it was refused."""
    if value.get("refused") or not value.get("sql") or not value.get("metric"):
        return None
    metric = value["metric"]
    period = {"label": value.get("period"), "start": value.get("start"), "end": value.get("end")}
    if value.get("group_by") and value.get("rows") is not None:
        columns, rows = [value["group_by"], metric], [[key, number] for key, number in value["rows"]]
    else:
        columns, rows = ["period", metric], [[value.get("period"), value.get("value")]]
    return {"metrics": [metric], "period": period, "columns": columns, "rows": rows, "sql": value["sql"]}


@dataclass
class PartAnswer:
    """One ask of the question as answered: what retrieval found, how sure it is, the lines that answer it."""

    part: Part
    found: Retrieval
    confidence: float
    period: Period | None  # a figure for a period the documents can't give (bot/answering/figures.py)
    lead: list[ScoredSpan]  # best first; empty when the part abstains
    abstained: bool
    card: list[Span] = field(default_factory=list)  # a quoted dbt entity's definition card (bot/answering/cards.py)
    signals: tuple[float, ...] = ()  # what the confidence model read (bot/answering/confidence.py SIGNALS)
    conflict: Conflict | None = None  # another document's line with other figures (bot/answering/conflicts.py)
