"""`finbot eval` end to end on a small golden file, against the real index of corpus/."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.interfaces.cli import cli

pytestmark = pytest.mark.model

GOLDEN = """\
questions:
  - id: g1
    split: test
    kind: formula
    question: how is ARR calculated
    answerable: true
    expected_sources: [metrics/mrr.yaml]
    answer_facts: ["12"]
  - id: g2
    split: test
    kind: unanswerable
    question: what is the capital of france
    answerable: false
  - id: g3
    split: dev
    kind: schema
    question: which column of the payout reconciliation report is the arrival date
    answerable: true
    expected_sources: [reports/rpt_payout_reconciliation.yaml]
    answer_facts: ["arrival_date"]
"""


def run_eval(config: Path, golden: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "eval", "--golden", str(golden), *args], env=env)
    return result.exit_code, result.output


def test_eval_scores_the_split_and_writes_both_reports(indexed_config: Path, tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN)
    out_json, out_md = tmp_path / "eval.json", tmp_path / "eval.md"
    code, output = run_eval(indexed_config, golden, "--split", "test", "--json", str(out_json), "--report", str(out_md))
    assert code == 0, output
    data = json.loads(out_json.read_text())
    assert [q["id"] for q in data["questions"]] == ["g1", "g2"]  # the dev question is left out
    assert data["overall"]["questions"] == 2
    assert set(data["by_kind"]) == {"formula", "unanswerable"}
    assert data["questions"][1]["abstained"] is True
    report = out_md.read_text()
    for heading in ("# finbot eval: test split", "## Overall", "## By kind", "## Failures"):
        assert heading in report
    assert "| formula |" in output and "| unanswerable |" in output


def test_eval_exits_1_below_a_configured_minimum(indexed_config: Path, tmp_path: Path) -> None:
    golden = tmp_path / "golden.yaml"
    golden.write_text(GOLDEN.replace('answer_facts: ["12"]', 'answer_facts: ["a fact no document states"]'))
    code, output = run_eval(indexed_config, golden, "--split", "test", env={"FINBOT_EVAL__MIN_FACT_RECALL": "0.5"})
    assert code == 1
    assert "Below the eval.min_* gate: fact_recall 0.000 < 0.500" in output
