"""Recording answered questions in the feedback store: the per-interface switches, the outcome, what is (and is
not) kept, retention, an older store's upgrade, and `finbot ask` (the CLI) recording only when switched on."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.answering.answer import Answer, Source
from bot.config import Recording, load_config
from bot.errors import ConfigError
from bot.interfaces.cli import cli
from bot.interfaces.recording import Recorder, interface_of, session_user
from bot.interfaces.slack.feedback import FeedbackStore

ANSWER_TEXT = "Net revenue retention is cohort_net_retained_mrr / cohort_starting_mrr [1]."


def answer(answer_id: str, confidence: float = 0.9, abstained: bool = False) -> Answer:
    source = Source(1, "metrics/retention.yaml", "metrics.net_revenue_retention", 3, 9, 0.8, "snippet", "passage")
    return Answer(answer_id, f"question {answer_id}?", ANSWER_TEXT, abstained, [source], confidence)


def everything_in(db: Path) -> str:
    """Every value of every table, as one string."""
    with sqlite3.connect(db) as con:
        tables = [row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(str(row) for table in tables for row in con.execute(f"SELECT * FROM {table}"))


def test_each_interface_records_as_its_switch_says(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    recorder = Recorder(Recording(), db)
    assert not recorder.record(answer("c1"), "cli") and not recorder.record(answer("h1"), "http")
    assert not db.exists()  # nothing recorded, nothing created
    for interface in ("slack", "web", "mcp"):
        assert recorder.record(answer(interface), interface)
    assert [row["interface"] for row in FeedbackStore(db).recorded()] == ["slack", "web", "mcp"]

    everything = Recorder(Recording(cli=True, http=True), db)
    assert everything.record(answer("c2"), "cli") and everything.record(answer("h2"), "http")
    quiet = Recorder(Recording(slack=False, web=False, mcp=False), db)
    assert not any(quiet.record(answer(f"q{i}"), i) for i in ("slack", "web", "mcp"))
    assert len(FeedbackStore(db).recorded()) == 5


def test_the_outcome_confidence_and_source_paths_are_kept_but_not_the_answer(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    recorder = Recorder(Recording(low_confidence=0.5), db)
    recorder.record(answer("a", confidence=0.9), "web", user="session:0123456789")
    recorder.record(answer("b", confidence=0.45), "web")
    recorder.record(answer("c", confidence=0.1, abstained=True), "mcp")
    rows = FeedbackStore(db).recorded()
    assert [(r["id"], r["outcome"], r["confidence"]) for r in rows] == [
        ("a", "answered", 0.9), ("b", "low-confidence", 0.45), ("c", "refused", 0.1)
    ]
    assert rows[0]["sources"] == [{"path": "metrics/retention.yaml", "section": "metrics.net_revenue_retention"}]
    assert rows[0]["question"] == "question a?" and rows[0]["user"] == "session:0123456789"
    assert datetime.fromisoformat(rows[0]["asked_at"]) > datetime.now(UTC) - timedelta(minutes=5)
    stored = everything_in(db)
    assert "question a?" in stored and ANSWER_TEXT not in stored and "passage" not in stored


def test_old_rows_and_their_votes_are_pruned_on_write(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(db)
    recorder = Recorder(Recording(retention_days=90), db)
    recorder.record(answer("old"), "web")
    assert recorder.vote("old", "session:x", "down", "wrong", "web")
    slack_old = answer("slack-old")  # Slack's own answer, stored for its buttons, and recorded
    store.save_answer(slack_old, asked="q", user="U1", channel="C1", thread_ts=None)
    recorder.record(slack_old, "slack", user="U1")
    store.save_vote("slack-old", "U1", "C1", "up")
    recorder.record(answer("recent"), "web")
    long_ago = (datetime.now(UTC) - timedelta(days=91)).isoformat(timespec="seconds")
    week_ago = (datetime.now(UTC) - timedelta(days=7)).isoformat(timespec="seconds")
    with sqlite3.connect(db) as con:
        con.execute("UPDATE questions SET asked_at = ? WHERE id IN ('old', 'slack-old')", (long_ago,))
        con.execute("UPDATE questions SET asked_at = ? WHERE id = 'recent'", (week_ago,))

    Recorder(Recording(retention_days=0), db).record(answer("keep-all"), "web")  # 0: nothing is pruned
    assert {r["id"] for r in store.recorded()} == {"old", "slack-old", "recent", "keep-all"}

    recorder.record(answer("new"), "web")
    assert {r["id"] for r in store.recorded()} == {"recent", "keep-all", "new"}
    with sqlite3.connect(db) as con:
        votes = sorted(row[0] for row in con.execute("SELECT answer_id FROM votes"))
        slack_answers = [row[0] for row in con.execute("SELECT id FROM answers")]
    assert votes == ["slack-old"] and slack_answers == ["slack-old"]  # Slack's own table is left alone


def test_a_vote_needs_a_recorded_answer(tmp_path: Path) -> None:
    recorder = Recorder(Recording(), tmp_path / "feedback.sqlite3")
    assert not recorder.vote("never-asked", "session:x", "up", None)
    recorder.record(answer("a1"), "web")
    assert recorder.vote("a1", "session:x", "down", "It missed the cohort rule")
    [record] = FeedbackStore(tmp_path / "feedback.sqlite3").feedback()
    assert (record.vote, record.comment, record.asked, record.abstained) == (
        "down", "It missed the cohort rule", "question a1?", False
    )


def test_a_store_from_before_recording_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(db) as con:  # the schema finbot shipped before this change
        con.executescript("""
            CREATE TABLE answers (id TEXT PRIMARY KEY, question TEXT NOT NULL, asked TEXT NOT NULL,
                answer TEXT NOT NULL, abstained INTEGER NOT NULL, sources TEXT NOT NULL, user TEXT, channel TEXT,
                thread_ts TEXT, answered_at TEXT NOT NULL);
            CREATE TABLE votes (answer_id TEXT NOT NULL, user TEXT NOT NULL, channel TEXT, vote TEXT NOT NULL,
                comment TEXT, voted_at TEXT NOT NULL, PRIMARY KEY (answer_id, user));
            CREATE VIEW feedback AS SELECT v.answer_id, a.question, v.vote FROM votes v
                LEFT JOIN answers a ON a.id = v.answer_id;
            INSERT INTO answers VALUES ('s1', 'q?', 'q?', 'a', 0, '[]', 'U1', 'C1', NULL, '2026-01-01T00:00:00+00:00');
            INSERT INTO votes VALUES ('s1', 'U1', 'C1', 'up', NULL, '2026-01-01T00:00:01+00:00');
        """)
    store = FeedbackStore(db)
    [record] = store.feedback()
    assert (record.answer_id, record.asked, record.vote) == ("s1", "q?", "up")
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT interface FROM feedback").fetchall() == [("slack",)]
    assert Recorder(Recording(), db).record(answer("w1"), "web")


def test_a_store_that_cannot_be_written_costs_no_answer(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    assert not Recorder(Recording(), blocker / "feedback.sqlite3").record(answer("x"), "web")


def test_the_page_is_told_apart_from_plain_api_calls() -> None:
    assert interface_of("web") == "web" and interface_of(" Web ") == "web" and interface_of("cli") == "cli"
    assert interface_of(None) == "http" and interface_of("slack") == "http"  # only the page and the CLI say so
    assert session_user("0123456789abcdef", "addr:127.0.0.1") == "session:0123456789abcdef"
    assert session_user("<script>", "key:0badcafe") == "key:0badcafe"  # a malformed id is not trusted


def test_recording_config_keys_and_their_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"recording": {"retention_days": 30, "cli": True}}))
    config = load_config(path)
    assert (config.recording.retention_days, config.recording.cli, config.recording.web) == (30, True, True)
    monkeypatch.setenv("FINBOT_RECORDING__HTTP", "true")
    assert load_config(path).recording.http is True
    path.write_text(yaml.safe_dump({"recording": {"retention_days": -1, "webb": True}}))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert "recording.retention_days: must be greater than or equal to 0" in str(error.value)
    assert "recording.webb: unknown key" in str(error.value)


@pytest.mark.model
def test_finbot_ask_records_only_with_recording_cli_on(indexed_config: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(indexed_config.read_text())
    db = tmp_path / "feedback.sqlite3"
    data["slack"] = {"feedback_db": str(db)}
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data))
    asked = ["--config", str(config), "ask", "--local", "--json", "How is net revenue retention calculated?"]
    result = CliRunner().invoke(cli, asked)
    assert result.exit_code == 0, result.output
    assert not db.exists()  # recording.cli is off by default

    data["recording"] = {"cli": True}
    config.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, asked)
    assert result.exit_code == 0, result.output
    [row] = FeedbackStore(db).recorded()
    body = json.loads(result.output)
    assert (row["interface"], row["question"], row["outcome"]) == (
        "cli", "How is net revenue retention calculated?", "answered"
    )
    assert row["sources"][0]["path"] == body["sources"][0]["path"] == "metrics/retention.yaml"
