"""The feedback store: every answer Slack posted and every vote on it (Slack's and the page's), and the questions
every interface records (bot/interfaces/recording.py), in one SQLite file (WAL mode).

Slack's answers are stored when posted, so a later click finds the question, answer and sources by answer id,
and so a thread's earlier turns can be found for follow-ups. `finbot feedback export` reads the votes back;
`finbot gaps` reads the recorded questions (and Slack's answers) that were refused, unsure or voted down.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from bot.errors import FinbotError

if TYPE_CHECKING:
    from bot.answering.answer import Answer

Vote = Literal["up", "down"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    question TEXT NOT NULL,      -- what the answerer was asked (a follow-up carries its thread's context)
    asked TEXT NOT NULL,         -- the user's own words
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    sources TEXT NOT NULL,       -- JSON: the `sources` list of POST /v1/ask
    user TEXT,
    channel TEXT,
    thread_ts TEXT,              -- the Slack thread the answer went to; NULL for slash commands
    answered_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_thread ON answers (channel, thread_ts);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL,
    user TEXT NOT NULL,
    channel TEXT,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    comment TEXT,
    voted_at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user)  -- one vote per person per answer; clicking again changes it
);
CREATE TABLE IF NOT EXISTS questions (  -- recorded questions of every interface (recording.*), for `finbot gaps`
    id TEXT PRIMARY KEY,         -- the answer id (votes.answer_id)
    interface TEXT NOT NULL,     -- slack, web, http, mcp or cli
    question TEXT NOT NULL,      -- the user's own words; no answer text is kept
    outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'refused', 'low-confidence')),
    confidence REAL NOT NULL,
    sources TEXT NOT NULL,       -- JSON: [{"path", "section"}] of the answer's sources, in rank order
    user TEXT,                   -- Slack user, the page's browser-session id, or the API caller
    channel TEXT,
    asked_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS questions_by_time ON questions (asked_at);
"""

# Rebuilt on every open, so a store made by an older finbot gets the newer view.
VIEW = """
DROP VIEW IF EXISTS feedback;
CREATE VIEW feedback AS
    SELECT v.answer_id, COALESCE(a.question, q.question) AS question, COALESCE(a.asked, q.question) AS asked,
           a.answer, COALESCE(a.abstained, q.outcome = 'refused') AS abstained,
           COALESCE(a.sources, q.sources) AS sources, v.user, v.channel, v.vote, v.comment, v.voted_at,
           COALESCE(a.answered_at, q.asked_at) AS answered_at, v.interface
    FROM votes v LEFT JOIN answers a ON a.id = v.answer_id LEFT JOIN questions q ON q.id = v.answer_id;
"""

Outcome = Literal["answered", "refused", "low-confidence"]


class NoFeedbackError(FinbotError):
    """There is no feedback database to read yet."""


@dataclass(frozen=True)
class FeedbackRecord:
    """One vote with the answer it is about (question and answer are None if that answer was never stored)."""

    answer_id: str
    question: str | None
    asked: str | None
    answer: str | None
    abstained: bool | None
    sources: list[dict[str, Any]]
    user: str
    channel: str | None
    vote: Vote
    comment: str | None
    voted_at: str
    answered_at: str | None


@dataclass(frozen=True)
class GapQuestion:
    """A stored answer the documents may not cover: it abstained, or someone gave it a thumbs-down."""

    answer_id: str
    asked: str
    abstained: bool
    down_votes: int
    sources: list[dict[str, Any]]
    user: str | None
    answered_at: str
    low_confidence: bool = False
    interface: str = "slack"


