"""Latency of a whole extractive answer at 1k, 10k and 100k generated chunks, next to the floor.

    .venv/bin/python bench/retrieval_latency.py            # all sizes, writes docs/benchmarks.md
    .venv/bin/python bench/retrieval_latency.py --sizes 1000 --queries 20   # a quick look, writes nothing
    .venv/bin/python bench/retrieval_latency.py --baseline a7cbd18   # and that commit's answerer, same indexes

For each size it writes a generated corpus into a temporary Chroma (through the same ChunkIndex as
ingest), rebuilds the BM25 keyword index the way ingest does (timed), opens the hybrid Answerer, and
then asks each query twice, interleaving a whole `Answerer.ask` with the floor (one query embedding
plus one Chroma query of top_k), so load on the shared machine hits both alike. It also times what a
filter costs in Chroma (`where` on doc_type, and `ids` restricted to a path prefix) against the same
query unfiltered, which is how retrieve.py decides to filter after an unfiltered query.

The answers are timed in a fresh process that opens the written index the way `finbot serve` does (not in
the process that generated and wrote 100k chunks, whose heap makes garbage collection slower). With
--baseline, a git worktree of that commit answers the same questions over the same index in such a process
too, right after this checkout's, each interleaved with its own floor, so a change is read as the ratio to
the floor of each, measured a minute apart on the same box.

Embedding 100k texts with MiniLM on 2 cores takes too long, so REAL_TEXTS generated texts are
embedded for real and every other chunk gets a perturbed, re-normalised copy of one of those vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs

from bot.answering.answerer import Answerer
from bot.evaluation.evaluate import percentile
from bot.retrieval.hybrid import HybridRetriever, load_vector_index
from ingest import keyword_index, store

REPO = Path(__file__).resolve().parent.parent
COMMAND = ".venv/bin/python bench/retrieval_latency.py"
SIZES = (1_000, 10_000, 100_000)
REAL_TEXTS = 1_500
NOISE = 0.35  # perturbation of a derived vector, relative to the unit vector it copies
TOP_K = 5
CHUNKS_PER_FILE = 10

SUBJECTS = [
    "recurring revenue", "deferred revenue", "accounts receivable", "processing fees", "refunds", "chargebacks",
    "payout", "invoice", "sales tax", "VAT", "commissions", "discounts", "bad debt", "allowance", "FX rate",
    "retention", "churn", "bookings", "billings", "gross margin", "cash", "journal entry", "accrual", "close",
]
VERBS = ["is recognised", "is reported", "is reconciled", "is approved", "is calculated", "is written off",
         "is converted", "is booked", "is reviewed", "is excluded"]
QUALIFIERS = ["at month end", "by the controller", "within five business days", "at the budget rate",
              "for annual plans", "for enterprise customers", "in the general ledger", "before the BD5 close",
              "net of fees", "per legal entity", "on a straight-line basis", "when the dispute closes"]
QUESTIONS = [
    "how is {s} calculated", "when {v} the {s}", "which report shows {s} {q}", "what's the policy on {s}",
    "who approves {s} {q}", "is {s} included in gross margin", "{s} definition", "what does {m} mean",
]


def generated_chunks(count: int, rng: random.Random) -> list[keyword_index.Chunk]:
    """Chunks that look like ours: metrics (with names and labels), report columns, policy sections."""
    chunks = []
    for i in range(count):
        file, n = divmod(i, CHUNKS_PER_FILE)
        kind = ("metric", "report", "policy")[file % 3]
        subject = rng.choice(SUBJECTS)
        sentences = [
            f"The {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(QUALIFIERS)}."
            for _ in range(rng.randint(4, 9))
        ]
        if kind == "metric":
            name = f"metric_{file}_{n}"
            path, section, title = f"metrics/gen_{file:05d}.yaml", f"metrics.{name}", f"{subject.title()} {file}.{n}"
            text = f"- name: {name}\n  label: {title}\n  description: >\n    " + "\n    ".join(sentences)
        elif kind == "report":
            path, section = f"reports/rpt_gen_{file:05d}.yaml", f"models.rpt_gen_{file:05d}.columns.col_{n}_usd"
            title = f"col_{n}_usd"
            text = f"- name: col_{n}_usd\n  description: >\n    " + "\n    ".join(sentences)
        else:
            path, section, title = f"policies/gen_{file:05d}.md", f"Policy {file} > {subject.title()}", f"Policy {file}"
            text = f"## {subject.title()}\n\n" + " ".join(sentences)
        metadata = {
            store.PATH: path, store.TITLE: title, store.SECTION: section, store.START_LINE: n * 12 + 1,
            store.END_LINE: n * 12 + 10, store.DOC_TYPE: kind,
        }
        chunks.append(keyword_index.Chunk(f"gen-{i}", text, metadata))
    return chunks


def embeddings(chunks: list[keyword_index.Chunk], embed: Callable[[list[str]], list[list[float]]],
               rng: np.random.Generator) -> np.ndarray:
    """Real vectors for the first REAL_TEXTS chunks; perturbed, re-normalised copies for the rest."""
    real = np.asarray(embed([c.text for c in chunks[:REAL_TEXTS]]), dtype=np.float32)
    if len(chunks) <= REAL_TEXTS:
        return real
    base = real[rng.integers(0, len(real), len(chunks) - len(real))]
    derived = base + rng.normal(0, NOISE / np.sqrt(real.shape[1]), base.shape).astype(np.float32)
    derived /= np.linalg.norm(derived, axis=1, keepdims=True)
    return np.vstack([real, derived])


def write_chunks(index: store.ChunkIndex, chunks: list[keyword_index.Chunk], vectors: np.ndarray) -> None:
    from llama_index.core.schema import TextNode

    nodes = [
        TextNode(id_=c.id, text=c.text, metadata=c.metadata, embedding=v.tolist())
        for c, v in zip(chunks, vectors, strict=True)
    ]
    index.add(nodes)


# Run in a fresh process of a checkout (this one, or the baseline's worktree) over the index written here: its
# Answerer against the floor.
TIMING = """
import json, sys, time
from pathlib import Path
from bot.answering.answerer import Answerer
from bot.retrieval.hybrid import HybridRetriever, load_vector_index
from ingest import keyword_index, store
folder, queries, top_k = Path(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
index = store.open_index(folder, "bench", "", create=False)
query_model = store.load_embed_model("", 64)
answerer = Answerer(HybridRetriever(index, load_vector_index(index, query_model),
                                    keyword_index.keyword_dir(folder, "bench")), index, top_k, 0.5)
def floor(question):
    index.collection.query(query_embeddings=[query_model.get_query_embedding(question)], n_results=top_k)
answerer.ask(queries[0])
times = {"answer": [], "floor": []}
for round_ in range(2):
    for n, question in enumerate(queries):
        pair = [("answer", lambda: answerer.ask(question)), ("floor", lambda: floor(question))]
        for name, call in pair if (n + round_) % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)
