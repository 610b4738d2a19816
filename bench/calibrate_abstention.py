"""Choose retrieval.min_confidence on the golden dev split and write it into config.yaml.

    .venv/bin/python bench/calibrate_abstention.py            # print, write config.yaml and docs/benchmarks.md
    .venv/bin/python bench/calibrate_abstention.py --dry-run  # print only
    .venv/bin/python bench/calibrate_abstention.py --fit      # refit bot/answering/confidence.py's weights

Ingests corpus/ into a fresh temporary index, asks every dev question, and prints abstention
precision and recall (and how many answerable questions would be refused) for each threshold. The
chosen threshold maximises F1 of the abstention decision on dev (of several with the same F1, the middle
one: the furthest from a question flipping). The test split is then asked once at that threshold, to
report only.

--fit refits the logistic model of bot/answering/confidence.py on the dev split instead (questions refused as figure
requests left out; signals standardized, L2 as scikit-learn's default) and prints its weights, with the
leave-one-out precision and recall they give; copy them into bot/answering/confidence.py, then run the script again
without --fit to choose the threshold.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs
from golden_eval import build_index

from bot.answering import confidence
from bot.answering.answerer import Answerer, figure_period, load_answerer
from bot.config import load_config
from bot.evaluation.golden import load_golden

if TYPE_CHECKING:
    import numpy as np

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "config.yaml"
COMMAND = ".venv/bin/python bench/calibrate_abstention.py"
THRESHOLDS = [round(0.30 + 0.02 * i, 2) for i in range(34)]  # 0.30 .. 0.96


@dataclass(frozen=True)
class Point:
    threshold: float
    abstained: int
    precision: float | None
    recall: float
    refused: int  # answerable questions that would get "I couldn't find this"

    @property
    def f1(self) -> float:
        p = self.precision or 0.0
        return 2 * p * self.recall / (p + self.recall) if p + self.recall else 0.0


def confidences(answerer: Answerer, split: str) -> list[tuple[float, bool]]:
    """(confidence, answerable) for every golden question of the split."""
    questions = load_golden(load_config(CONFIG).eval.golden, split)
    return [(answerer.ask(q.question).confidence, q.answerable) for q in questions]


def fit(answerer: Answerer) -> str:
    """Refit the confidence model on dev; the weights, and how they abstain when each question is left out."""
    import numpy as np

    rows, labels = [], []
    for question in load_golden(load_config(CONFIG).eval.golden, "dev"):
        found = answerer.retriever.retrieve(question.question, answerer.top_k)
        if found.candidates and not figure_period(question.question, found):
            rows.append(confidence.signals(found))
            labels.append(float(question.answerable))
    x, y = np.array(rows), np.array(labels)
    weights = logistic_fit(x, y)
    left_out = [
        float(logistic(logistic_fit(np.delete(x, i, 0), np.delete(y, i)), x[i])) for i in range(len(y))
    ]
    points = list(zip(left_out, [bool(a) for a in y], strict=True))
    best = choose([trade_off(points, t) for t in THRESHOLDS])
    names = ("BIAS", "SIMILARITY", "COVERAGE", "GLOSSARY", "COLUMNS")
    return "\n".join([
        f"Fitted on {len(y)} dev questions ({int(len(y) - y.sum())} unanswerable); for bot/answering/confidence.py:",
        *(f"{name} = {value:.2f}" for name, value in zip(names, weights, strict=True)),
        f"Leave-one-out at its best threshold {best.threshold:.2f}: precision {best.precision or 0:.3f}, "
        f"recall {best.recall:.3f}, {best.refused} answerable refused.",
    ])


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


def logistic(weights: np.ndarray, row: np.ndarray) -> float:
    import numpy as np

    return float(1 / (1 + np.exp(-(weights[0] + row @ weights[1:]))))


def trade_off(points: list[tuple[float, bool]], threshold: float) -> Point:
    abstained = [answerable for confidence, answerable in points if confidence < threshold]
    unanswerable = sum(not answerable for _, answerable in points)
    right = sum(not answerable for answerable in abstained)
    precision = right / len(abstained) if abstained else None
    return Point(threshold, len(abstained), precision, right / unanswerable if unanswerable else 0.0, sum(abstained))


def choose(rows: list[Point]) -> Point:
    """The threshold in the middle of those with the best F1: as far as the dev split allows from a
    question flipping either way."""
    top = max(round(p.f1, 6) for p in rows)
    best = [p for p in rows if round(p.f1, 6) == top]
    return best[(len(best) - 1) // 2]


def table(rows: list[Point], chosen: float) -> str:
    lines = ["| min_confidence | abstained | precision | recall | F1 | answerable refused |", "|---" * 6 + "|"]
    for p in rows:
        mark = " **chosen**" if p.threshold == chosen else ""
        precision = "n/a" if p.precision is None else f"{p.precision:.3f}"
        lines.append(
            f"| {p.threshold:.2f}{mark} | {p.abstained} | {precision} | {p.recall:.3f} | {p.f1:.3f} | {p.refused} |"
        )
    return "\n".join(lines)


def write_threshold(threshold: float) -> None:
    text = CONFIG.read_text()
    updated, count = re.subn(r"(?m)^(\s*min_confidence:\s*)[0-9.]+", rf"\g<1>{threshold:.2f}", text)
    if count != 1:
        raise SystemExit(f"{CONFIG}: expected one 'min_confidence:' line under retrieval:, found {count}")
    CONFIG.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print only; change no file")
    parser.add_argument(
        "--fit", action="store_true", help="refit bot/answering/confidence.py's weights on dev and print them"
    )
    args = parser.parse_args()
    base = load_config(CONFIG)
    with tempfile.TemporaryDirectory() as tmp:
        config = base.model_copy(update={"index": base.index.model_copy(update={"path": Path(tmp)})})
        build_index(config)
        answerer = load_answerer(config)
        if args.fit:
            print(fit(answerer))
            return
        dev = confidences(answerer, "dev")
        rows = [trade_off(dev, t) for t in THRESHOLDS]
        best = choose(rows)
        test = trade_off(confidences(answerer, "test"), best.threshold)
    test_precision = "n/a" if test.precision is None else f"{test.precision:.3f}"
    text = "\n\n".join([
        "## Abstention threshold (retrieval.min_confidence)",
        f"Reproduce with `{COMMAND}`: chosen on the dev split ({len(dev)} questions, "
        f"{sum(not a for _, a in dev)} unanswerable) as the middle of the thresholds with the best F1 of the "
        f"abstention decision; `retrieval.mode` {base.retrieval.mode}, "
        f"`retrieval.glossary` {str(base.retrieval.glossary).lower()}.",
        table(rows, best.threshold),
        f"Chosen: **{best.threshold:.2f}**. On the test split at that threshold: abstention precision "
        f"{test_precision}, recall {test.recall:.3f} ({test.abstained} abstentions, {test.refused} of them on "
        "answerable questions).",
    ])
    print(text)
    if not args.dry_run:
        write_threshold(best.threshold)
        write_section("abstention", text)
        print(f"\nwrote retrieval.min_confidence: {best.threshold:.2f} to {CONFIG}", file=sys.stderr)


if __name__ == "__main__":
    main()
