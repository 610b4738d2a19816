"""What a question asks for, and whether a line holds that kind of answer (bot/answering/asks.py)."""

from __future__ import annotations

import pytest

from bot.answering.asks import ASKS, asked

KIND = {ask.name: ask for ask in ASKS}


@pytest.mark.parametrize(("question", "kinds"), [
    ("how long will procurement take to review a request", {"time"}),
    ("who approves mileage claims", {"person"}),
    ("how much is the mileage rate", {"amount"}),
])
def test_the_kind_a_question_asks_for(question: str, kinds: set[str]) -> None:
    assert {ask.name for ask in asked(question)} == kinds


@pytest.mark.parametrize("line", [
    "Procurement reviews a request within 5 workdays.",
    "Claims are due within 30 days of the expense.",
    "Refunds take 3 business days to settle.",
    "A day trip of more than 10 hrs qualifies.",
    "Journals are posted by WD5 at 18:00 UTC.",
    "The AR sign-off happens on BD5.",
    "The sync runs nightly.",
])
def test_a_line_with_a_duration_or_a_deadline_answers_a_time_question(line: str) -> None:
    assert KIND["time"].answer.search(line)


@pytest.mark.parametrize("line", [
    "Procurement checks the vendor and the contract terms.",
    "Workday is the HR system of record.",  # a name, not a number of workdays
])
def test_a_line_without_one_does_not(line: str) -> None:
    assert not KIND["time"].answer.search(line)