class FeedbackStore:
    """Opens (and creates) the SQLite file; one short connection per call, so threads may share the store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # readers (an export) never block the bot's writes
            db.executescript(SCHEMA)
            columns = {row["name"] for row in db.execute("PRAGMA table_info(votes)")}
            if "interface" not in columns:  # a store from before votes came from the page too
                db.execute("ALTER TABLE votes ADD COLUMN interface TEXT NOT NULL DEFAULT 'slack'")
            db.executescript(VIEW)

    @classmethod
    def open_existing(cls, path: Path) -> FeedbackStore:
        if not path.exists():
            raise NoFeedbackError(
                f"No feedback at {path} yet: it is created when finbot first answers in Slack or records a "
                "question (recording.* in the config). Check slack.feedback_db in the config."
            )
        return cls(path)

    def save_answer(
        self, answer: Answer, *, asked: str, user: str | None, channel: str | None, thread_ts: str | None
    ) -> None:
        sources = json.dumps(answer.to_dict()["sources"], ensure_ascii=False)
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer.id, answer.question, asked, answer.text, answer.abstained, sources, user, channel,
                 thread_ts, _now()),
            )

    def answer_text(self, answer_id: str) -> str | None:
        """The text of a recorded answer (a value answer's holds its SQL), or None when it is not recorded."""
        with self._connect() as db:
            row = db.execute("SELECT answer FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return str(row[0]) if row else None

    def thread_turns(self, channel: str, thread_ts: str) -> list[str]:
        """The user's words of every question answered in this thread, oldest first ([] if none)."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT asked FROM answers WHERE channel = ? AND thread_ts = ? ORDER BY answered_at, rowid",
                (channel, thread_ts),
            ).fetchall()
        return [row[0] for row in rows]

    def save_vote(
        self, answer_id: str, user: str, channel: str | None, vote: Vote, interface: str = "slack"
    ) -> bool:
        """Record (or change) `user`'s vote; False when the answer id is unknown (stored all the same)."""
        with self._connect() as db:
            db.execute(
                """INSERT INTO votes (answer_id, user, channel, vote, voted_at, interface) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (answer_id, user) DO UPDATE SET
                       comment = CASE WHEN vote = excluded.vote THEN comment END,
                       vote = excluded.vote, channel = excluded.channel, voted_at = excluded.voted_at""",
                (answer_id, user, channel, vote, _now(), interface),
            )
        return self.knows(answer_id)

    def save_comment(
        self, answer_id: str, user: str, channel: str | None, comment: str, interface: str = "slack"
    ) -> None:
        """The "what was wrong?" text, on the user's thumbs-down for that answer."""
        with self._connect() as db:
            db.execute(
                """INSERT INTO votes (answer_id, user, channel, vote, comment, voted_at, interface)
                   VALUES (?, ?, ?, 'down', ?, ?, ?)
                   ON CONFLICT (answer_id, user) DO UPDATE SET vote = 'down', comment = excluded.comment""",
                (answer_id, user, channel, comment, _now(), interface),
            )

    def knows(self, answer_id: str) -> bool:
        """Whether this answer was stored (Slack) or recorded (any interface)."""
        with self._connect() as db:
            found = db.execute(
                "SELECT 1 FROM answers WHERE id = ? UNION ALL SELECT 1 FROM questions WHERE id = ?",
                (answer_id, answer_id),
            ).fetchone()
        return found is not None

    def record_question(
        self, answer: Answer, *, interface: str, outcome: Outcome, user: str | None = None,
        channel: str | None = None, asked: str | None = None, retention_days: int = 0,
    ) -> None:
        """One answered question for `finbot gaps` (no answer text); then rows older than `retention_days`
        (0: none) are deleted, with the votes on them unless Slack's answers table also holds that answer."""
        sources = json.dumps([{"path": s.path, "section": s.section} for s in answer.sources], ensure_ascii=False)
        now = datetime.now(UTC)
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO questions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer.id, interface, asked or answer.question, outcome, float(answer.confidence), sources, user,
                 channel, now.isoformat(timespec="seconds")),
            )
            if retention_days > 0:
                cutoff = (now - timedelta(days=retention_days)).isoformat(timespec="seconds")
                db.execute(
                    """DELETE FROM votes WHERE answer_id IN (SELECT id FROM questions WHERE asked_at < ?)
                       AND answer_id NOT IN (SELECT id FROM answers)""",
                    (cutoff,),
                )
                db.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,))

    def recorded(self) -> list[dict[str, Any]]:
        """Every recorded question, oldest first (for tests and inspection)."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM questions ORDER BY asked_at, rowid").fetchall()
        return [{**dict(row), "sources": json.loads(row["sources"])} for row in rows]

    def feedback(self) -> list[FeedbackRecord]:
        """Every vote with its answer, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM feedback ORDER BY voted_at, answer_id, user").fetchall()
        return [
            FeedbackRecord(
                answer_id=row["answer_id"], question=row["question"], asked=row["asked"], answer=row["answer"],
                abstained=None if row["abstained"] is None else bool(row["abstained"]),
                sources=json.loads(row["sources"] or "[]"), user=row["user"], channel=row["channel"],
                vote=row["vote"], comment=row["comment"], voted_at=row["voted_at"], answered_at=row["answered_at"],
            )
            for row in rows
        ]

    def gap_questions(self, since: str | None = None) -> list[GapQuestion]:
        """Questions that were refused, answered with low confidence or got a thumbs-down, asked at or after
        `since` (ISO, UTC), oldest first: recorded questions of every interface, and Slack's stored answers
        that have no record of their own (recording.slack off, or stored before recording existed)."""
        down = "(SELECT count(*) FROM votes v WHERE v.answer_id = {0}.id AND v.vote = 'down')"
        with self._connect() as db:
            rows = db.execute(
                f"""SELECT * FROM (
                       SELECT q.id, q.question AS asked, q.outcome = 'refused' AS abstained,
                              q.outcome = 'low-confidence' AS low, q.sources, q.user, q.asked_at AS answered_at,
                              q.interface, {down.format('q')} AS down_votes, q.rowid AS n, 1 AS recorded
                       FROM questions q WHERE q.asked_at >= ?
                       UNION ALL
                       SELECT a.id, a.asked, a.abstained, 0, a.sources, a.user, a.answered_at, 'slack',
                              {down.format('a')}, a.rowid, 0
                       FROM answers a WHERE a.answered_at >= ? AND a.id NOT IN (SELECT id FROM questions)
                   ) WHERE abstained OR low OR down_votes > 0
                   ORDER BY answered_at, recorded, n""",
                (since or "", since or ""),
            ).fetchall()
        return [
            GapQuestion(row["id"], row["asked"], bool(row["abstained"]), row["down_votes"],
                        json.loads(row["sources"] or "[]"), row["user"], row["answered_at"], bool(row["low"]),
                        row["interface"])
            for row in rows
        ]

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            with db:  # commit, or roll back on error
                yield db
        finally:
            db.close()


