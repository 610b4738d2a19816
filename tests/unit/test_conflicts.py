"""The figures a line states, and when two lines disagree about the same thing (bot/answering/conflicts.py)."""

from __future__ import annotations

from decimal import Decimal

from bot.answering.conflicts import differ, figures, same_subject


def test_figures_are_read_by_kind_currency_and_unit() -> None:
    found = figures("Up to $5,000 (or GBP 4k) within 30 days, 20% off, 2 business days later")
    assert found == {
        "amount usd": {Decimal(5000)}, "amount gbp": {Decimal(4000)}, "percent": {Decimal(20)},
        "duration day": {Decimal(30)}, "duration business day": {Decimal(2)},
    }


def test_lines_differ_only_when_a_shared_kind_has_no_figure_in_common() -> None:
    assert differ(figures("refunds within 30 days"), figures("refunds within 14 days"))
    assert not differ(figures("refunds within 30 days"), figures("refunds within 30 days or 45 days"))
    assert not differ(figures("up to $5,000"), figures("up to GBP 4,000"))  # another currency is another rule
    assert not differ(figures("up to $5,000"), figures("within 30 days"))  # nothing of the same kind
    assert not differ(figures("$250 and 30 days"), figures("$180 and 30 days"))  # they agree on the days


def test_same_subject_needs_half_the_shorter_lines_words() -> None:
    assert same_subject("A purchase order is required above $1,000.",
                        "Any purchase above $2,500 needs a purchase order.")
    assert not same_subject("The CFO signs vendor contracts up to $250,000.", "Receipts are required above $25.")
