"""A cold one-shot `finbot ask`, before and after the torch-free query path, next to importing sentence-transformers.

    .venv/bin/python bench/one_shot_ask.py               # 5 runs each, writes docs/benchmarks.md
    .venv/bin/python bench/one_shot_ask.py --runs 1 --no-write

"Before" is the code this branch started from (`git merge-base HEAD main`, or --before REF), unpacked
with `git archive` into a temporary folder; "after" is this checkout. Both answer from the same fresh
index of corpus/ (built first, with this checkout's ingest), each run a new process (the OS file cache
stays warm, as it does for an analyst asking twice). The runs interleave (before, after, import) so load
on the shared machine hits all three alike; medians are reported, with peak RSS from wait4.

Then, in this process, the query embedding alone: torch (sentence-transformers, what serving used) vs
the ONNX export (what it uses now), interleaved over the golden questions after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs
from processes import measured

REPO = Path(__file__).resolve().parent.parent
COMMAND = ".venv/bin/python bench/one_shot_ask.py"
QUESTION = "what's the formula for DSO"
EMBED_QUESTIONS = 60


def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process, which must succeed."""
    _, wall, rss = measured(args, env, cwd)
    return wall, rss


def unpack(ref: str, into: Path) -> None:
    """The bot/ and ingest/ packages as they were at `ref`."""
    archive = into / "src.tar"
    subprocess.run(["git", "archive", "-o", str(archive), ref, "bot", "ingest"], cwd=REPO, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")


def embedding_p50(questions: list[str]) -> dict[str, float]:
    """Median ms of one query embedding by torch (its default threads, and one thread) and by the ONNX export
    (one thread), interleaved question by question."""
    import torch

    from ingest import store

    torch_model, onnx_model = store.load_bulk_embed_model(), store.load_embed_model()
    default_threads = torch.get_num_threads()
    runs = {f"torch, {default_threads} threads": (torch_model, default_threads), "torch, 1 thread": (torch_model, 1),
            "ONNX, 1 thread": (onnx_model, default_threads)}
    for model, _ in runs.values():
        model.get_query_embedding("warm up")
    times: dict[str, list[float]] = {name: [] for name in runs}
    for n, question in enumerate(questions):
        order = list(runs.items())
        for name, (model, threads) in order[n % 3 :] + order[: n % 3]:
            torch.set_num_threads(threads)
            started = time.perf_counter()
            model.get_query_embedding(question)
            times[name].append((time.perf_counter() - started) * 1000)
    torch.set_num_threads(default_threads)
    return {name: statistics.median(t) for name, t in times.items()}


def compare_answers(config_path: Path) -> tuple[int, int, int, float, int]:
    """Over every golden question, unfiltered and --type policy: how many answers are identical (JSON) with
    the question embedded by the ONNX export and by torch; how many with --explain too; the total; the largest
    difference of an --explain figure; and how many non-float --explain fields (ranks, glossary) differ."""
    from bot.answering.answerer import Answerer, load_answerer
    from bot.config import load_config
    from bot.evaluation.golden import load_golden
    from bot.retrieval.hybrid import HybridRetriever, load_vector_index
    from ingest import store

    config = load_config(config_path)
    onnx = load_answerer(config)
    r = onnx.retriever
    vectors = load_vector_index(onnx.chunks, store.load_bulk_embed_model())
    torch = Answerer(
        HybridRetriever(onnx.chunks, vectors, r.keyword_folder, r.mode, r.use_glossary, r.fusion),
        onnx.chunks, onnx.top_k, onnx.min_confidence,
    )
    same = same_explain = total = ranks_differ = 0
    largest = 0.0
    for question in load_golden(config.eval.golden, "all"):
        for doc_type in (None, "policy"):
            ours, theirs = (a.ask(question.question, doc_type=doc_type) for a in (onnx, torch))
            total += 1
            same += ours.to_dict() == theirs.to_dict()
            same_explain += ours.to_dict(explain=True) == theirs.to_dict(explain=True)
            for a, b in zip(ours.sources, theirs.sources, strict=True):
                for field, value in (vars(a.explain) if a.explain else {}).items():
                    other = getattr(b.explain, field)
                    if isinstance(value, float) and isinstance(other, float):
                        largest = max(largest, abs(value - other))
                    elif value != other:
                        ranks_differ += 1
    return same, same_explain, total, largest, ranks_differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="cold processes per row")
    parser.add_argument("--before", help="git ref of the baseline code [default: git merge-base HEAD main]")
    parser.add_argument("--no-write", action="store_true", help="print the table without updating docs/")
    args = parser.parse_args()
    before = args.before or subprocess.run(
        ["git", "merge-base", "HEAD", "main"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="finbot-bench-") as tmp:
        base = Path(tmp) / "before"
        base.mkdir()
        unpack(before, base)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "FINBOT_INDEX__PATH": str(Path(tmp) / "index")}
        after_env = {**env, "PYTHONPATH": str(REPO)}
        print("building the index of corpus/ (and the ONNX export, if missing)...", file=sys.stderr)
        ask = [sys.executable, "-m", "bot", "--config", str(REPO / "config.yaml"), "ask", QUESTION]
        run(ask[:-2] + ["ingest"], after_env, REPO)
        # run from the temporary folder: `python -m` puts the working directory first on sys.path
        commands = {
            "before": (ask, {**env, "PYTHONPATH": str(base)}),
            "after": (ask, after_env),
            "import": ([sys.executable, "-c", "import sentence_transformers"], after_env),
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for n in range(args.runs):
            for name, (command, child_env) in commands.items():
                results[name].append(run(command, child_env, Path(tmp)))
            print(f"run {n + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1][0]:.2f} s" for k, v in results.items()),
                  file=sys.stderr)
        os.environ["FINBOT_INDEX__PATH"] = env["FINBOT_INDEX__PATH"]
        print("comparing answers, ONNX vs torch, on the golden questions...", file=sys.stderr)
        answers = compare_answers(REPO / "config.yaml")
        from bot.config import load_config
        from bot.evaluation.golden import load_golden

        golden = load_golden(load_config(REPO / "config.yaml").eval.golden, "all")
        embedding = embedding_p50([q.question for q in golden[:EMBED_QUESTIONS]])
    load = (load_before, os.getloadavg()[0])
    text = table(results, args.runs, before, embedding, answers, load)
    print(text)
    if not args.no_write:
        write_section("one-shot-ask", text)


