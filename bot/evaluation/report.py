"""The `finbot eval` report as Markdown (readable alone) and as JSON (for scripts and CI)."""

from __future__ import annotations

from typing import Any

from bot.evaluation.evaluate import LLM_METRICS, METRICS, EvalReport, QuestionResult, Scores

LABELS = {
    "recall_at_1": "recall@1", "recall_at_5": "recall@5", "mrr": "MRR", "citation_precision": "citation precision",
    "fact_recall": "fact recall", "abstention_precision": "abstention precision",
    "abstention_recall": "abstention recall",
    "written_share": "written", "fallback_share": "fallback", "removed_share": "sentences removed",
    "kept_supported": "kept sentences supported",
}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def scores_table(rows: dict[str, Scores]) -> str:
    llm = [m for m in LLM_METRICS if any(m in s.llm for s in rows.values())]
    header = ["", "questions", *(LABELS[m] for m in (*METRICS, *llm)), "lead p50 chars", "p50 ms", "p95 ms"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, s in rows.items():
        cells = [name, str(s.questions), *(_fmt(s.values[m]) for m in METRICS), *(_fmt(s.llm.get(m)) for m in llm)]
        cells += [f"{s.lead_p50_chars:.0f}", f"{s.latency_p50_ms:.0f}", f"{s.latency_p95_ms:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_markdown(report: EvalReport, minimums: dict[str, float], command: str) -> str:
    parts = [
        f"# finbot eval: {report.split} split",
        f"Reproduce with `{command}`.",
        "Recall@k and MRR use the rank of the first expected source among the documents an answer lists "
        "(a refusal lists its closest ones, which count); citation precision is the share of cited documents "
        "that are expected; fact recall is the share of answer facts found in the answer text (case-insensitive); "
        "lead is the quoted lines an answer starts with. In LLM mode, over the answers the model was asked to "
        "write: written and fallback are the shares given as the model's text and as the extractive answer; "
        "sentences removed is the share of the model's sentences the citation check removed; kept sentences "
        "supported is the share of the final text's sentences that pass the check again against their cited "
        "sources.",
        "## Overall\n\n" + scores_table({"all": report.overall}),
    ]
    short = report.below(minimums)
    gate = ", ".join(short) if short else "all gated figures meet their minimums"
    parts.append(f"Gate (`eval.min_*`): {gate}.")
    parts.append("## By kind\n\n" + scores_table(report.by_kind))
    failures = report.failures
    parts.append(f"## Failures ({len(failures)} of {len(report.results)})")
    parts.extend(_failure(r) for r in failures)
    return "\n\n".join(parts) + "\n"


def _failure(result: QuestionResult) -> str:
    g = result.golden
    if g.answerable:
        verdict = "abstained" if result.answer.abstained else f"expected source at rank {result.rank or '-'}"
    else:
        verdict = "answered an unanswerable question"
    cited = [f"{s.path} ({s.score:.2f})" for s in result.answer.sources]
    return (
        f"- **{g.id}** ({g.kind}) {g.question!r}: {verdict}. "
        f"Expected {', '.join(g.expected_sources) or 'an abstention'}; "
        f"{'closest' if result.answer.abstained else 'cited'}: {', '.join(cited) or 'nothing'}."
    )


def to_json(report: EvalReport, minimums: dict[str, float]) -> dict[str, Any]:
    def scores(s: Scores) -> dict[str, Any]:
        return {"questions": s.questions, **s.values, **s.llm, "lead_p50_chars": s.lead_p50_chars,
                "latency_p50_ms": s.latency_p50_ms, "latency_p95_ms": s.latency_p95_ms}

    return {
        "split": report.split,
        "overall": scores(report.overall),
        "by_kind": {kind: scores(s) for kind, s in report.by_kind.items()},
        "below_minimum": report.below(minimums),
        "questions": [
            {
                "id": r.golden.id, "kind": r.golden.kind, "question": r.golden.question, "passed": r.passed,
                "abstained": r.answer.abstained, "rank": r.rank, "fact_recall": r.fact_recall,
                "latency_ms": round(r.latency_ms, 1), "cited": [s.path for s in r.answer.sources],
                "mode": r.answer.mode, "removed_sentences": r.answer.removed_sentences,
            }
            for r in report.results
        ],
    }
