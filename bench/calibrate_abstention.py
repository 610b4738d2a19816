"""Fit the confidence model on the dev splits of both golden corpora, check it across corpora, and choose
retrieval.min_confidence.

    .venv/bin/python bench/calibrate_abstention.py             # print, write config.yaml and docs/benchmarks.md
    .venv/bin/python bench/calibrate_abstention.py --dry-run   # print only
    .venv/bin/python bench/calibrate_abstention.py --fit       # refit bot/answering/confidence.py's weights
    .venv/bin/python bench/calibrate_abstention.py --dev-only  # while tuning: never asks a test question

Each golden set (golden/questions.yaml over corpus/, golden/wiki/questions.yaml over the wiki of another
company, prose pages only) is ingested into a fresh temporary index, and every ask of every question (a
multi-part question's parts each count) is retrieved and scored. The model is fitted three ways: on each
corpus's dev split alone, reported on the other corpus (its test split), and on both dev splits together,
which is the model finbot uses. The threshold is the highest (catching the most unanswerable asks) at
which no corpus's dev split sees more than REFUSAL_BUDGET of its answerable asks refused. Asks
refused as figure requests (bot/answering/figures.py) are left out: their confidence is 0 whatever the model
says.

--fit prints the pooled weights for bot/answering/confidence.py (signals standardized, L2 as
scikit-learn's default); paste them, then run again without --fit to choose the threshold.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs
from golden_eval import build_index, corpus_config

from bot.answering import confidence
from bot.answering.answerer import Answerer, load_answerer
from bot.answering.parts import split_question
from bot.config import load_config
from bot.evaluation.golden import load_golden
from bot.retrieval.hybrid import Filters

if TYPE_CHECKING:
    import numpy as np

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "config.yaml"
COMMAND = ".venv/bin/python bench/calibrate_abstention.py"
GOLDEN = {
    "Brightline (dbt + policies)": REPO / "golden/questions.yaml",
    "Portolan wiki (prose)": REPO / "golden/wiki/questions.yaml",
}
# The most answerable asks a corpus may see refused (issue 13's target): the confidence signals separate
# answerable from unanswerable asks well on the dbt corpus and weakly on prose, so a threshold set by F1 or
# balanced accuracy refuses a sixth to a half of a prose wiki's answerable questions.
REFUSAL_BUDGET = 0.03
THRESHOLDS = [round(0.10 + 0.02 * i, 2) for i in range(44)]  # 0.10 .. 0.96


@dataclass(frozen=True)
class Ask:
    """One ask of a golden question: what the confidence model reads, and whether the documents answer it."""

    signals: tuple[float, ...]
    answerable: bool


@dataclass(frozen=True)
class Point:
    threshold: float
    abstained: int
    precision: float | None
    recall: float
    refused: int  # answerable asks that would get "I couldn't find this"
    answerable: int

    @property
    def refused_share(self) -> float:
        return self.refused / self.answerable if self.answerable else 0.0



def asks(answerer: Answerer, golden: Path, split: str) -> list[Ask]:
    """Every ask of the split's questions with a known answer (a multi-part question whose parts finbot splits
    differently from the golden set's counts as unlabelled and is left out)."""
    keyword, glossary = answerer.retriever.current()
    leads = answerer.lead_finder(keyword)
    found: list[Ask] = []
    for question in load_golden(golden, split):
        parts = split_question(question.question, names=lambda text: [h.entity.name for h in glossary.match(text)])
        if question.parts:
            if len(question.parts) != len(parts):
                continue
            labels = [p.answerable for p in question.parts]
        else:
            labels = [question.answerable] * len(parts)
        for part, answerable in zip(parts, labels, strict=True):
            answered = answerer.answer_part(part, answerer.top_k, Filters(), leads)
            if answered.found.candidates and answered.period is None:
                found.append(Ask(answered.signals, answerable))
    return found


