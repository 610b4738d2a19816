"""The SQLite feedback store and its export, on a real SQLite file."""

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from bot.answering.answer import Answer, Source
from bot.evaluation.golden import GoldenQuestion
from bot.interfaces.slack.feedback import EXPORT_COLUMNS, FeedbackStore, NoFeedbackError, to_export, write_export


def make_answer(answer_id: str, text: str, abstained: bool = False) -> Answer:
    sources = [
        Source(n=n, path=path, section="s", start_line=1, end_line=9, score=0.5, snippet="…", text="…")
        for n, path in enumerate(["metrics/mrr.yaml", "policies/revenue_recognition.md", "metrics/mrr.yaml"], 1)
    ]
    return Answer(id=answer_id, question=f"q for {answer_id}", text=text, abstained=abstained, sources=sources)


def save(store: FeedbackStore, answer: Answer) -> None:
    store.save_answer(answer, asked="q", user="U1", channel="C", thread_ts=None)


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")


def test_the_file_is_created_in_wal_mode(store: FeedbackStore) -> None:
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_vote_finds_its_answer_by_id(store: FeedbackStore) -> None:
    store.save_answer(make_answer("a1", "From x [1]:"), asked="arr?", user="U1", channel="C1", thread_ts="1.0")
    assert store.save_vote("a1", "U2", "C1", "up") is True
    [record] = store.feedback()
    assert (record.answer_id, record.question, record.asked) == ("a1", "q for a1", "arr?")
    assert (record.vote, record.user, record.channel) == ("up", "U2", "C1")
    assert [s["path"] for s in record.sources][:2] == ["metrics/mrr.yaml", "policies/revenue_recognition.md"]
    assert "text" not in record.sources[0]  # the JSON shape of POST /v1/ask


def test_voting_again_changes_the_vote_and_a_new_vote_drops_the_old_comment(store: FeedbackStore) -> None:
    store.save_answer(make_answer("a1", "x"), asked="q", user="U1", channel="C1", thread_ts=None)
    store.save_vote("a1", "U2", "C1", "down")
    store.save_comment("a1", "U2", "C1", "cited the wrong policy")
    assert [(r.vote, r.comment) for r in store.feedback()] == [("down", "cited the wrong policy")]
    store.save_vote("a1", "U2", "C1", "up")
    assert [(r.vote, r.comment) for r in store.feedback()] == [("up", None)]


def test_a_vote_on_an_unknown_answer_is_kept_and_reported(store: FeedbackStore) -> None:
    assert store.save_vote("gone", "U2", "C1", "down") is False
    [record] = store.feedback()
    assert record.question is None and record.vote == "down"


def test_thread_turns_are_the_users_words_in_order(store: FeedbackStore) -> None:
    for n, asked in enumerate(["how is arr calculated?", "and nrr?"]):
        store.save_answer(make_answer(f"a{n}", "x"), asked=asked, user="U1", channel="C1", thread_ts="7.0")
    store.save_answer(make_answer("other", "x"), asked="elsewhere", user="U1", channel="C2", thread_ts="7.0")
    assert store.thread_turns("C1", "7.0") == ["how is arr calculated?", "and nrr?"]
    assert store.thread_turns("C1", "8.0") == []


def test_an_up_vote_exports_as_a_golden_question_candidate(store: FeedbackStore) -> None:
    save(store, make_answer("a1", "From y [2]:\n> ...\n\nFrom x [1]:"))
    store.save_vote("a1", "U2", "C", "up")
    row = to_export(store.feedback()[0])
    assert list(row) == EXPORT_COLUMNS
    assert row["answerable"] is True
    assert row["expected_sources"] == ["policies/revenue_recognition.md", "metrics/mrr.yaml"]  # quoted, in order
    golden = GoldenQuestion(
        id="fb1", kind="definition", split="dev", question=row["question"], answerable=row["answerable"],
        expected_sources=row["expected_sources"],
    )
    assert golden.expected_sources[0] == "policies/revenue_recognition.md"


def test_votes_that_need_a_reviewer_leave_the_golden_fields_open(store: FeedbackStore) -> None:
    save(store, make_answer("down", "From x [1]:"))
    save(store, make_answer("abst", "I couldn't find this", abstained=True))
    store.save_vote("down", "U2", "C", "down")
    store.save_vote("abst", "U2", "C", "up")
    rows = {r.answer_id: to_export(r) for r in store.feedback()}
    assert (rows["down"]["answerable"], rows["down"]["expected_sources"]) == (None, [])
    assert (rows["abst"]["answerable"], rows["abst"]["expected_sources"]) == (False, [])


def test_jsonl_and_csv_hold_the_same_rows(store: FeedbackStore) -> None:
    save(store, make_answer("a1", 'From "x" [1], with, commas'))
    store.save_vote("a1", "U2", "C", "down")
    store.save_comment("a1", "U2", "C", "wrong\nline two")
    jsonl, table = io.StringIO(), io.StringIO()
    write_export(store.feedback(), "jsonl", jsonl)
    write_export(store.feedback(), "csv", table)
    [row] = [json.loads(line) for line in jsonl.getvalue().splitlines()]
    [cells] = list(csv.DictReader(io.StringIO(table.getvalue())))
    assert list(cells) == EXPORT_COLUMNS
    assert cells["answer"] == row["answer"] == 'From "x" [1], with, commas'
    assert cells["comment"] == row["comment"] == "wrong\nline two"
    assert cells["cited_sources"] == "; ".join(row["cited_sources"])
    assert json.loads(cells["sources"]) == row["sources"]
    assert (cells["answerable"], row["answerable"]) == ("", None)


def test_opening_a_missing_store_for_export_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(NoFeedbackError, match=r"No feedback at .* yet: .* slack.feedback_db"):
        FeedbackStore.open_existing(tmp_path / "nope.sqlite3")
    assert not (tmp_path / "nope.sqlite3").exists()