print(json.dumps(times))
"""


def process_times(checkout: Path, folder: Path, queries: list[str]) -> dict[str, float]:
    """The answer and floor percentiles of `checkout`'s code over the index in `folder`, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", TIMING, str(folder), json.dumps(queries), str(TOP_K)],
                          cwd=checkout, env=env, check=True, capture_output=True, text=True)
    times = {name: sorted(values) for name, values in json.loads(done.stdout.splitlines()[-1]).items()}
    return {f"{name}_p{p}": percentile(times[name], p) for name in ("answer", "floor") for p in (50, 95)}


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure(
    size: int, queries: list[str], embed_model: object, rng: random.Random, baseline: Path | None = None
) -> dict[str, float]:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    assert isinstance(embed_model, BaseEmbedding)
    chunks = generated_chunks(size, rng)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        index = store.open_index(folder, "bench", "", create=True)
        started = time.perf_counter()
        vectors = embeddings(chunks, embed_model.get_text_embedding_batch, np.random.default_rng(size))
        write_chunks(index, chunks, vectors)
        write_s = time.perf_counter() - started
        store.mark_changed(index)
        kw_dir = keyword_index.keyword_dir(folder, "bench")
        bm25_build_s = keyword_index.build(index, kw_dir).seconds
        query_model = store.load_embed_model("", 64)  # what answering embeds questions with (ONNX)
        retriever = HybridRetriever(index, load_vector_index(index, query_model), kw_dir)
        load_s = retriever.current()[0].seconds
        answerer = Answerer(retriever, index, TOP_K, 0.5)
        collection = index.collection

        vector0 = query_model.get_query_embedding(queries[0])
        allowed = [c.id for c in chunks if c.path.startswith("policies/gen_000")]
        chroma = {
            "unfiltered": lambda: collection.query(query_embeddings=[vector0], n_results=TOP_K * 8),
            "where": lambda: collection.query(
                query_embeddings=[vector0], n_results=TOP_K * 4, where={store.DOC_TYPE: "policy"}
            ),
            "ids": lambda: collection.query(query_embeddings=[vector0], n_results=TOP_K * 4, ids=allowed),
        }
        filtered_ms: list[float] = []
        chroma_ms: dict[str, list[float]] = {name: [] for name in chroma}
        answerer.ask(queries[0])  # warm up
        for question in queries * 2:
            filtered_ms.append(timed(lambda q=question: answerer.ask(q, doc_type="policy")))
            for name, call in chroma.items():
                chroma_ms[name].append(timed(call))
        now = process_times(REPO, folder, queries)
        before = {f"baseline_{k}": v for k, v in process_times(baseline, folder, queries).items()} if baseline else {}
    filtered_ms.sort()
    return {
        "chunks": size, "write_s": write_s, "bm25_build_s": bm25_build_s, "bm25_load_s": load_s, **now,
        "filtered_p50": percentile(filtered_ms, 50), "filtered_p95": percentile(filtered_ms, 95),
        **{f"chroma_{name}": statistics.median(times) for name, times in chroma_ms.items()}, **before,
    }


