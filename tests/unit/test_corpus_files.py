"""The corpus's non-Markdown documents are what they claim to be (the loaders for them come with issue 4)."""

import csv
import json
import subprocess
import sys
from html.parser import HTMLParser

from tests.conftest import CORPUS, REPO


def test_the_pdf_has_a_text_layer_rendered_from_its_source() -> None:
    import pypdf

    pdf = CORPUS / "policies" / "travel_and_expense_policy.pdf"
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    source = (REPO / "scripts" / "pdf_sources" / "travel_and_expense_policy.md").read_text()
    title = next(line[2:] for line in source.splitlines() if line.startswith("# "))
    assert title in text
    assert len(text.split()) > 500


def test_build_pdfs_reproduces_the_committed_pdf_byte_for_byte() -> None:
    pdf = CORPUS / "policies" / "travel_and_expense_policy.pdf"
    before = pdf.read_bytes()
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_pdfs.py")], check=True, capture_output=True)
    assert pdf.read_bytes() == before, "scripts/pdf_sources changed without re-running scripts/build_pdfs.py"


def test_the_reference_files_parse() -> None:
    rows = list(csv.DictReader((CORPUS / "reference" / "chart_of_accounts.csv").open()))
    assert len(rows) >= 50 and {"account_number", "account_name", "account_type"} <= set(rows[0])
    calendar = json.loads((CORPUS / "reference" / "close_calendar_2026.json").read_text())
    assert calendar
    parser = HTMLParser()
    parser.feed((CORPUS / "reference" / "glossary.html").read_text())
    parser.close()
