"""Incremental ingest against a real Chroma and the real model: add, change, delete, bad input, kills, locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.config import load_config
from bot.interfaces.cli import cli
from ingest import pipeline, store
from ingest.lock import ingest_lock
from ingest.sources import SourceFile
from tests.conftest import write_config

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]


def write_policy(folder: Path, name: str, sections: int = 3, topic: str = "refunds") -> Path:
    """A small Markdown policy with one chunk per section."""
    path = folder / "policies" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = [f"# {name.replace('_', ' ').title()}", ""]
    for n in range(sections):
        body += [f"## Rule {n + 1}", "", f"Rule {n + 1} of the {topic} policy: approvals above {n + 1},000 USD.", ""]
    path.write_text("\n".join(body))
    return path


def ingest(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "ingest", *args])


def open_index(config: Path) -> store.ChunkIndex:
    settings = load_config(config)
    return store.open_index(settings.index.path, settings.index.collection, settings.embedding.model, create=False)


def snapshot(config: Path) -> dict[str, tuple[str, dict[str, object]]]:
    """id -> (text, metadata) of every chunk in the index."""
    got = open_index(config).collection.get(include=["documents", "metadatas"])
    return {
        id_: (doc or "", dict(meta or {}))
        for id_, doc, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)
    }


def paths_in(config: Path) -> dict[str, int]:
    return {path: held.chunks for path, held in open_index(config).files().items()}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write_policy(folder, "refunds")
    write_policy(folder, "travel", topic="travel")
    write_policy(folder, "close", topic="month-end close")
    return folder


@pytest.fixture
def config(tmp_path: Path, corpus: Path) -> Path:
    return write_config(tmp_path, corpus)


def test_a_rerun_touches_only_what_changed(config: Path, corpus: Path) -> None:
    first = ingest(config)
    assert first.exit_code == 0, first.output
    assert "3 added, 0 updated, 0 unchanged, 0 deleted" in first.output
    before = snapshot(config)

    again = ingest(config)
    assert "0 added, 0 updated, 3 unchanged, 0 deleted, 0 skipped, 0 failed; 0 chunks written" in again.output
    assert snapshot(config) == before

    write_policy(corpus, "travel", sections=5, topic="travel")  # changed: 3 -> 5 rules
    (corpus / "policies" / "close.md").unlink()  # gone
    write_policy(corpus, "expenses", topic="expenses")  # new
    third = ingest(config)
    assert third.exit_code == 0, third.output
    assert "1 added, 1 updated, 1 unchanged, 1 deleted" in third.output
    assert paths_in(config) == {"policies/refunds.md": 3, "policies/travel.md": 5, "policies/expenses.md": 3}
    after = snapshot(config)
    refunds = {id_: row for id_, row in before.items() if row[1]["path"] == "policies/refunds.md"}
    assert all(after[id_] == row for id_, row in refunds.items()), "an unchanged file was rewritten"


def test_dry_run_prints_the_plan_and_writes_nothing(config: Path, corpus: Path) -> None:
    assert ingest(config).exit_code == 0
    before = snapshot(config)
    write_policy(corpus, "expenses")
    (corpus / "policies" / "close.md").unlink()
    (corpus / "notes.docx").write_bytes(b"PK\x03\x04")

    result = ingest(config, "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "add    policies/expenses.md" in lines
    assert "delete policies/close.md" in lines
    assert "skip   notes.docx" in lines
    assert "1 to add, 0 to update, 2 unchanged, 1 to delete, 1 skipped" in result.output
    assert snapshot(config) == before


def test_dry_run_before_any_ingest_creates_nothing(config: Path, tmp_path: Path) -> None:
    result = ingest(config, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 to add" in result.output
    assert not (tmp_path / "index" / "chroma.sqlite3").exists()


PDF = (REPO / "corpus" / "policies" / "travel_and_expense_policy.pdf").read_bytes()

BAD_FILES = {
    "broken PDF": ("policies/travel.pdf", PDF[: len(PDF) // 2], "cannot read this PDF"),
    "unreadable": ("policies/refunds.md", None, "cannot read file (Permission denied)"),
    "invalid YAML": ("metrics/arr.yaml", b"metrics:\n  - name: arr\n    label: ARR: annual\n", "line 3"),
    "empty": ("policies/refunds.md", b"  \n\n", "is empty; add content or delete the file"),
    "binary": ("policies/refunds.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "looks binary"),
    "not UTF-8": ("policies/refunds.md", b"# Refunds\n\nCaf\xe9 expenses\n", "line 3: not valid UTF-8"),
    "oversized": (
        "policies/refunds.md",
        b"# Refunds\n\n" + b"All refunds need a ticket.\n" * 4000,
        "is 0.108011 MB, over the 0.1 MB limit (corpus.max_file_mb); split the file or raise the limit",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_named_and_keeps_its_old_chunks(tmp_path: Path, corpus: Path, case: str) -> None:
    rel, data, message = BAD_FILES[case]
    if data is None and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its permissions")
    good = corpus / "metrics" / "arr.yaml"
    good.parent.mkdir()
    good.write_text("metrics:\n  - name: arr\n    label: ARR\n    description: Annual recurring revenue.\n")
    (corpus / "policies" / "travel.pdf").write_bytes(PDF)
    config = write_config(tmp_path, corpus)
    config.write_text(config.read_text().replace("corpus:\n", "corpus:\n  max_file_mb: 0.1\n"))
    assert ingest(config).exit_code == 0
    before = snapshot(config)
    assert any(meta["path"] == rel for _, meta in before.values())

    if data is None:
        (corpus / rel).write_text("# Refunds\n\nChanged, but nobody may read it.\n")
        (corpus / rel).chmod(0)
    else:
        (corpus / rel).write_bytes(data)
    write_policy(corpus, "expenses")  # the run goes on with the other files
    result = ingest(config)

    assert result.exit_code == 1
    error_lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1 and rel in error_lines[0] and message in error_lines[0], result.output
    assert "1 added, 0 updated, 4 unchanged, 0 deleted, 0 skipped, 1 failed" in result.output
    after = snapshot(config)
    assert {id_: row for id_, row in after.items() if row[1]["path"] == rel} == {
        id_: row for id_, row in before.items() if row[1]["path"] == rel
    }
    assert "policies/expenses.md" in paths_in(config)


def test_an_empty_corpus_folder_does_not_wipe_the_index(config: Path, corpus: Path) -> None:
    assert ingest(config).exit_code == 0
    for path in (corpus / "policies").iterdir():
        path.unlink()
    result = ingest(config)
    assert result.exit_code == 1
    assert "refusing to delete them all" in result.output
    assert len(paths_in(config)) == 3


def test_a_half_written_file_is_rewritten_whole(config: Path, corpus: Path) -> None:
    """What a run killed between two writes of one file leaves behind is repaired, not trusted."""
    settings = load_config(config)
    index = store.open_index(settings.index.path, settings.index.collection, "", create=True)
    source = SourceFile(corpus, corpus / "policies" / "refunds.md")
    todo = pipeline.plan([corpus], index)
    fingerprint = next(c.fingerprint for c in todo.add if c.source == source)
    nodes = pipeline.build_nodes(source, todo.context, fingerprint)
    pipeline.embed_nodes(nodes, store.load_bulk_embed_model())
    index.add(nodes[:1])  # the run died after the first of three chunks
    held = index.files()["policies/refunds.md"]
    assert (held.fingerprint, held.chunks, held.expected_chunks) == (fingerprint, 1, 3)  # same content, incomplete

    plan = pipeline.plan([corpus], index)
    assert [c.source.rel for c in plan.update] == ["policies/refunds.md"]
    assert ingest(config).exit_code == 0
    assert paths_in(config) == {"policies/refunds.md": 3, "policies/travel.md": 3, "policies/close.md": 3}


def test_links_out_of_the_corpus_are_not_followed(tmp_path: Path, config: Path, corpus: Path) -> None:
    outside = tmp_path / "outside"
    write_policy(outside, "secret_salaries")
    (corpus / "salaries.md").symlink_to(outside / "policies" / "secret_salaries.md")
    (corpus / "private").symlink_to(outside / "policies", target_is_directory=True)
    (corpus / "refunds_link.md").symlink_to(corpus / "policies" / "refunds.md")  # inside: followed
    (corpus / "policies_again").symlink_to(corpus / "policies", target_is_directory=True)  # inside: not walked twice

    result = ingest(config)
    assert result.exit_code == 0, result.output
    assert set(paths_in(config)) == {
        "policies/refunds.md", "policies/travel.md", "policies/close.md", "refunds_link.md"
    }
    assert "2 skipped" in result.output


def test_a_second_ingest_exits_with_a_clear_message(config: Path, tmp_path: Path) -> None:
    with ingest_lock(tmp_path / "index"):
        result = ingest(config)
    assert result.exit_code == 1
    assert "Another 'finbot ingest' (pid " in result.output
    assert "pass --wait" in result.output
    assert ingest(config).exit_code == 0  # the lock went with its holder


def finbot(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )


def test_wait_queues_behind_the_running_ingest(config: Path, tmp_path: Path) -> None:
    with ingest_lock(tmp_path / "index"):
        waiting = finbot(config, "ingest", "--wait")
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=3)  # still blocked while we hold the lock
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert "3 added" in out


def test_a_killed_run_converges_to_a_clean_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for n in range(40):
        write_policy(corpus, f"policy_{n:02d}", sections=20, topic=f"topic {n}")  # 800 chunks: several write groups
    (tmp_path / "killed").mkdir()
    (tmp_path / "clean").mkdir()
    killed = write_config(tmp_path / "killed", corpus)
    clean = write_config(tmp_path / "clean", corpus)

    run = finbot(killed, "ingest")
    assert run.stderr is not None
    line = run.stderr.readline()  # the first "k/40 files done" line: one write group is in
    while line and "files done" not in line:
        line = run.stderr.readline()
    assert "files done" in line, "the ingest ended before writing anything"
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    assert run.returncode == -signal.SIGKILL
    partial = paths_in(killed)
    assert 0 < len(partial) < 40

    resumed = ingest(killed)
    assert resumed.exit_code == 0, resumed.output
    assert ingest(clean).exit_code == 0
    assert snapshot(killed) == snapshot(clean)
    assert sum(paths_in(killed).values()) == 800


def test_rebuild_starts_from_scratch(config: Path) -> None:
    assert ingest(config).exit_code == 0
    result = ingest(config, "--rebuild")
    assert result.exit_code == 0, result.output
    assert "3 added, 0 updated, 0 unchanged" in result.output


def test_editing_a_docs_block_reindexes_the_yaml_that_quotes_it(config: Path, corpus: Path) -> None:
    docs = corpus / "reports" / "docs.md"
    docs.parent.mkdir()
    docs.write_text("# Docs\n\n{% docs arrival_date %}\nThe date the payout reaches the bank.\n{% enddocs %}\n")
    schema = corpus / "reports" / "payouts.yml"
    schema.write_text(
        "models:\n  - name: rpt_payouts\n    description: Payouts.\n    columns:\n"
        "      - name: arrival_date\n        description: '{{ doc(\"arrival_date\") }}'\n"
    )
    assert ingest(config).exit_code == 0

    docs.write_text(docs.read_text().replace("reaches the bank", "is expected at the bank"))
    result = ingest(config)
    assert "0 added, 2 updated, 3 unchanged" in result.output
    texts = [text for text, meta in snapshot(config).values() if meta["path"] == "reports/payouts.yml"]
    assert any("is expected at the bank" in text for text in texts)


def test_rebuild_of_a_missing_or_empty_folder_keeps_the_index(config: Path, corpus: Path, tmp_path: Path) -> None:
    assert ingest(config).exit_code == 0
    before = snapshot(config)
    missing = ingest(config, "--rebuild", str(tmp_path / "typo"))
    assert missing.exit_code == 1 and "does not exist" in missing.output
    (tmp_path / "empty").mkdir()
    empty = ingest(config, "--rebuild", str(tmp_path / "empty"))
    assert empty.exit_code == 1 and "--rebuild would leave the index empty" in empty.output
    assert snapshot(config) == before


def test_a_pathological_file_fails_alone(config: Path, corpus: Path) -> None:
    (corpus / "deep.json").write_text("[" * 5000 + "]" * 5000)
    result = ingest(config)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "deep.json" in errors[0] and "RecursionError" in errors[0], result.output
    assert "3 added" in result.output
    assert "Traceback" not in result.output
