"""`finbot gaps`: refused, low-confidence and voted-down questions of a real feedback store (Slack's answers and the
questions recorded from the other interfaces), grouped by the real embedding model."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.answering.answer import Answer, Source
from bot.config import Recording
from bot.interfaces.cli import cli
from bot.interfaces.recording import Recorder
from bot.interfaces.slack.feedback import FeedbackStore
from tests.conftest import CORPUS, write_config

pytestmark = pytest.mark.model

PAYMENTS = ("policies/invoicing_and_payment_terms.md", "Invoicing and Payment Terms Policy > Policy > Payment methods")
# (topic, user, question, abstained, closest source or None)
SEEDED = [
    ("crypto", "U1", "Do we accept bitcoin from customers?", True, PAYMENTS),
    ("crypto", "U2", "Can a customer pay us in cryptocurrency?", True, PAYMENTS),
    ("crypto", "U3", "Is paying an invoice with crypto allowed?", True, None),
    ("leave", "U4", "How many weeks of parental leave do employees get?", True, None),
    ("leave", "U5", "What is our parental leave policy for new parents?", True, None),
    ("leave", "U5", "how many weeks of parental leave?", True, None),
    ("parking", "U6", "Is office parking reimbursed?", True, ("policies/travel_and_expense_policy.pdf", None)),
    ("parking", "U6", "Can I expense parking at the office?", True, ("policies/travel_and_expense_policy.pdf", None)),
]


def answer(n: int, question: str, abstained: bool, source: tuple[str, str | None] | None) -> Answer:
    sources = [Source(1, source[0], source[1], 3, 9, 0.4, "…", "…")] if source else []
    return Answer(f"a{n:03d}", question, "The documents don't cover this." if abstained else "X [1]", abstained,
                  sources, 0.1 if abstained else 0.9)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(db)
    for n, (_, user, question, abstained, source) in enumerate(SEEDED):
        store.save_answer(answer(n, question, abstained, source), asked=question, user=user, channel="C1",
                          thread_ts=None)
    # answered and liked, and answered with no vote: not gaps
    ok = answer(100, "How is ARR calculated?", False, ("metrics/mrr.yaml", "metrics.arr"))
    store.save_answer(ok, asked=ok.question, user="U7", channel="C1", thread_ts=None)
    store.save_vote(ok.id, "U7", "C1", "up")
    plain = answer(101, "What is DSO?", False, ("metrics/receivables.yaml", "metrics.dso"))
    store.save_answer(plain, asked=plain.question, user="U7", channel="C1", thread_ts=None)
    # answered but voted down: a gap of its own
    wrong = answer(102, "Which GL account holds the Northbank operating cash?", False, ("chart.csv", None))
    store.save_answer(wrong, asked=wrong.question, user="U8", channel="C1", thread_ts=None)
    store.save_vote(wrong.id, "U8", "C1", "down")
    # refused two months ago: outside --since 30d
    old = answer(103, "Do we accept bitcoin from suppliers?", True, None)
    store.save_answer(old, asked=old.question, user="U9", channel="C1", thread_ts=None)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE answers SET answered_at = '2000-01-01T00:00:00+00:00' WHERE id = ?", (old.id,))
    return write_config(tmp_path, CORPUS, slack={"feedback_db": str(db)})


def test_gaps_group_as_seeded(config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), "gaps", "--since", "30d", "--format", "json"])
    assert result.exit_code == 0, result.output
    topics = json.loads(result.output)["topics"]
    seeded: dict[str, set[str]] = {}
    for topic, _, question, _, _ in SEEDED:
        seeded.setdefault(topic, set()).add(question)
    found = [set(t["examples"]) for t in topics]
    assert sorted(map(sorted, found)) == sorted(
        [sorted(q) for q in seeded.values()] + [["Which GL account holds the Northbank operating cash?"]]
    )
    # ranked by people: crypto (3 people), leave (2), then parking and the voted-down one (1 each, 2 questions first)
    assert [t["people"] for t in topics] == [3, 2, 1, 1]
    assert topics[0]["examples"][0] in seeded["crypto"] and topics[1]["examples"][0] in seeded["leave"]
    assert topics[2]["questions"] == 2 and topics[2]["refused"] == 2
    crypto = topics[0]
    assert crypto["closest"] == [{"path": PAYMENTS[0], "section": PAYMENTS[1], "count": 2}]
    assert crypto["suggestion"].startswith(f"{PAYMENTS[0]} § {PAYMENTS[1]}")
    assert topics[1]["closest"] == [] and topics[1]["suggestion"].startswith("No document came close")
    assert topics[3]["voted_down"] == 1 and topics[3]["refused"] == 0


def test_markdown_report(config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), "gaps"])
    assert result.exit_code == 0, result.output
    assert "9 questions refused, answered with low confidence or voted down, in 4 topics, most people first." \
        in result.output
    assert "## 1. " in result.output
    assert "3 people, 3 questions: 3 refused, 0 low-confidence, 0 voted down." in result.output
    assert f"Add the answer to: {PAYMENTS[0]} § {PAYMENTS[1]}" in result.output


def test_bad_since_says_what_to_write(config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), "gaps", "--since", "a month"])
    assert result.exit_code == 1 and "use a number of hours, days or weeks such as 12h, 30d or 2w" in result.output


# (interface, user, question, abstained, confidence, thumbs-down)
RECORDED = [
    ("web", "session:aa", "Can employees bring their dog to the office?", True, 0.1, False),
    ("mcp", None, "Are pets allowed in the office?", False, 0.4, False),  # answered, with low confidence
    ("http", "key:0badcafe", "Is there a dog policy for the office?", False, 0.9, True),  # answered, voted down
    ("web", "session:bb", "How is ARR calculated?", False, 0.9, False),  # answered well: not a gap
]


@pytest.fixture
def recorded_config(tmp_path: Path) -> Path:
    db = tmp_path / "feedback.sqlite3"
    recorder = Recorder(Recording(http=True), db)
    for n, (interface, user, question, abstained, confidence, down) in enumerate(RECORDED):
        asked = Answer(f"r{n:03d}", question, "…", abstained, [Source(1, *PAYMENTS, 3, 9, 0.4, "…", "…")],
                       confidence)
        assert recorder.record(asked, interface, user=user)  # type: ignore[arg-type]
        if down:
            assert recorder.vote(asked.id, user or "someone", "down", "Not what I asked", "web")
    # A Slack answer is stored for its buttons and recorded too: one question, not two.
    slack = answer(200, "How many weeks of parental leave do employees get?", True, None)
    store = FeedbackStore(db)
    store.save_answer(slack, asked=slack.question, user="U4", channel="C1", thread_ts=None)
    assert recorder.record(slack, "slack", user="U4", channel="C1")
    # A recorded refusal from two months ago: outside --since 30d.
    old = Answer("r999", "Can I bring my cat to the office?", "…", True, [], 0.1)
    assert recorder.record(old, "web", user="session:cc")
    with sqlite3.connect(db) as con:
        con.execute("UPDATE questions SET asked_at = '2000-01-01T00:00:00+00:00' WHERE id = 'r999'")
    return write_config(tmp_path, CORPUS, slack={"feedback_db": str(db)})


def test_gaps_group_recorded_questions_of_every_interface(recorded_config: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(recorded_config), "gaps", "--format", "json"])
    assert result.exit_code == 0, result.output
    topics = json.loads(result.output)["topics"]
    assert [sorted(t["examples"]) for t in topics] == [
        sorted(q for _, _, q, _, _, _ in RECORDED[:3]), ["How many weeks of parental leave do employees get?"],
    ]
    pets = topics[0]
    assert (pets["people"], pets["questions"], pets["refused"], pets["low_confidence"], pets["voted_down"]) == (
        3, 3, 1, 1, 1
    )
    assert pets["closest"] == [{"path": PAYMENTS[0], "section": PAYMENTS[1], "count": 3}]
    assert topics[1]["questions"] == 1 and topics[1]["refused"] == 1
