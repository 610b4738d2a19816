"""Score the bot on the four golden sets (dev and test splits), optionally next to a baseline commit, and
record it in docs/benchmarks.md.

    .venv/bin/python bench/golden_eval.py                     # the four golden sets, this checkout
    .venv/bin/python bench/golden_eval.py --baseline d38a47f  # and the same questions answered by that commit

Each golden set (golden/questions.yaml over corpus/, golden/wiki/questions.yaml over another company's
wiki, golden/intranet/questions.yaml over a third company's HTML intranet export, golden/dbt/questions.yaml
over a fourth company's dbt project) is ingested into a fresh temporary index with the repository's
config.yaml, and every question is asked through the same Answerer as HTTP. Latency is shown next to the
floor timed right after each answer (one query embedding plus one Chroma query), since absolute
milliseconds on a shared 2-core machine mean little. With --baseline, a git worktree of that commit
ingests each corpus with its own code and config and answers the same questions; its answers are scored
here, by this checkout's evaluator, so the two columns differ only in the bot.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs

from bot.answering.answer import Answer, Source
from bot.answering.answerer import Answerer, load_answerer
from bot.config import Config, load_config
from bot.evaluation.evaluate import EvalReport, QuestionResult, run_eval
from bot.evaluation.golden import golden_corpus, load_golden
from bot.evaluation.report import scores_table
from ingest import pipeline, store

REPO = Path(__file__).resolve().parent.parent

COMMAND = ".venv/bin/python bench/golden_eval.py"
GOLDEN = {
    "Brightline (corpus/: dbt YAML, policies, reports)": REPO / "golden/questions.yaml",
    "Portolan wiki (golden/wiki/corpus/: prose pages)": REPO / "golden/wiki/questions.yaml",
    "Halvard intranet (golden/intranet/corpus/: HTML export, CSVs)": REPO / "golden/intranet/questions.yaml",
    "Quillmark dbt project (golden/dbt/corpus/: YAML, SQL, seeds)": REPO / "golden/dbt/questions.yaml",
}
SPLITS = ("dev", "test")
# Run inside the baseline's checkout: its Answerer answers every question of the golden file, as JSON.
DUMP = """
import json, sys, time, yaml
from pathlib import Path
from bot.config import load_config
from bot.answering.answerer import load_answerer
golden, out = sys.argv[1], sys.argv[2]
answerer = load_answerer(load_config(Path("config.yaml")))
answers = {}
for q in yaml.safe_load(Path(golden).read_text())["questions"]:
    started = time.perf_counter()
    a = answerer.ask(q["question"])
    answers[q["question"]] = {"text": a.text, "abstained": a.abstained, "confidence": a.confidence,
        "ms": (time.perf_counter() - started) * 1000,
        "sources": [{"n": s.n, "path": s.path, "section": s.section, "start_line": s.start_line,
                     "end_line": s.end_line, "score": s.score, "snippet": s.snippet} for s in a.sources]}
Path(out).write_text(json.dumps(answers))
"""


def build_index(config: Config) -> None:
    index = store.open_index(config.index.path, config.index.collection, config.embedding.model, create=True)
    embed_model = store.load_bulk_embed_model(config.embedding.model, config.embedding.batch_size)
    report = pipeline.run(config.corpus.paths, index, embed_model)
    files = report.added + report.updated
    print(f"indexed {files} files, {report.chunks} chunks in {report.seconds:.1f} s", file=sys.stderr)


def corpus_config(base: Config, golden: Path, index_path: Path) -> Config:
    """`base` pointed at the golden file's corpus (its `corpus:` key), indexed at `index_path`."""
    return base.model_copy(update={
        "index": base.index.model_copy(update={"path": index_path}),
        "corpus": base.corpus.model_copy(update={"paths": golden_corpus(golden)}),
    })


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


