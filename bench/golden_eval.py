"""Score the bot on the golden set (dev and test splits) and record it in docs/benchmarks.md.

    .venv/bin/python bench/golden_eval.py

Ingests corpus/ into a fresh temporary index with the repository's config.yaml, asks every golden
question through the same Answerer as HTTP, and prints the table it writes. Latency is shown next to
the floor measured in the same run (one query embedding plus one Chroma query per question), since
absolute milliseconds on a shared 2-core machine mean little.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.answer import Answerer, load_answerer
from bot.config import Config, load_config
from bot.eval_report import LABELS
from bot.evaluate import METRICS, EvalReport, run_eval
from bot.golden import load_golden
from ingest import pipeline, store

REPO = Path(__file__).resolve().parent.parent

COMMAND = ".venv/bin/python bench/golden_eval.py"
BENCHMARKS = REPO / "docs" / "benchmarks.md"
START, END = "<!-- golden-eval:start -->", "<!-- golden-eval:end -->"


def build_index(config: Config) -> None:
    index = store.open_index(config.index.path, config.index.collection, config.embedding.model, create=True)
    embed_model = store.load_embed_model(config.embedding.model, config.embedding.batch_size)
    report = pipeline.run(config.corpus.paths, index, embed_model)
    print(f"indexed {report.indexed} files, {report.chunks} chunks in {report.seconds:.1f} s", file=sys.stderr)


def retrieval_floor_ms(config: Config, answerer: Answerer, questions: list[str]) -> float:
    """Median of one query embedding plus one raw Chroma query: what any answer must at least cost."""
    embed_model = store.load_embed_model(config.embedding.model, config.embedding.batch_size)  # cached
    times = []
    for question in questions:
        started = time.perf_counter()
        vector = embed_model.get_query_embedding(question)
        answerer.chunks.collection.query(query_embeddings=[vector], n_results=answerer.top_k)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def table(reports: list[EvalReport], floor_ms: float) -> str:
    header = ["split", "questions", *(LABELS[m] for m in METRICS), "p50 ms", "p95 ms", "p50 / floor"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in reports:
        s = r.overall
        cells = [r.split, str(s.questions)]
        cells += ["n/a" if s.values[m] is None else f"{s.values[m]:.3f}" for m in METRICS]
        cells += [f"{s.latency_p50_ms:.0f}", f"{s.latency_p95_ms:.0f}", f"{s.latency_p50_ms / floor_ms:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def by_kind(report: EvalReport) -> str:
    header = ["kind", "questions", "recall@1", "recall@5", "MRR", "fact recall", "abstention recall"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for kind, s in report.by_kind.items():
        keys = ("recall_at_1", "recall_at_5", "mrr", "fact_recall", "abstention_recall")
        cells = [kind, str(s.questions)] + ["n/a" if s.values[k] is None else f"{s.values[k]:.3f}" for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_section(text: str) -> None:
    current = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    block = f"{START}\n{text}\n{END}"
    if START in current:
        head, rest = current.split(START, 1)
        current = head + block + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    BENCHMARKS.write_text(current)


def main() -> None:
    base = load_config(REPO / "config.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        config = base.model_copy(update={"index": base.index.model_copy(update={"path": Path(tmp)})})
        build_index(config)
        answerer = load_answerer(config)
        reports = [run_eval(answerer, load_golden(config.eval.golden, split), split) for split in ("dev", "test")]
        floor = retrieval_floor_ms(config, answerer, [q.golden.question for q in reports[0].results])
    chunks = f"{sum(len(r.results) for r in reports)} questions"
    text = "\n\n".join([
        "## Answer quality on the golden set",
        f"Reproduce with `{COMMAND}` ({chunks}; vector-only retrieval, extractive answers, "
        f"`retrieval.top_k` {base.retrieval.top_k}, `retrieval.min_score` {base.retrieval.min_score}). "
        f"Retrieval floor (one query embedding + one Chroma query, median): {floor:.1f} ms.",
        table(reports, floor),
        "Test split by kind:",
        by_kind(reports[1]),
    ])
    print(text)
    write_section(text)


if __name__ == "__main__":
    main()