def to_export(record: FeedbackRecord) -> dict[str, Any]:
    """One exported row, with golden-set fields pre-filled where the vote allows it.

    A thumbs-up on an answer says its quoted sources ([n] in the text) answer the question, so they become
    `expected_sources`; a thumbs-up on an abstention says the documents don't cover it (`answerable: false`).
    A thumbs-down leaves both for a reviewer (`answerable: null`), with the comment as the hint.
    """
    cited = [str(s.get("path")) for s in record.sources]
    quoted = _quoted_paths(record.answer or "", record.sources)
    if record.vote == "up" and record.abstained is not None:
        answerable: bool | None = not record.abstained
        expected = [] if record.abstained else quoted
    else:
        answerable, expected = None, []
    return {
        "answer_id": record.answer_id,
        "question": record.question,
        "asked": record.asked,
        "vote": record.vote,
        "comment": record.comment,
        "answerable": answerable,
        "expected_sources": expected,
        "cited_sources": cited,
        "answer": record.answer,
        "abstained": record.abstained,
        "sources": record.sources,
        "user": record.user,
        "channel": record.channel,
        "voted_at": record.voted_at,
        "answered_at": record.answered_at,
    }


# The keys of `to_export`, in its order: the CSV header.
EXPORT_COLUMNS = [
    "answer_id", "question", "asked", "vote", "comment", "answerable", "expected_sources", "cited_sources",
    "answer", "abstained", "sources", "user", "channel", "voted_at", "answered_at",
]


def write_export(records: list[FeedbackRecord], fmt: Literal["jsonl", "csv"], out: TextIO) -> None:
    """JSON Lines (one object per vote), or CSV with path lists joined by "; " and `sources` as JSON."""
    rows = [to_export(record) for record in records]
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_cell(key, value) for key, value in row.items()})


def _csv_cell(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if key == "sources":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "; ".join(value)
    return str(value)


def _quoted_paths(text: str, sources: list[dict[str, Any]]) -> list[str]:
    """Paths of the sources whose [n] marker appears in the answer text, in marker order, without repeats."""
    by_n = {s.get("n"): str(s.get("path")) for s in sources}
    paths: list[str] = []
    for n in re.findall(r"\[(\d+)\]", text):
        path = by_n.get(int(n))
        if path and path not in paths:
            paths.append(path)
    return paths


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