def logistic_fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 5000) -> np.ndarray:
    """Logistic regression by gradient descent on standardized signals with L2 on the weights (not the bias;
    l2 = 1 is scikit-learn's default C = 1), returned as weights of the raw signals: [bias, w1, w2, ...]."""
    import numpy as np

    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    features = np.hstack([np.ones((len(x), 1)), (x - mean) / std])
    weights = np.zeros(features.shape[1])
    for _ in range(steps):
        predicted = 1 / (1 + np.exp(-features @ weights))
        gradient = features.T @ (predicted - y) + l2 * np.r_[0.0, weights[1:]]
        weights -= 0.5 * gradient / len(y)
    raw = weights[1:] / std
    return np.r_[weights[0] - raw @ mean, raw]


def fitted(data: list[Ask]) -> np.ndarray:
    import numpy as np

    return logistic_fit(np.array([a.signals for a in data]), np.array([float(a.answerable) for a in data]))


def scored(weights: Sequence[float] | np.ndarray, data: list[Ask]) -> list[tuple[float, bool]]:
    return [(confidence.estimate(a.signals, weights[1:], weights[0]), a.answerable) for a in data]


def trade_off(points: list[tuple[float, bool]], threshold: float) -> Point:
    abstained = [answerable for value, answerable in points if value < threshold]
    unanswerable = sum(not answerable for _, answerable in points)
    right = sum(not answerable for answerable in abstained)
    precision = right / len(abstained) if abstained else None
    recall = right / unanswerable if unanswerable else 0.0
    return Point(threshold, len(abstained), precision, recall, sum(abstained), len(points) - unanswerable)


def choose(by_corpus: Sequence[list[Point]]) -> Point:
    """The highest threshold (the most unanswerable asks caught) at which no corpus's dev split refuses more
    than REFUSAL_BUDGET of its answerable asks; rows are per threshold, in THRESHOLDS order, one list per
    corpus. Returned as the first corpus's point (its threshold is what counts)."""
    within = [n for n in range(len(THRESHOLDS)) if all(rows[n].refused_share <= REFUSAL_BUDGET for rows in by_corpus)]
    return by_corpus[0][within[-1] if within else 0]


def rows_of(weights: Sequence[float] | np.ndarray, asks: list[Ask]) -> list[Point]:
    return [trade_off(scored(weights, asks), t) for t in THRESHOLDS]


def cell(p: Point) -> str:
    precision = "n/a" if p.precision is None else f"{p.precision:.2f}"
    return f"{precision} / {p.recall:.2f} / {p.refused_share:.0%}"


