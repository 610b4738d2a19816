"""CSV, JSON, HTML, PDF, plain text and SQL: passages with exact citations, and bad files named by line."""

import io
import json
from pathlib import Path

import pytest

from ingest.errors import DocumentError
from ingest.html import load_html
from ingest.loaders import LOADERS, load_document
from ingest.pdf import load_pdf
from ingest.sql import load_sql
from ingest.tabular import load_csv, load_json
from ingest.text import load_text
from tests.conftest import CORPUS
from tests.conftest import write_file as write


def cited(path: Path, passage: object) -> str:
    lines = path.read_text().splitlines()
    return "\n".join(lines[passage.start_line - 1 : passage.end_line])  # type: ignore[attr-defined]


def test_every_format_has_a_loader() -> None:
    assert {".md", ".yaml", ".yml", ".json", ".csv", ".tsv", ".html", ".htm", ".pdf", ".txt", ".sql"} <= set(LOADERS)
    assert ".docx" not in LOADERS and ".png" not in LOADERS  # skipped and counted by the pipeline


# -- CSV -------------------------------------------------------------------------------------------

ACCOUNTS = """\
account_number,account_name,account_type,description
1010,Cash,Bank,Main operating account.
1200,Accounts receivable,Accounts Receivable,"Open invoices,
including tax billed."
4000,Subscription revenue,Income,Recognized ratably.

4100,Usage revenue,Income,
"""


def test_csv_rows_are_field_value_text_cited_by_file_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", ACCOUNTS)
    rows = [p for p in load_csv(path, max_chars=260).passages if p.section != "columns"]
    assert [(p.section, p.start_line, p.end_line) for p in rows] == [
        ("account_number 1010 to 1200", 2, 4),  # the quoted value spans lines 3-4
        ("account_number 4000 to 4100", 5, 7),  # the blank line 6 is no row, but inside the range
    ]
    assert rows[0].text.splitlines() == [
        "account_number=1010; account_name=Cash; account_type=Bank; description=Main operating account.",
        "account_number=1200; account_name=Accounts receivable; account_type=Accounts Receivable; "
        "description=Open invoices, including tax billed.",
    ]
    assert "account_number=4100; account_name=Usage revenue; account_type=Income" in rows[1].text
    assert "description=" not in rows[1].text.splitlines()[-1]  # empty values are left out


def test_csv_summary_names_every_column_with_examples(tmp_path: Path) -> None:
    path = write(tmp_path, "accounts.csv", ACCOUNTS)
    summary = load_csv(path).passages[0]
    assert (summary.section, summary.start_line, summary.end_line) == ("columns", 1, 7)
    assert summary.text.splitlines()[0] == (
        "Table accounts.csv: 4 rows, 4 columns: account_number, account_name, account_type, description."
    )
    assert "- account_type: 3 distinct values: Bank, Accounts Receivable, Income" in summary.text


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    path = write(tmp_path, "rates.tsv", "currency\trate\nEUR\t1.08\nGBP\t1.27\n")
    rows = load_document(path).passages[1]
    assert rows.text == "currency=EUR; rate=1.08\ncurrency=GBP; rate=1.27"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('a,b\n1,2\n3,"unclosed\n4,5\n', r"bad.csv: line 3: malformed CSV \(unexpected end of data\); check the"),
        ('a,b\n1,2\n3,"x"y\n', r"bad.csv: line 3: malformed CSV .*; check the quoting"),
        ("a,b\n1,2\n3,4,5\n", r"bad.csv: line 3: 3 fields, but the header has 2; quote values that contain"),
    ],
)
def test_bad_csv_names_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        load_csv(write(tmp_path, "bad.csv", text))


def test_the_corpus_chart_of_accounts() -> None:
    path = CORPUS / "reference" / "chart_of_accounts.csv"
    passages = load_csv(path).passages
    assert all(len(p.text) <= 1200 for p in passages)
    assert sum(p.text.count("account_number=") for p in passages) == 70
    for passage in passages[1:]:
        lines = cited(path, passage).splitlines()
        numbers = [line.split(";")[0].removeprefix("account_number=") for line in passage.text.splitlines()]
        assert [line.split(",")[0] for line in lines] == numbers  # each cited line is one of the rows


