"""Spans under a facet (a tab's "UK:" label): cut with their facet, and scored down when the question names
another facet of the same page; a table row is about its first cell, and is quoted under its header, even in
a later chunk of a long table."""

from __future__ import annotations

from pathlib import Path

from bot.answering.chunk_spans import split_spans
from bot.answering.compose import lead_lines
from bot.answering.lead import LeadFinder
from bot.answering.spans import FEATURES, QuestionWords, ScoredSpan, SpanIndex
from ingest import keyword_index, line_map
from ingest.html import load_html
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


# An approval matrix exported from a wiki as inline HTML, after ingest/markup.py: each <th> on a line of its
# own, blank lines where the <thead> / <tr> tags were, each body row on one line.
MATRIX_HEAD = """\
## Approval matrix

Decision |
Department VP |
Controller |
CFO |

"""
MATRIX_ROWS = """\
Credit notes (per note) | — | up to $25,000 | above $25,000 |
Bad-debt write-offs | up to $1,000 | up to $10,000 | above $10,000 |
"""


def test_a_row_is_quoted_under_its_header_without_its_empty_cells() -> None:
    spans = split_spans(Chunk("doa", MATRIX_HEAD + MATRIX_ROWS, {"path": "doa.md"}))
    rows = [s for s in spans if s.kind == "row"]
    assert [s.quoted for s in rows] == [
        "Decision: Credit notes (per note); Controller: up to $25,000; CFO: above $25,000",
        "Decision: Bad-debt write-offs; Department VP: up to $1,000; Controller: up to $10,000; CFO: above $10,000",
    ]
    assert rows[0].text == "Credit notes (per note) | — | up to $25,000 | above $25,000"  # what is matched
    assert lead_lines([ScoredSpan(rows[1], 1.0, frozenset(), frozenset(), 0.0, 1)], lambda _: 1).startswith(
        "Decision: Bad-debt write-offs; Department VP: up to $1,000;"
    )


def test_a_paragraph_ends_the_table_and_a_row_of_another_width_is_quoted_as_written() -> None:
    text = MATRIX_HEAD + MATRIX_ROWS + "Approvals are recorded in the ERP.\nA | B | C | D | E |\n"
    spans = split_spans(Chunk("doa", text, {"path": "doa.md"}))
    assert [s.quoted for s in spans if s.kind == "row"][2:] == [""]


def test_rows_in_a_later_chunk_of_a_long_table_are_read_under_the_header_of_the_first() -> None:
    first = Chunk("doa-1", MATRIX_HEAD, {"path": "doa.md", "start_line": 1})
    second = Chunk("doa-2", MATRIX_ROWS, {"path": "doa.md", "start_line": 8})
    other = Chunk("other", "Intro.\n\n" + MATRIX_ROWS, {"path": "other.md", "start_line": 1})
    keyword = keyword_index.from_chunks([first, second, other])
    finder = LeadFinder(keyword)
    assert finder.spans.spans(second)[0].quoted.startswith("Decision: Credit notes (per note); Controller:")
    assert finder.spans.spans(second)[0].label.endswith("CFO: above $25,000")  # the header is matched too
    assert all(not s.quoted for s in finder.spans.spans(other))  # no header before it
    narrower = Chunk("doa-3", "A | B | C |\n", {"path": "doa.md", "start_line": 20})
    assert split_spans(narrower, ["Decision", "Department VP", "Controller", "CFO"])[0].label == ""  # not its table


def test_an_html_table_of_two_columns_is_read_as_rows_under_its_header(tmp_path: Path) -> None:
    page = tmp_path / "hotels.html"
    page.write_text(
        "<html><body><main><h1>Hotels</h1><p>Nightly caps:</p><table>\n"
        "<tr><th>City</th><th>Cap per night</th></tr>\n<tr><td>Tokyo</td><td>¥26,000</td></tr>\n"
        "</table></main></body></html>\n"
    )
    passage = load_html(page).passages[0]
    meta = {"path": "hotels.html", "start_line": passage.start_line, "line_map": line_map.encode(passage.line_map)}
    chunk = Chunk("hotels", passage.text, meta)
    rows = [s for s in split_spans(chunk) if s.kind == "row"]
    assert [s.quoted for s in rows] == ["City: Tokyo; Cap per night: ¥26,000"]
    assert chunk.file_lines(rows[0].first) == (3, 3)  # the rule line added under the header moved no line


def test_a_csv_row_is_quoted_with_its_key() -> None:
    text = "gl_account_number=4900; gl_account_name=Refunds and billing credits; fs_line=Revenue"
    (row,) = split_spans(Chunk("seed", text, {"path": "seeds/gl_account_map.csv"}))
    assert row.text == "gl_account_name=Refunds and billing credits; fs_line=Revenue"
    assert row.label == "gl_account_number=4900"  # matched as its label
    assert row.quoted == text


def test_a_table_over_three_chunks_passes_its_header_through_the_middle_one() -> None:
    chunks = [  # t-2 is nothing but rows: it passes on the header it inherits
        Chunk("t-1", MATRIX_HEAD, {"path": "doa.md", "start_line": 1}),
        Chunk("t-2", MATRIX_ROWS, {"path": "doa.md", "start_line": 8}),
        Chunk("t-3", "Litigation | — | — | above $50,000 |\n\nApprovals are logged.\n", {"path": "doa.md",
                                                                                      "start_line": 9}),
        Chunk("t-4", MATRIX_ROWS, {"path": "doa.md", "start_line": 13}),
    ]
    finder = LeadFinder(keyword_index.from_chunks(chunks))
    assert finder.spans.spans(chunks[2])[0].quoted == "Decision: Litigation; CFO: above $50,000"
    assert all(not s.quoted for s in finder.spans.spans(chunks[3]))  # the paragraph before it ended the table
