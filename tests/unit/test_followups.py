"""Which questions lean on the conversation, and what they borrow from it."""

from __future__ import annotations

from bot.answering.followups import Turn, borrowed_words, leans_on_earlier

GLOSSARY = {"nrr": "net_revenue_retention", "grr": "gross_revenue_retention", "dso": "dso"}


def names(text: str) -> list[str]:
    return [name for term, name in GLOSSARY.items() if term in text.lower().replace("?", " ").split()]


def test_a_follow_up_borrows_the_last_turns_names_and_a_standalone_question_nothing() -> None:
    nrr = [Turn("what is DSO?"), Turn("how is NRR calculated?")]
    assert borrowed_words("and how is that different from GRR?", nrr, names) == "net revenue retention"
    assert borrowed_words("does it include expansion?", nrr, names) == "net revenue retention"
    assert borrowed_words("what is DSO?", nrr, names) == ""
    assert borrowed_words("and how is that different from GRR?", [], names) == ""


def test_a_turn_that_named_nothing_lends_its_question() -> None:
    turns = [Turn("who approves refunds over the limit?")]
    assert borrowed_words("and what about credits?", turns, names) == "who approves refunds over the limit?"


def test_pointing_back_counts_only_without_a_name_of_its_own() -> None:
    assert leans_on_earlier("what about it?", [])
    assert not leans_on_earlier("is DSO the same as debtor days?", ["dso"])
    assert leans_on_earlier("and GRR?", ["gross_revenue_retention"])
    assert not leans_on_earlier("how is ARR calculated?", [])
