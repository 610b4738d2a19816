"""Splitting a question into its asks (bot/answering/parts.py), and the lead rules that need no model."""

from __future__ import annotations

import pytest

from bot.answering.parts import Part, split_question


def texts(parts: list[Part]) -> list[str]:
    return [p.text for p in parts]


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("who owns the churn metric, and what rate does the example assume?",
         ["who owns the churn metric", "what rate does the example assume"]),
        ("whats the hotel cap in london? and who approves going over it",
         ["whats the hotel cap in london", "and who approves going over it"]),
        ("per diem in berlin, what about london?", ["per diem in berlin", "what about london"]),
        ("how is gross margin defined; which report shows it",
         ["how is gross margin defined", "which report shows it"]),
        ("what tests run on the invoices model and whos the owner of it",  # "who's" typed without the apostrophe
         ["what tests run on the invoices model", "whos the owner of it"]),
        ("how often do we file and whens it due", ["how often do we file", "whens it due"]),
    ],
)
def test_each_ask_becomes_a_part(question: str, asks: list[str]) -> None:
    assert texts(split_question(question)) == asks


@pytest.mark.parametrize(
    "question",
    [
        "how is net revenue retention calculated",
        "Which column of the payouts report is the arrival date?",
        "who approves a refund over the limit and why",  # "and why" asks nothing of its own
        "what's the difference in timing",  # no second thing to compare
        "backfill for someone who left, same level, who approves the req",  # "someone who left" asks nothing
    ],
)
def test_a_single_ask_stays_whole(question: str) -> None:
    assert texts(split_question(question)) == [question]


def test_a_statement_is_the_scene_of_every_ask_after_it() -> None:
    question = "deal signed march 28, service starts april 1. which month does it book in? when is the new mrr?"
    parts = split_question(question)
    assert texts(parts) == ["which month does it book in", "when is the new mrr"]
    for part in parts:
        assert part.query.startswith("deal signed march 28, service starts april 1")
        assert part.query.endswith(part.text)


def test_a_one_word_subject_is_the_scene_of_the_asks_after_it() -> None:
    parts = split_question("gpv - what model is it built on, and where does that data come from?")
    assert texts(parts) == ["what model is it built on", "where does that data come from"]
    assert all(p.query.startswith("gpv ") for p in parts)
    chatty = split_question("thx. what is the mileage rate? and who approves it")
    assert texts(chatty) == ["what is the mileage rate", "and who approves it"]
    assert not any("thx" in p.query for p in chatty)


def test_a_relative_clause_is_the_scene_not_an_ask() -> None:
    parts = split_question("for a customer who churned, how is nrr affected? and who owns it")
    assert texts(parts) == ["how is nrr affected", "and who owns it"]
    assert parts[0].query.startswith("for a customer who churned")


def test_a_piece_ending_in_a_question_mark_asks_even_without_a_question_word() -> None:
    question = "AE wants a 5% discount set to forever - does that need special approval? and how does it show in mrr"
    parts = split_question(question)
    assert texts(parts) == ["does that need special approval", "and how does it show in mrr"]
    assert all("5% discount set to forever" in p.query for p in parts)


def test_a_follow_on_borrows_the_words_of_the_ask_before_it() -> None:
    first, second = split_question("what is the mileage rate in the US? and for the UK?")
    assert second.text == "and for the UK"
    assert first.text in second.query and second.query.endswith("and for the UK")
    assert first.query == first.text


def test_versus_asks_about_each_side() -> None:
    assert texts(split_question("NRR vs GRR, how do they differ?")) == ["what is NRR", "what is GRR"]


def test_two_named_entities_joined_by_and_split_when_the_glossary_knows_both() -> None:
    names = {"NRR": ["net_revenue_retention"], "GRR": ["gross_revenue_retention"]}

    def named(text: str) -> list[str]:
        return [entity for word, entities in names.items() if word in text for entity in entities]

    assert texts(split_question("what are NRR and GRR", named)) == ["what are NRR", "what are GRR"]
    assert texts(split_question("what are NRR and GRR")) == ["what are NRR and GRR"]  # without a glossary: one


def test_at_most_four_parts() -> None:
    question = "who owns a? who owns b? who owns c? who owns d? who owns e?"
    assert len(split_question(question)) == 4