# -- JSON ------------------------------------------------------------------------------------------


def test_json_gives_key_paths_and_exact_lines(tmp_path: Path) -> None:
    calendar = {
        "title": "Close calendar",
        "months": [
            {"period": "2026-01", "tasks": [{"day": "BD1", "task": "Lock billing. " * 8}, {"day": "BD2", "task": "x"}]},
            {"period": "2026-02", "tasks": [{"day": "BD1", "task": "Reconcile cash. " * 8}]},
        ],
    }
    path = write(tmp_path, "calendar.json", json.dumps(calendar, indent=2))
    doc = load_json(path, max_chars=200)
    assert doc.title == "Close calendar"
    sections = [p.section for p in doc.passages]
    assert "months.2026-01.tasks.BD1" in sections and "months.2026-02.tasks.BD1" in sections
    for passage in doc.passages:
        assert passage.text == cited(path, passage)


def test_json_edge_cases_tabs_duplicate_keys_big_ints_line_separators(tmp_path: Path) -> None:
    text = '{\n\t"id": 123456789012345678901234567890,\n\t"a": 1,\n\t"a": 2,\n\t"note": "x\u2028y"\n}\n'
    path = write(tmp_path, "odd.json", text)
    [passage] = load_json(path).passages
    assert (passage.start_line, passage.end_line) == (1, 6)
    assert "123456789012345678901234567890" in passage.text