def table(rows: list[Point], by_corpus: dict[str, list[Point]], chosen: float) -> str:
    names = list(by_corpus)
    lines = [
        "| min_confidence | abstained | precision | recall | answerable refused | "
        + " | ".join(f"{n}: caught / refused" for n in names) + " |",
        "|---" * (5 + len(names)) + "|",
    ]
    for n, p in enumerate(rows):
        mark = " **chosen**" if p.threshold == chosen else ""
        precision = "n/a" if p.precision is None else f"{p.precision:.3f}"
        cells = [f"{c[n].recall:.0%} / {c[n].refused_share:.0%}" for c in by_corpus.values()]
        lines.append(
            f"| {p.threshold:.2f}{mark} | {p.abstained} | {precision} | {p.recall:.3f} | "
            f"{p.refused} of {p.answerable} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def write_threshold(threshold: float) -> None:
    text = CONFIG.read_text()
    updated, count = re.subn(r"(?m)^(\s*min_confidence:\s*)[0-9.]+", rf"\g<1>{threshold:.2f}", text)
    if count != 1:
        raise SystemExit(f"{CONFIG}: expected one 'min_confidence:' line under retrieval:, found {count}")
    CONFIG.write_text(updated)


def collect(splits: tuple[str, ...]) -> dict[str, dict[str, list[Ask]]]:
    """{corpus: {split: asks}}, each corpus in a fresh temporary index."""
    base = load_config(CONFIG)
    data: dict[str, dict[str, list[Ask]]] = {}
    for name, golden in GOLDEN.items():
        with tempfile.TemporaryDirectory() as tmp:
            config = corpus_config(base, golden, Path(tmp))
            build_index(config)
            answerer = load_answerer(config)
            data[name] = {split: asks(answerer, golden, split) for split in splits}
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print only; change no file")
    parser.add_argument("--fit", action="store_true", help="refit bot/answering/confidence.py's weights, print them")
    parser.add_argument("--dev-only", action="store_true", help="never ask a test question (while tuning)")
    args = parser.parse_args()
    splits = ("dev",) if args.dev_only else ("dev", "test")
    data = collect(splits)
    names = list(data)
    pooled_dev = [a for name in names for a in data[name]["dev"]]
    report = "test" if not args.dev_only else "dev"
    fits = {f"{name} dev": fitted(data[name]["dev"]) for name in names}
    fits["both dev splits (finbot's)"] = fitted(pooled_dev)
    header = "| fitted on | threshold | " + " | ".join(f"{n} {report}: P / R / refused" for n in names) + " |"
    cross = [header, "|---" * (2 + len(names)) + "|"]
    for label, weights in fits.items():
        train = pooled_dev if label.startswith("both") else data[label.removesuffix(" dev")]["dev"]
        if label.startswith("both"):
            threshold = choose([rows_of(weights, data[n]["dev"]) for n in names]).threshold
        else:
            threshold = choose([rows_of(weights, train)]).threshold
        cells = [cell(trade_off(scored(weights, data[n][report]), threshold)) for n in names]
        cross.append(f"| {label} | {threshold:.2f} | " + " | ".join(cells) + " |")
    if args.fit:
        pooled = fits["both dev splits (finbot's)"]
        print("\n".join(cross))
        print(f"\nFitted on {len(pooled_dev)} dev asks; for bot/answering/confidence.py:")
        print(f"BIAS = {pooled[0]:.2f}")
        print("WEIGHTS = (" + ", ".join(f"{w:.2f}" for w in pooled[1:]) + f")  # {', '.join(confidence.SIGNALS)}")
        return
    current = [confidence.BIAS, *confidence.WEIGHTS]
    rows = rows_of(current, pooled_dev)
    by_corpus = {n: rows_of(current, data[n]["dev"]) for n in names}
    best = choose(list(by_corpus.values()))
    per_corpus = [
        f"{name} {split}: {cell(trade_off(scored(current, data[name][split]), best.threshold))}"
        for name in names for split in splits
    ]
    text = "\n\n".join([
        "## Abstention: the confidence model and retrieval.min_confidence",
        f"Reproduce with `{COMMAND} --fit` (weights) and `{COMMAND}` (threshold). Every ask of every golden "
        f"question counts (multi-part questions by part); signals: {', '.join(confidence.SIGNALS)}.",
        "Fitted on one corpus and reported on the other, and fitted on both (precision / recall of the "
        "abstentions, and the share of answerable asks refused), each at the threshold chosen on what it was "
        "fitted on:",
        "\n".join(cross),
        f"Threshold on both dev splits ({len(pooled_dev)} asks, "
        f"{sum(not a.answerable for a in pooled_dev)} unanswerable), with finbot's weights:",
        table(rows, by_corpus, best.threshold),
        f"Chosen: **{best.threshold:.2f}**. At it (P / R / refused): " + "; ".join(per_corpus) + ".",
    ])
    print(text)
    if not args.dry_run and not args.dev_only:
        write_threshold(best.threshold)
        write_section("abstention", text)
        print(f"\nwrote retrieval.min_confidence: {best.threshold:.2f} to {CONFIG}", file=sys.stderr)


if __name__ == "__main__":
    main()