class Recorded:
    """Answers recorded from the baseline's own Answerer, replayed to this checkout's evaluator."""

    writing = None  # extractive answers: no LLM sentences to re-check

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers = answers

    def ask(self, question: str) -> Answer:
        a = self.answers[question]
        sources = [Source(text="", **s) for s in a["sources"]]
        return Answer("baseline", question, a["text"], a["abstained"], sources, a["confidence"])


def baseline_answers(ref: str, golden: Path) -> dict[str, dict[str, Any]]:
    """Every question of `golden` answered by commit `ref`'s code and config, in a worktree of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        checkout = Path(tmp) / "checkout"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(checkout), ref], check=True,
                       capture_output=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(checkout), "FINBOT_INDEX__PATH": str(Path(tmp) / "index"),
                   "FINBOT_CORPUS__PATHS": json.dumps([str(p) for p in golden_corpus(golden)])}
            subprocess.run([sys.executable, "-m", "bot", "ingest"], cwd=checkout, env=env, check=True,
                           capture_output=True)
            out = Path(tmp) / "answers.json"
            subprocess.run([sys.executable, "-c", DUMP, str(golden), str(out)], cwd=checkout, env=env, check=True)
            answers: dict[str, dict[str, Any]] = json.loads(out.read_text())
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(checkout)], check=True)
    return answers


def recorded_report(answers: dict[str, dict[str, Any]], golden: Path, split: str) -> EvalReport:
    report = run_eval(Recorded(answers), load_golden(golden, split), split)  # type: ignore[arg-type]
    results = [QuestionResult(r.golden, r.answer, answers[r.golden.question]["ms"]) for r in report.results]
    return EvalReport(split, results)


def ratios(reports: list[EvalReport], floors: dict[str, float]) -> str:
    return "; ".join(
        f"{r.split}: answer p50 {r.overall.latency_p50_ms:.1f} ms = {r.overall.latency_p50_ms / floors[r.split]:.2f}x "
        f"the floor's median {floors[r.split]:.1f} ms"
        for r in reports
    )


def evaluate(base: Config, golden: Path) -> tuple[list[EvalReport], dict[str, float]]:
    """Both splits of one golden set, in a fresh index of its corpus."""
    reports, floors = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        config = corpus_config(base, golden, Path(tmp))
        build_index(config)
        answerer = load_answerer(config)
        for split in SPLITS:
            floor = FloorTimer(config, answerer)
            reports.append(run_eval(answerer, load_golden(golden, split), split, progress=floor))
            floors[split] = statistics.median(floor.times)
    return reports, floors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", metavar="REF", help="also score the answers of this commit's code")
    args = parser.parse_args()
    base = load_config(REPO / "config.yaml")
    blocks = [
        "## Answer quality on the golden sets",
        f"Reproduce with `{COMMAND}{' --baseline ' + args.baseline if args.baseline else ''}` (`retrieval.mode` "
        f"{base.retrieval.mode}, `retrieval.glossary` {str(base.retrieval.glossary).lower()}, extractive answers, "
        f"`retrieval.top_k` {base.retrieval.top_k}, `retrieval.min_confidence` {base.retrieval.min_confidence})."
        + (f" Rows marked *{args.baseline}* are the same questions answered by commit {args.baseline}'s code and"
           " config, scored by this checkout's evaluator." if args.baseline else ""),
    ]
    for name, golden in GOLDEN.items():
        reports, floors = evaluate(base, golden)
        rows = {f"{r.split}": r.overall for r in reports}
        if args.baseline:
            answers = baseline_answers(args.baseline, golden)
            rows |= {f"{split} *{args.baseline}*": recorded_report(answers, golden, split).overall for split in SPLITS}
        blocks += [
            f"### {name}", scores_table(rows),
            "Latency against the floor (one query embedding + one Chroma query, timed right after each answer): "
            + ratios(reports, floors) + ".",
            "Test split by kind:", scores_table(reports[1].by_kind),
        ]
    text = "\n\n".join(blocks)
    print(text)
    write_section("golden-eval", text)


if __name__ == "__main__":
    main()
