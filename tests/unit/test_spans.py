"""Spans under a facet (a tab's "UK:" label): cut with their facet, and scored down when the question names
another facet of the same page; a table row is about its first cell."""

from __future__ import annotations

from bot.answering.chunk_spans import split_spans
from bot.answering.spans import FEATURES, QuestionWords, ScoredSpan, SpanIndex
from ingest import keyword_index
from ingest.keyword_index import Chunk

RATES = """\
## Rates
US:
**$0.70 per mile** for cars and vans.

Tolls are paid at cost.
UK:
**45p per mile** for cars. These are the approved mileage rates for the tax year.
## Claims
Claim mileage monthly.
"""


def test_a_label_line_is_the_facet_of_what_follows_it_until_the_next_label_or_heading() -> None:
    spans = split_spans(Chunk("rates", RATES, {"path": "mileage.md"}))
    facets = {s.text: s.facet for s in spans}
    assert facets["**$0.70 per mile** for cars and vans."] == "US"
    assert facets["Tolls are paid at cost."] == "US"  # a blank line ends the label, not the facet
    assert facets["These are the approved mileage rates for the tax year."] == "UK"
    assert facets["Claim mileage monthly."] == ""


def _scored(question: str, text: str = RATES, path: str = "mileage.md") -> list[ScoredSpan]:
    """Every span of a one-chunk index holding `text`, scored against the question, best first."""
    keyword = keyword_index.from_chunks([Chunk("chunk", text, {"path": path})])
    return SpanIndex(keyword).score(QuestionWords(keyword, question), [(keyword.chunks[0], 1.0, 1.0, 1)])


def test_a_question_naming_one_facet_is_answered_from_it() -> None:
    scored = _scored("whats the us mileage rate")
    assert scored[0].span.text == "**$0.70 per mile** for cars and vans."
    elsewhere = {s.span.text: s.features[FEATURES.index("elsewhere")] for s in scored}
    assert elsewhere["These are the approved mileage rates for the tax year."] == 1.0
    assert elsewhere["Claim mileage monthly."] == 0.0  # under no facet


def test_a_question_naming_no_facet_scores_every_facet_alike() -> None:
    scored = _scored("what are the approved mileage rates")
    assert all(s.features[FEATURES.index("elsewhere")] == 0.0 for s in scored)
    assert scored[0].span.text == "These are the approved mileage rates for the tax year."


CALENDAR = """\
Period | WD1 | Period lock | Reporting package
Feb 2026 | Mon 2 Mar | Mon 9 Mar | Wed 11 Mar
Mar 2026 (Q1) | Wed 1 Apr | Fri 10 Apr | Tue 14 Apr
"""


def test_a_row_is_about_its_first_cell_so_march_finds_the_mar_row_not_the_row_of_dates_in_march() -> None:
    scored = _scored("when does march lock", CALENDAR, "close.html")
    assert scored[0].span.text.startswith("Mar 2026 (Q1)")
    assert scored[0].features[FEATURES.index("subject")] > 0


AGING_SQL = """\
with aged as (
    select
        invoice_id,
        -- floored at zero: an invoice not yet due is 0 days late
        greatest(datediff('day', due_date, current_date), 0) as days_past_due,
        case
            when days_past_due <= 30 then '1-30'
            else '30+'
        end as aging_bucket
    from {{ ref('fct_invoices') }}
)
select * from aged
"""


def test_a_sql_chunk_is_cut_into_its_select_items_comments_and_clauses() -> None:
    spans = split_spans(Chunk("aging", AGING_SQL, {"path": "models/fct_ar_aging.sql", "section": "aged"}))
    assert [(s.first, s.last) for s in spans] == [(0, 0), (1, 2), (3, 3), (4, 4), (5, 8), (9, 9), (10, 10), (11, 11)]
    assert spans[4].text == "case when days_past_due <= 30 then '1-30' else '30+' end as aging_bucket"


def test_a_sql_item_is_about_the_column_it_defines() -> None:
    scored = _scored("how is days past due calculated", AGING_SQL, "models/fct_ar_aging.sql")
    assert scored[0].span.text.startswith("greatest(datediff(")
    assert scored[0].features[FEATURES.index("subject")] > 0
