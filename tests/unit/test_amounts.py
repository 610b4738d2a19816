"""Amounts a question states and the amount brackets a line is about (bot/answering/amounts.py)."""

from __future__ import annotations

import pytest

from bot.answering.amounts import Bracket, brackets, fit, stated_amounts


@pytest.mark.parametrize(
    ("question", "amounts"),
    [
        ("who reviews a 1.2M journal entry?", (1_200_000.0,)),
        ("office fit out capex project ~180k, who signs off", (180_000.0,)),
        ("refund of USD 5,000 to a customer", (5_000.0,)),
        ("conference ticket is 1800 bucks", (1_800.0,)),
        ("a $35 chargeback", (35.0,)),
        ("3 year saas deal at 40k a year, who approves it", (40_000.0, 120_000.0)),
        ("net 60 terms on a 2025 deal, 10 days late", ()),  # terms, years and durations are not amounts
        ("uk mileage rate once youre past 10k miles?", ()),  # a scaled count of something else
        ("whats the 401k match", ()),
        ("a 5% discount", ()),
    ],
)
def test_stated_amounts(question: str, amounts: tuple[float, ...]) -> None:
    assert stated_amounts(question) == amounts


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("| below $100,000 | any GL team member |", (Bracket(None, 100_000.0),)),
        ("| $100,000 to $999,999.99 | the Assistant Controller |", (Bracket(100_000.0, 999_999.99),)),
        ("$50,000.01 – $250,000 | CFO", (Bracket(50_000.01, 250_000.0),)),
        ("| $1,000,000 and above | the Controller |", (Bracket(1_000_000.0, None),)),
        ("Above USD 2,500 and up to USD 10,000: the direct manager", (Bracket(2_500.0, 10_000.0),)),
        ("Any capex above **$25,000** needs the CFO's approval, whatever", (Bracket(25_000.0, None),)),
        ("Approval limit: up to USD 5,000 per claim", (Bracket(None, 5_000.0),)),
        ("| Refunds | up to $500 | the payments lead |", (Bracket(None, 500.0),)),
        # a bracket after the first clause is a detail of something else
        ("Each quarter, audit queries round-amount entries over $250,000 and weekend entries.", ()),
        ("A three-year contract at $20,000 a year has a TCV of $60,000.", ()),
        # a CSV row as ingest writes it: its column names say which plain numbers are bounds
        ("category=Capex; from_usd=25000.01; up_to_usd=150000; approver=VP", (Bracket(25_000.01, 150_000.0),)),
        ("category=Capex; From (USD)=2,000,000.01; approver=Board of Directors", (Bracket(2_000_000.01, None),)),
        ("Tier=Gold; Max spend=$5,000; Approver=Manager", (Bracket(None, 5_000.0),)),
        ("vendor=Acme; days_to_pay=30; from=2", ()),  # days, and a number no column calls money
    ],
)
def test_brackets(line: str, expected: tuple[Bracket, ...]) -> None:
    assert brackets(line) == expected


def test_fit_is_one_for_the_bracket_that_holds_the_amount_only() -> None:
    rows = ["below $100,000 | GL team", "$100,000 to $999,999.99 | Assistant Controller", "$1,000,000 and above | VP"]
    assert [fit((1_200_000.0,), brackets(row)) for row in rows] == [0.0, 0.0, 1.0]
    assert [fit((40_000.0,), brackets(row)) for row in rows] == [1.0, 0.0, 0.0]
    assert fit((3_000.0, 120_000.0), brackets(rows[1])) == 1.0  # any amount the question states
    assert fit((), brackets(rows[0])) == 0.0  # the question states no amount
    assert fit((40_000.0,), brackets("Every entry needs a reviewer.")) == 0.0  # the line states no bracket


def test_only_the_bracket_of_something_asked_about_counts() -> None:
    from bot.answering.spans import FEATURES, QuestionWords, SpanIndex
    from ingest import keyword_index
    from ingest.keyword_index import Chunk

    text = (
        "Accrue any single consulting invoice of $10,000 or more.\n\n"
        "Unreconciled differences above $5,000 must be explained by the next close."
    )
    keyword = keyword_index.from_chunks([Chunk("close", text, {"path": "close.md"})])
    question = QuestionWords(keyword, "do i need to accrue a $6k consulting invoice?")
    scored = SpanIndex(keyword).score(question, [(keyword.chunks[0], 1.0, 1.0, 1)])
    bracket = {s.span.text[:12]: s.features[FEATURES.index("bracket")] for s in scored}
    # $6k is above $5,000, but that line is about reconciliations: it shares no word with the question
    assert bracket == {"Accrue any s": 0.0, "Unreconciled": 0.0}
    assert scored[0].span.text.startswith("Accrue")
    larger = QuestionWords(keyword, "do i need to accrue a $12k consulting invoice?")
    by_text = {s.span.text[:12]: s for s in SpanIndex(keyword).score(larger, [(keyword.chunks[0], 1.0, 1.0, 1)])}
    assert by_text["Accrue any s"].features[FEATURES.index("bracket")] == 1.0
