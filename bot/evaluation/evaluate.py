"""`finbot eval`: ask every golden question through the Answerer and score what comes back.

In LLM mode (`--mode llm`) it also scores the writing: how often the extractive answer had to stand in,
the share of the model's sentences the check removed, and, re-checked on the final text, the share of kept
sentences whose facts are in the sources they cite (which must be all of them)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bot.answering.answer import Answer
from bot.answering.answerer import Answerer
from bot.answering.citations import check
from bot.evaluation.golden import GoldenQuestion

# The figures `eval.min_*` can gate on, in report order.
METRICS = (
    "recall_at_1", "recall_at_5", "mrr", "citation_precision", "fact_recall",
    "abstention_precision", "abstention_recall",
)
# LLM mode's figures, over the answers the model was asked to write (not abstentions or metric values).
LLM_METRICS = ("written_share", "fallback_share", "removed_share", "kept_supported")


@dataclass(frozen=True)
class QuestionResult:
    golden: GoldenQuestion
    answer: Answer
    latency_ms: float
    # LLM mode: the sentences of the final text, and how many of them pass the check again on their sources.
    kept_sentences: int = 0
    supported_sentences: int = 0

    @property
    def asked_model(self) -> bool:
        """The model was asked to write this answer (an extractive abstention or value never goes to it)."""
        return self.answer.mode != "extractive"

    @property
    def cited(self) -> list[str]:
        """Paths the answer cites; an abstention cites nothing (it only lists what was close)."""
        return [] if self.answer.abstained else self.listed

    @property
    def listed(self) -> list[str]:
        """Documents in the order the answer lists them, each once (an abstention lists the closest ones)."""
        return list(dict.fromkeys(s.path for s in self.answer.sources))

    @property
    def rank(self) -> int | None:
        """1-based rank of the first listed document that is an expected one; a refusal's closest sources count."""
        expected = set(self.golden.expected_sources)
        return next((n for n, path in enumerate(self.listed, start=1) if path in expected), None)

    @property
    def citation_precision(self) -> float:
        cited = self.cited
        return sum(path in self.golden.expected_sources for path in cited) / len(cited) if cited else 0.0

    @property
    def fact_recall(self) -> float:
        facts = self.golden.answer_facts
        text = self.answer.text.lower()
        return sum(fact.lower() in text for fact in facts) / len(facts) if facts else 1.0

    @property
    def passed(self) -> bool:
        if not self.golden.answerable:
            return self.answer.abstained
        return self.rank == 1 and not self.answer.abstained


@dataclass(frozen=True)
class Scores:
    questions: int
    values: dict[str, float | None]  # None where the figure has no denominator (e.g. no abstentions)
    latency_p50_ms: float
    latency_p95_ms: float
    lead_p50_chars: float = 0.0  # median length of the lines answers lead with (answered questions only)
    llm: dict[str, float | None] = field(default_factory=dict)  # LLM_METRICS; empty in extractive mode


@dataclass
class EvalReport:
    split: str
    results: list[QuestionResult]
    overall: Scores = field(init=False)
    by_kind: dict[str, Scores] = field(init=False)

    def __post_init__(self) -> None:
        self.overall = score(self.results)
        kinds = sorted({r.golden.kind for r in self.results})
        self.by_kind = {kind: score([r for r in self.results if r.golden.kind == kind]) for kind in kinds}

    @property
    def failures(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.passed]

    def below(self, minimums: dict[str, float]) -> list[str]:
        """'name value < min' for every gated figure that falls short."""
        short = []
        for name, minimum in minimums.items():
            value = self.overall.values.get(name)
            if value is not None and value < minimum:
                short.append(f"{name} {value:.3f} < {minimum:.3f}")
        return short


def run_eval(
    answerer: Answerer, questions: Sequence[GoldenQuestion], split: str,
    progress: Callable[[QuestionResult], None] | None = None,
) -> EvalReport:
    results = []
    min_overlap = answerer.writing.min_overlap if answerer.writing is not None else None
    for golden in questions:
        started = time.perf_counter()
        answer = answerer.ask(golden.question)
        result = scored(golden, answer, (time.perf_counter() - started) * 1000, min_overlap)
        results.append(result)
        if progress:
            progress(result)
    return EvalReport(split, results)


def scored(golden: GoldenQuestion, answer: Answer, ms: float, min_overlap: float | None = None) -> QuestionResult:
    """The result of one answer; a written one (LLM mode, `min_overlap` its check's) has its final text's
    sentences checked again against the sources they cite."""
    result = QuestionResult(golden, answer, ms)
    if min_overlap is not None and answer.mode == "llm" and not answer.abstained:
        claims = check(answer.text, {s.n: s.text for s in answer.sources}, min_overlap).claims
        result = replace(result, kept_sentences=len(claims), supported_sentences=sum(c.kept for c in claims))
    return result


def score(results: Sequence[QuestionResult]) -> Scores:
    answerable = [r for r in results if r.golden.answerable]
    abstained = [r for r in results if r.answer.abstained]
    unanswerable = [r for r in results if not r.golden.answerable]
    ranks = [r.rank for r in answerable]
    values = {
        "recall_at_1": _mean([rank == 1 for rank in ranks]),
        "recall_at_5": _mean([rank is not None and rank <= 5 for rank in ranks]),
        "mrr": _mean([1 / rank if rank else 0.0 for rank in ranks]),
        "citation_precision": _mean([r.citation_precision for r in answerable]),
        "fact_recall": _mean([r.fact_recall for r in answerable]),
        "abstention_precision": _mean([not r.golden.answerable for r in abstained]),
        "abstention_recall": _mean([r.answer.abstained for r in unanswerable]),
    }
    latencies = sorted(r.latency_ms for r in results)
    leads = sorted(len(r.answer.lead) for r in results if not r.answer.abstained and r.answer.lead)
    return Scores(len(results), values, percentile(latencies, 50), percentile(latencies, 95), percentile(leads, 50),
                  llm_scores(results))


def llm_scores(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """LLM_METRICS, or nothing when no answer went to a model (extractive mode)."""
    asked = [r for r in results if r.asked_model]
    if not asked:
        return {}
    removed = sum(r.answer.removed_sentences for r in asked)
    kept = sum(r.kept_sentences for r in asked)
    return {
        "written_share": _mean([r.answer.mode == "llm" for r in asked]),
        "fallback_share": _mean([r.answer.mode == "llm-fallback" for r in asked]),
        "removed_share": removed / (removed + kept) if removed + kept else None,
        "kept_supported": sum(r.supported_sentences for r in asked) / kept if kept else None,
    }


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not sorted_values:
        return 0.0
    return sorted_values[max(0, math.ceil(pct / 100 * len(sorted_values)) - 1)]


def _mean(values: Sequence[float | bool]) -> float | None:
    return sum(values) / len(values) if values else None
