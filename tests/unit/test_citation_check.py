"""The checker of a written answer: which sentences stay, which go, and why."""

from __future__ import annotations

from bot.answering.citations import check, citations, split_sentences

EXPENSES = (
    "Claims are due within 30 days of the expense. A claim submitted more than 60 days after the expense date "
    "needs the Assistant Controller's approval. Claims older than 120 days are not reimbursed."
)
MILEAGE = "Personal car use is reimbursed at USD 0.70 per mile. Equipment up to $5,000 needs no approval."
SOURCES = {1: EXPENSES, 2: MILEAGE}


def test_every_citation_form_is_read() -> None:
    text = "a [1] b [1, 2] c [3][4] d ［５］ e 【6】 f [7-9] g [10; 11]"
    assert citations(text) == [1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert citations("no citation here, just 1 and 2") == []


def test_sentences_keep_their_citations_and_abbreviations_do_not_split() -> None:
    text = "Claims are due in 30 days [1]. Some need approval, e.g. by the controller. [2]\n[1]\n- Rate is 0.70. [2]"
    assert split_sentences(text) == [
        "Claims are due in 30 days [1].",
        "Some need approval, e.g. by the controller. [2]\n[1]",
        "- Rate is 0.70. [2]",
    ]


def test_a_supported_answer_is_kept_whole() -> None:
    text = ("Claims are due within 30 days of the expense [1]. After 60 days a claim needs the Assistant "
            "Controller's approval [1]. Car use is reimbursed at $0.70 per mile [2].")
    checked = check(text, SOURCES, 0.6)
    assert checked.removed == []
    assert checked.text == text
    assert checked.cited == {1, 2}


def test_each_unsupported_sentence_is_removed_with_its_reason() -> None:
    text = (
        "Claims are due within 30 days [1]. "
        "Claims over 90 days are refused [1]. "  # a figure no cited source has
        "Claims are due within 30 days [7]. "  # a source that does not exist
        "The CFO signs off on every claim. "  # no citation
        "Quarterly bonuses depend on team velocity metrics [1]. "  # words the source doesn't have
        "Use column payout_arrival_date for late claims [1]. "  # a name the source doesn't have
        'The policy says "never reimbursed" [1].'  # a quote the source doesn't have
    )
    checked = check(text, SOURCES, 0.6)
    assert [s.text for s in checked.kept] == ["Claims are due within 30 days [1]."]
    assert [s.problem for s in checked.removed] == [
        "figure 90 is not in its sources",
        "cites a source that does not exist (7)",
        "cites no source",
        "only 0% of its words are in its sources",
        "name payout_arrival_date is not in its sources",
        "quote 'never reimbursed' is not in its sources",
    ]


def test_amounts_are_compared_as_numbers() -> None:
    for amount in ("USD 5,000", "$5000", "5k", "5,000.00"):
        checked = check(f"Equipment up to {amount} needs no approval [2].", SOURCES, 0.6)
        assert checked.removed == [], amount
    assert check("Equipment up to $500 needs no approval [2].", SOURCES, 0.6).removed[0].problem == (
        "figure 500 is not in its sources"
    )


def test_a_figure_must_be_in_the_source_the_sentence_cites_not_just_any() -> None:
    checked = check("Car use is reimbursed at USD 0.70 per mile [1].", SOURCES, 0.6)
    assert checked.removed[0].problem == "figure 0.7 is not in its sources"


def test_headings_stay_only_above_a_kept_sentence() -> None:
    text = "Late claims:\n- Claims are due within 30 days [1].\nBonuses:\n- Bonuses are paid yearly [1]."
    checked = check(text, SOURCES, 0.6)
    assert checked.text == "Late claims:\n- Claims are due within 30 days [1]."
    assert len(checked.removed) == 1