def test_minified_json_is_reindented_and_cited_by_its_original_lines(tmp_path: Path) -> None:
    records = [{"id": f"acct-{i}", "note": "A fairly long note about the account. " * 3} for i in range(20)]
    path = write(tmp_path, "min.json", json.dumps({"accounts": records}))
    passages = load_json(path).passages
    assert len(passages) > 1
    assert all(len(p.text) <= 1200 for p in passages)
    assert all((p.start_line, p.end_line) == (1, 1) for p in passages)
    assert '"id": "acct-0"' in passages[0].text  # readable, one key per line


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{\n  "a": 1,\n  "b": [1, 2,\n}\n')
    with pytest.raises(DocumentError, match=r"bad.json: line 4 column 1: invalid JSON \(.*\); fix it"):
        load_json(path)


# -- HTML ------------------------------------------------------------------------------------------

PAGE = """\
<!DOCTYPE html>
<html><head><title>Glossary - Wiki</title>
<style>body { color: red; }</style>
<script>var secret = "not text";</script>
</head>
<body>
<nav><a href="/">Home</a></nav>
<header><p>Site banner</p></header>
<main>
<h1>Finance Glossary</h1>
<p>Short orientation for every term.</p>
<h2>A</h2>
<dl>
  <dt>ARR</dt>
  <dd>Annual recurring revenue: MRR times 12.
    <span>Defined in <code>metrics/mrr.yaml</code>.</span></dd>
  <dt>AR</dt>
  <dd>Accounts receivable.</dd>
</dl>
<h2>Tables</h2>
<table><tr><th>Code</th><th>Name</th></tr><tr><td>1010</td><td>Cash</td></tr></table>
</main>
<aside>Related pages</aside>
<footer>Exported from the wiki</footer>
</body></html>
"""


def test_html_keeps_main_text_by_heading_and_drops_chrome(tmp_path: Path) -> None:
    path = write(tmp_path, "glossary.html", PAGE)
    doc = load_html(path)
    assert doc.title == "Finance Glossary"
    text = "\n".join(p.text for p in doc.passages)
    for dropped in ("secret", "color", "Home", "Site banner", "Related pages", "Exported"):
        assert dropped not in text
    by_section = {p.section: p for p in doc.passages}
    assert by_section["Finance Glossary"].text == "Short orientation for every term."  # headings go in `section`
    terms = by_section["Finance Glossary > A"]
    assert terms.text == (
        "ARR: Annual recurring revenue: MRR times 12. Defined in metrics/mrr.yaml.\nAR: Accounts receivable."
    )
    assert (terms.start_line, terms.end_line) == (14, 18)
    # A header row (all <th>) is marked by a rule line, as in Markdown, so its rows are read under it.
    assert by_section["Finance Glossary > Tables"].text == "Code | Name\n--- | ---\n1010 | Cash"


EXPORTED = """<html><head><title>Finance : Payment runs</title></head><body>
<div id="breadcrumb-section"><ol id="breadcrumbs"><li>Finance</li><li>Treasury</li></ol></div>
<div id="main-content" class="wiki-content">
<h1>Payment runs</h1>
<p>The Irish payment run goes out every Wednesday.</p>
<div role="note"><p>Cut-off is noon the day before.</p></div>
</div>
<div id="sidebar" role="navigation"><ul><li>Payment runs</li><li>Travel policy</li></ul></div>
<div id="footer" role="contentinfo"><p>Need help? Ask in #fin-ops.</p></div>
</body></html>
"""


def test_an_exported_wiki_page_drops_chrome_marked_by_aria_roles_and_breadcrumbs(tmp_path: Path) -> None:
    doc = load_html(write(tmp_path, "payment-runs.html", EXPORTED))
    text = "\n".join(p.text for p in doc.passages)
    assert text == "The Irish payment run goes out every Wednesday.\nCut-off is noon the day before."  # role=note stays
    assert doc.title == "Payment runs"


def test_html_line_ranges_cover_their_text() -> None:
    path = CORPUS / "reference" / "glossary.html"
    passages = load_html(path).passages
    assert len(passages) > 10
    for passage in passages:
        first_term = passage.text.split(":")[0].split(" (")[0]
        assert first_term in cited(path, passage), passage.section


# -- PDF -------------------------------------------------------------------------------------------


def make_pdf(path: Path, pages: list[list[tuple[int, str]]], title: str | None = "Expense Policy") -> Path:
    """A PDF with a text layer: each page a list of (font size, text line)."""
    from fpdf import FPDF

    class WithFooter(FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Expense Policy - page {self.page_no()}")

    pdf = WithFooter()
    if title:
        pdf.set_title(title)
    for lines in pages:
        pdf.add_page()
        for size, line in lines:
            pdf.set_font("Helvetica", size=size)
            pdf.multi_cell(0, size * 0.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def test_pdf_passages_know_their_page_and_heading_path(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "policy.pdf", [
        [(18, "Expense Policy"), (13, "Hotels"), (10, "Hotels cost at most USD 250 a night."),
         (13, "Meals"), (10, "Meals are reimbursed up to USD 75 a day.")],
        [(10, "Dinner with customers needs a list of attendees."), (13, "Approvals"),
         (10, "Managers approve claims under USD 5,000.")],
    ])
    doc = load_pdf(path)
    assert doc.title == "Expense Policy"
    got = [(p.page, p.section, p.text.splitlines()[-1]) for p in doc.passages]
    assert got == [
        (1, "Expense Policy > Hotels", "Hotels cost at most USD 250 a night."),
        (1, "Expense Policy > Meals", "Meals are reimbursed up to USD 75 a day."),
        (2, "Expense Policy > Meals", "Dinner with customers needs a list of attendees."),  # carried over the break
        (2, "Expense Policy > Approvals", "Managers approve claims under USD 5,000."),
    ]
    assert "page 1" not in " ".join(p.text for p in doc.passages)  # the running footer is dropped
    assert [(p.start_line, p.end_line) for p in doc.passages if p.page == 2] == [(1, 1), (2, 3)]


def test_the_corpus_pdf() -> None:
    doc = load_pdf(CORPUS / "policies" / "travel_and_expense_policy.pdf")
    assert doc.title == "Travel and Expense Reimbursement Policy"
    assert {p.page for p in doc.passages} == {1, 2, 3}
    hotels = next(p for p in doc.passages if "USD 375 per night" in p.text)
    assert hotels.section == "Travel and Expense Reimbursement Policy > Booking travel"
    assert hotels.page == 1


def pdf_bytes(build: str) -> bytes:
    from pypdf import PdfWriter

    real = (CORPUS / "policies" / "travel_and_expense_policy.pdf").read_bytes()
    writer = PdfWriter()
    if build == "blank":
        writer.add_blank_page(200, 200)
    else:
        writer.append(io.BytesIO(real))
        writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"x.pdf: cannot read this PDF \(Cannot read an empty file\); re-export it"),
        (b"%PDF-1.4\nnot really\n", r"x.pdf: cannot read this PDF \(.+\); re-export it or remove it from the corpus"),
        ("truncated", r"x.pdf: cannot read this PDF \(.+\); re-export it"),
        ("blank", r"x.pdf: has no text layer .*OCR it"),
        ("encrypted", r"x.pdf: is password-protected; save a copy without the password"),
    ],
)
def test_broken_pdfs_say_what_to_do(tmp_path: Path, content: bytes | str, message: str) -> None:
    if content == "truncated":
        real = (CORPUS / "policies" / "travel_and_expense_policy.pdf").read_bytes()
        content = real[: len(real) // 2]
    elif isinstance(content, str):
        content = pdf_bytes(content)
    with pytest.raises(DocumentError, match=message):
        load_pdf(write(tmp_path, "x.pdf", content))


# -- plain text ------------------------------------------------------------------------------------


def test_text_is_cut_at_paragraphs_with_exact_lines(tmp_path: Path) -> None:
    paragraphs = "\n\n".join(f"Paragraph {i}. " + "word " * 40 for i in range(6))
    path = write(tmp_path, "notes.txt", paragraphs + "\n")
    doc = load_text(path, max_chars=500)
    assert doc.title == "Notes"
    assert len(doc.passages) >= 3
    assert all(p.text.startswith("Paragraph") and p.text == cited(path, p) for p in doc.passages)
    assert all(p.section is None and p.page is None for p in doc.passages)


def test_html_without_main_uses_the_body_and_keeps_an_articles_own_header(tmp_path: Path) -> None:
    page = (
        "<html><body>\n<header>Site</header>\n<article>\n<header><h1>Payout FAQ</h1></header>\n"
        "<div>Payouts land <b>T+2</b>.<br>Weekends are skipped.</div>\n</article>\n</body></html>\n"
    )
    doc = load_html(write(tmp_path, "faq.htm", page))
    assert doc.title == "Payout FAQ"
    assert [(p.section, p.text, p.start_line) for p in doc.passages] == [
        ("Payout FAQ", "Payouts land T+2.\nWeekends are skipped.", 5),
    ]


# -- SQL -------------------------------------------------------------------------------------------

MART = """\
{{ config(materialized='table') }}

with invoices as (
    select * from {{ ref('stg_invoices') }}
    where not is_test_account  -- rule 1) sandbox accounts never reach the mart
),

refunds as (
    select invoice_id, sum(amount_cents) as refunded_cents
    from {{ ref('stg_refunds') }}
    group by 1
),

final as (
    select
        invoices.invoice_id,
        (invoices.amount_cents - coalesce(refunds.refunded_cents, 0)) / 100.0 as net_revenue_usd
    from invoices
    left join refunds using (invoice_id)
)

select * from final
"""


def test_a_short_sql_model_is_one_passage_titled_by_its_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "models/marts/fct_net_revenue.sql", MART)
    doc = load_document(path)
    assert doc.title == "Model fct_net_revenue (SQL)"
    assert [(p.start_line, p.end_line, p.section) for p in doc.passages] == [(1, 22, None)]
    assert load_sql(write(tmp_path, "snapshots/snap_plans.sql", "select 1\n")).title == "Snapshot snap_plans (SQL)"


def test_a_long_sql_model_is_cut_at_its_ctes_with_exact_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "models/fct_net_revenue.sql", MART)
    doc = load_sql(path, max_chars=240)
    sections = [p.section for p in doc.passages]
    assert sections[0] == "config, invoices"  # a one-line preamble is packed with the CTE after it
    assert "refunds" in sections and sections[-1] == "final, select"
    for passage in doc.passages:
        assert passage.text == cited(path, passage)
    invoices, final = doc.passages[0], doc.passages[-1]
    assert invoices.end_line == 6  # the `)` in the comment on line 5 does not close the CTE
    assert MART.splitlines()[final.start_line - 1] == "final as ("
    assert final.end_line == 22 and "net_revenue_usd" in final.text
