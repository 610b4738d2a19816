"""Choose retrieval.min_confidence on the golden dev split and write it into config.yaml.

    .venv/bin/python bench/calibrate_abstention.py            # print, write config.yaml and docs/benchmarks.md
    .venv/bin/python bench/calibrate_abstention.py --dry-run  # print only

Ingests corpus/ into a fresh temporary index, asks every dev question, and prints abstention
precision and recall (and how many answerable questions would be refused) for each threshold. The
chosen threshold maximises F1 of the abstention decision on dev (ties go to the lower threshold, which
refuses fewer real questions). The test split is then asked once at that threshold, to report only.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks_md import write_section  # bench/ is sys.path[0] when a script here runs
from golden_eval import build_index

from bot.answer import Answerer, load_answerer
from bot.config import load_config
from bot.golden import load_golden

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


def trade_off(points: list[tuple[float, bool]], threshold: float) -> Point:
    abstained = [answerable for confidence, answerable in points if confidence < threshold]
    unanswerable = sum(not answerable for _, answerable in points)
    right = sum(not answerable for answerable in abstained)
    precision = right / len(abstained) if abstained else None
    return Point(threshold, len(abstained), precision, right / unanswerable if unanswerable else 0.0, sum(abstained))


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
    args = parser.parse_args()
    base = load_config(CONFIG)
    with tempfile.TemporaryDirectory() as tmp:
        config = base.model_copy(update={"index": base.index.model_copy(update={"path": Path(tmp)})})
        build_index(config)
        answerer = load_answerer(config)
        dev = confidences(answerer, "dev")
        rows = [trade_off(dev, t) for t in THRESHOLDS]
        best = max(rows, key=lambda p: (round(p.f1, 6), -p.threshold))
        test = trade_off(confidences(answerer, "test"), best.threshold)
    test_precision = "n/a" if test.precision is None else f"{test.precision:.3f}"
    text = "\n\n".join([
        "## Abstention threshold (retrieval.min_confidence)",
        f"Reproduce with `{COMMAND}`: chosen on the dev split ({len(dev)} questions, "
        f"{sum(not a for _, a in dev)} unanswerable) as the threshold with the best F1 of the abstention decision; "
        f"`retrieval.mode` {base.retrieval.mode}, `retrieval.glossary` {str(base.retrieval.glossary).lower()}.",
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
