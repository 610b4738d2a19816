"""Score the bot on the golden set (dev and test splits) and record it in docs/benchmarks.md.

    .venv/bin/python bench/golden_eval.py

Ingests corpus/ into a fresh temporary index with the repository's config.yaml, asks every golden
question through the same Answerer as HTTP, and prints the table it writes. Latency is shown next to
the floor timed right after each answer (one query embedding plus one Chroma query), since absolute
milliseconds on a shared 2-core machine mean little.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs

from bot.answering.answerer import Answerer, load_answerer
from bot.config import Config, load_config
from bot.evaluation.evaluate import EvalReport, QuestionResult, run_eval
from bot.evaluation.golden import load_golden
from bot.evaluation.report import scores_table
from ingest import pipeline, store

REPO = Path(__file__).resolve().parent.parent

COMMAND = ".venv/bin/python bench/golden_eval.py"


def build_index(config: Config) -> None:
    index = store.open_index(config.index.path, config.index.collection, config.embedding.model, create=True)
    embed_model = store.load_bulk_embed_model(config.embedding.model, config.embedding.batch_size)
    report = pipeline.run(config.corpus.paths, index, embed_model)
    files = report.added + report.updated
    print(f"indexed {files} files, {report.chunks} chunks in {report.seconds:.1f} s", file=sys.stderr)


class FloorTimer:
    """Times one query embedding plus one raw Chroma query right after each answer (interleaved, so
    load on the machine hits both alike): the least any answer can cost."""

    def __init__(self, config: Config, answerer: Answerer) -> None:
        self.embed_model = store.load_embed_model(config.embedding.model, config.embedding.batch_size)  # cached
        self.answerer = answerer
        self.times: list[float] = []

    def __call__(self, result: QuestionResult) -> None:
        started = time.perf_counter()
        vector = self.embed_model.get_query_embedding(result.golden.question)
        self.answerer.chunks.collection.query(query_embeddings=[vector], n_results=self.answerer.top_k)
        self.times.append((time.perf_counter() - started) * 1000)


def ratios(reports: list[EvalReport], floors: dict[str, float]) -> str:
    return "; ".join(
        f"{r.split}: answer p50 {r.overall.latency_p50_ms:.1f} ms = {r.overall.latency_p50_ms / floors[r.split]:.2f}x "
        f"the floor's median {floors[r.split]:.1f} ms"
        for r in reports
    )


def main() -> None:
    base = load_config(REPO / "config.yaml")
    reports, floors = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        config = base.model_copy(update={"index": base.index.model_copy(update={"path": Path(tmp)})})
        build_index(config)
        answerer = load_answerer(config)
        for split in ("dev", "test"):
            floor = FloorTimer(config, answerer)
            reports.append(run_eval(answerer, load_golden(config.eval.golden, split), split, progress=floor))
            floors[split] = statistics.median(floor.times)
    text = "\n\n".join([
        "## Answer quality on the golden set",
        f"Reproduce with `{COMMAND}` ({sum(len(r.results) for r in reports)} questions; "
        f"`retrieval.mode` {base.retrieval.mode}, `retrieval.glossary` {str(base.retrieval.glossary).lower()}, "
        f"extractive answers, `retrieval.top_k` {base.retrieval.top_k}, `retrieval.min_confidence` "
        f"{base.retrieval.min_confidence}).",
        scores_table({r.split: r.overall for r in reports}),
        "Latency against the floor (one query embedding + one Chroma query, timed right after each answer): "
        + ratios(reports, floors) + ".",
        "Test split by kind:",
        scores_table(reports[1].by_kind),
    ])
    print(text)
    write_section("golden-eval", text)


if __name__ == "__main__":
    main()
