"""Side-by-side `finbot eval` of the retrieval modes on the golden test split, into docs/benchmarks.md.

    .venv/bin/python bench/retrieval_eval.py

Ingests corpus/ once into a fresh temporary index with the repository's config.yaml, then asks the
test split through the same Answerer as HTTP with vector-only, BM25-only, hybrid and hybrid with the
metric/model/column glossary, the hybrids fused both ways (reciprocal rank, and relative scores, the
default). Everything else (top_k, min_confidence) is config.yaml's.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs
from golden_eval import build_index

from bot.answering.answerer import load_answerer
from bot.config import Config, load_config
from bot.evaluation.evaluate import EvalReport, run_eval
from bot.evaluation.golden import load_golden
from bot.evaluation.report import scores_table

REPO = Path(__file__).resolve().parent.parent
COMMAND = ".venv/bin/python bench/retrieval_eval.py"
VARIANTS = {
    "vector only": {"mode": "vector", "glossary": False},
    "BM25 only": {"mode": "bm25", "glossary": False},
    "hybrid, reciprocal rank": {"mode": "hybrid", "glossary": False, "fusion": "reciprocal_rank"},
    "hybrid + glossary, reciprocal rank": {"mode": "hybrid", "glossary": True, "fusion": "reciprocal_rank"},
    "hybrid": {"mode": "hybrid", "glossary": False, "fusion": "relative_score"},
    "hybrid + glossary": {"mode": "hybrid", "glossary": True, "fusion": "relative_score"},
}


def variant(config: Config, settings: dict[str, object]) -> Config:
    return config.model_copy(update={"retrieval": config.retrieval.model_copy(update=settings)})


def main(split: str = "test") -> None:
    base = load_config(REPO / "config.yaml")
    reports: dict[str, EvalReport] = {}
    with tempfile.TemporaryDirectory() as tmp:
        config = base.model_copy(update={"index": base.index.model_copy(update={"path": Path(tmp)})})
        build_index(config)
        questions = load_golden(config.eval.golden, split)
        for name, settings in VARIANTS.items():
            reports[name] = run_eval(load_answerer(variant(config, settings)), questions, split)
            print(f"{name}: done", file=sys.stderr)
    best = reports["hybrid + glossary"]
    text = "\n\n".join([
        f"## Retrieval modes side by side ({split} split)",
        f"Reproduce with `{COMMAND}` ({len(best.results)} questions; `retrieval.top_k` {base.retrieval.top_k}, "
        f"`retrieval.min_confidence` {base.retrieval.min_confidence} for every row). The last row is the "
        "default configuration. Confidence reads the glossary too, so rows without it abstain more often "
        "(an abstention on an answerable question counts as a miss). The confidence model and its threshold were "
        "fitted for the default (relative scores), so the other rows also carry a calibration they were not made for.",
        scores_table({name: report.overall for name, report in reports.items()}),
        "Hybrid + glossary by kind:",
        scores_table(best.by_kind),
    ])
    print(text)
    write_section("retrieval-eval", text)


if __name__ == "__main__":
    main()