def tables(rows: list[dict[str, float]], queries: int, baseline: str = "") -> str:
    latency = [
        "| chunks | answer p50 ms | answer p95 ms | floor p50 ms | floor p95 ms | p95 / floor p95 "
        "| answer with --type p50 / p95 ms |",
        "|---" * 7 + "|",
    ]
    chroma = [
        "| chunks | Chroma top 40, unfiltered | top 20, `where` doc_type | top 20, `ids` (path prefix) "
        "| BM25 rebuild from Chroma | BM25 load from disk |",
        "|---" * 6 + "|",
    ]
    for r in rows:
        latency.append(
            f"| {int(r['chunks']):,} | {r['answer_p50']:.1f} | {r['answer_p95']:.1f} | {r['floor_p50']:.1f} | "
            f"{r['floor_p95']:.1f} | {r['answer_p95'] / r['floor_p95']:.2f}x | "
            f"{r['filtered_p50']:.1f} / {r['filtered_p95']:.1f} |"
        )
        if baseline:
            latency.append(
                f"| {int(r['chunks']):,} *{baseline}* | {r['baseline_answer_p50']:.1f} | "
                f"{r['baseline_answer_p95']:.1f} | {r['baseline_floor_p50']:.1f} | {r['baseline_floor_p95']:.1f} | "
                f"{r['baseline_answer_p95'] / r['baseline_floor_p95']:.2f}x | |"
            )
        chroma.append(
            f"| {int(r['chunks']):,} | {r['chroma_unfiltered']:.1f} ms | {r['chroma_where']:.1f} ms | "
            f"{r['chroma_ids']:.1f} ms | {r['bm25_build_s']:.2f} s | {r['bm25_load_s']:.2f} s |"
        )
    return "\n\n".join([
        "## Retrieval latency at 1k, 10k and 100k chunks",
        f"Reproduce with `{COMMAND}{' --baseline ' + baseline if baseline else ''}`. Each size asks {queries} "
        "generated questions twice; a whole hybrid "
        "extractive answer (`Answerer.ask`: query embedding, Chroma, BM25, glossary, fusion, confidence, widening, "
        "the reply) is timed interleaved with the floor (one query embedding + one Chroma query of top 5). "
        f"Chunks are generated finance-like texts; {REAL_TEXTS:,} are embedded with MiniLM for real and the "
        "rest are perturbed, re-normalised copies of those vectors (embedding 100k texts on 2 cores takes too "
        "long)."
        + " Answers and floor are timed in a fresh process that opens the written index, as `finbot serve` does"
        " (the --type column in the process that wrote it)."
        + (f" Rows marked *{baseline}* are commit {baseline}'s answerer over the same index, in a process of its "
           "own right after this checkout's, timed against its own floor." if baseline else ""),
        "\n".join(latency),
        "What a filter costs in Chroma (median of the same queries), and the BM25 index kept in step with "
        "ingest: a full rebuild from the chunks in Chroma (what ingest does after every run that changed the "
        "index) and a load of the persisted copy (what `finbot ask` and `serve` do):",
        "\n".join(chroma),
        "retrieve.py therefore filters vector results after an unfiltered query (`--type`, `--path`) and "
        "only asks Chroma again, restricted by `ids`, when too few results survive; BM25 filters in memory.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--baseline", metavar="REF", help="also time this commit's answerer on the same indexes")
    args = parser.parse_args()
    rng = random.Random(5)
    queries = [
        rng.choice(QUESTIONS).format(
            s=rng.choice(SUBJECTS), v=rng.choice(VERBS).split()[0], q=rng.choice(QUALIFIERS), m="GRR"
        )
        for _ in range(args.queries)
    ]
    embed_model = store.load_bulk_embed_model("", 64)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        checkout = Path(tmp) / "baseline"
        if args.baseline:
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(checkout), args.baseline],
                           check=True, capture_output=True)
        try:
            for size in args.sizes:
                rows.append(measure(size, queries, embed_model, rng, checkout if args.baseline else None))
                print(f"{size} chunks: {rows[-1]}", file=sys.stderr)
        finally:
            if args.baseline:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(checkout)], check=True)
    text = tables(rows, args.queries, args.baseline or "")
    print(text)
    if tuple(args.sizes) == SIZES:
        write_section("retrieval-latency", text)


if __name__ == "__main__":
    main()