def table(
    results: dict[str, list[tuple[float, float]]], runs: int, before: str, embedding: dict[str, float],
    answers: tuple[int, int, int, float, int], load: tuple[float, float],
) -> str:
    onnx = embedding["ONNX, 1 thread"]
    wall = {k: statistics.median(w for w, _ in v) for k, v in results.items()}
    rss = {k: statistics.median(r for _, r in v) for k, v in results.items()}
    rows = [
        ("`finbot ask`, before (query embedded by sentence-transformers/torch)", "before"),
        ("`finbot ask`, after (ONNX export; Chroma queried directly)", "after"),
        ('`python -c "import sentence_transformers"`', "import"),
    ]
    lines = [
        "## One-shot `finbot ask`: cold process, before and after the torch-free query path",
        "",
        f"Reproduce with `{COMMAND}` (medians of {runs} cold processes each, interleaved; the same fresh index of "
        f"corpus/; before = `{before[:12]}` unpacked with `git archive`; question: \"{QUESTION}\"; 1-minute load "
        f"average {load[0]:.1f} at the start, {load[1]:.1f} at the end, on {os.cpu_count()} cores).",
        "",
        "| run | wall s | of import | peak RSS MiB |",
        "|---|---|---|---|",
        *[f"| {label} | {wall[k]:.2f} | {wall[k] / wall['import']:.2f} | {rss[k]:.0f} |" for label, k in rows],
        "",
        f"A one-shot ask takes {wall['after'] / wall['before']:.2f}x the wall time it took before and "
        f"{rss['after'] / rss['before']:.2f}x the memory, {wall['after'] / wall['import']:.2f}x the time of "
        "importing sentence-transformers alone (target: at most 0.25x; 300 MiB).",
        "",
        f"One query embedding in a running process (what `serve` pays per question; median of {EMBED_QUESTIONS} "
        "golden questions, the three interleaved):",
        "",
        "| query embedding | p50 ms | of ONNX |",
        "|---|---|---|",
        *[f"| {name} | {ms:.1f} | {ms / onnx:.2f} |" for name, ms in embedding.items()],
        "",
        f"Same answers: of {answers[2]} asks (every golden question, unfiltered and `--type policy`), "
        f"{answers[0]} give byte-identical JSON whether torch or the ONNX export embeds the question; with "
        f"`--explain`, {answers[1]}: the rest differ by at most {answers[3]:.6f} in a rounded similarity or score, "
        f"and {answers[4]} ranks or glossary hits differ.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
