"""What an answer leads with, through the real model and a real Chroma: the lines that answer (cited by
their own line range), every ask of a question, a refused part beside an answered one, the superseded
note, and a metric's definition card."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.interfaces.cli import cli
from tests.conftest import CORPUS, ingested_pages

pytestmark = pytest.mark.model

FILLER = (
    "The finance systems team maintains this page. Questions go to the #finance-systems channel, and changes "
    "to the job are announced there a week ahead. The job moves records between the two systems and writes "
    "a log line for every batch it sends, so support can trace any single record end to end. "
)
PAGES = {
    "policies/expenses.md": (
        "---\ntitle: Expense Policy\n---\n"
        "# Expense Policy\n\n"
        "## Office equipment\n\n"
        "Employees may buy a monitor, keyboard or headset up to USD 300 a year without pre-approval. "
        "Larger items go through procurement.\n\n"
        "## Late claims\n\n"
        "Claims are due within 30 days of the expense. "
        "A claim submitted more than 60 days after the expense date needs the Assistant Controller's approval. "
        "Claims older than 120 days are not reimbursed.\n\n"
        "## Mileage\n\n"
        "Personal car use is reimbursed at USD 0.70 per mile driven on company business.\n"
    ),
    "policies/archive/expenses-2023.md": (
        "---\ntitle: Expense Policy (2023)\nstatus: superseded\n---\n"
        "# Expense Policy (2023)\n\n"
        "## Late claims\n\n"
        "Under the 2023 rules, receipts handed in after ninety days were refused outright, and claims were "
        "due within 30 days of the expense.\n"
    ),
    "systems/nightly-sync.md": (
        "# Nightly CRM sync\n\n" + "\n\n".join([FILLER] * 8)
        + "\n\nThe sync starts every night at 02:00 UTC and retries a failed batch up to 3 times, "
        "five minutes apart, before it pages the on-call engineer.\n\n" + FILLER + "\n"
    ),
    "controls/journal-entries.md": (
        "# Manual journal entries\n\n"
        "Every manual journal entry is reviewed by someone other than the person who prepared it, and the "
        "reviewer checks the support attached to the entry.\n\n"
        "## Review levels\n\n"
        "| Entry amount | Reviewer |\n"
        "|---|---|\n"
        "| below $100,000 | any accountant on the GL team |\n"
        "| $100,000 to $999,999.99 | the Assistant Controller |\n"
        "| $1,000,000 and above | the Controller |\n"
    ),
    "approvals/capital-expenditure.csv": (
        "category,from_usd,up_to_usd,approver\n"
        "Capital expenditure,0,25000,Plant Controller\n"
        "Capital expenditure,25000.01,150000,VP Operations\n"
        "Capital expenditure,150000.01,750000,Chief Financial Officer\n"
    ),
    "metrics/events.yaml": (
        "metrics:\n"
        "  - name: conference_spend\n"
        "    label: Conference spend\n"
        "    description: >\n"
        "      Conference spend is the sum of event fees, booth costs and sponsorships, in USD.\n"
        "      Example for Q4 2025: 12 events cost USD 18,400.\n"
        "    type: simple\n"
        "    type_params:\n"
        "      measure: conference_spend_usd\n"
    ),
}


@pytest.fixture(scope="module")
def small_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield ingested_pages(tmp_path_factory.mktemp("answers"), PAGES)


def ask(config: Path, question: str, *extra: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["--config", str(config), "ask", "--json", *extra, question])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def cited_lines(body: dict, n: int, root: Path) -> list[str]:  # type: ignore[type-arg]
    source = body["sources"][n - 1]
    lines = (root / source["path"]).read_text().splitlines()
    return lines[source["start_line"] - 1 : source["end_line"]]


def lead_refs(text: str) -> list[tuple[str, int]]:
    """(line, n) of each lead line of an answer: the lines before the first blank line, ending in [n]."""
    lead = text.split("\n\n")[0].splitlines()
    return [(line, int(m.group(1))) for line in lead if (m := re.search(r"\[(\d+)\]$", line))]


def corpus_root(config: Path) -> Path:
    return config.parent / "corpus"


def test_the_answering_sentence_leads_with_its_own_lines_cited(small_config: Path) -> None:
    body = ask(small_config, "how late can i still submit an expense claim?")
    assert not body["abstained"]
    refs = lead_refs(body["answer"])
    assert refs and "more than 60 days" in " ".join(line for line, _ in refs)
    line, n = next((line, n) for line, n in refs if "60 days" in line)
    source = body["sources"][n - 1]
    assert source["path"] == "policies/expenses.md"
    assert source["end_line"] - source["start_line"] <= 1, "a quote cites its own line, not the section"
    assert any("more than 60 days" in text for text in cited_lines(body, n, corpus_root(small_config)))
    assert "Office equipment" not in body["answer"].split("\n\n")[0]


def test_the_answer_far_down_an_unsectioned_page_is_found(small_config: Path) -> None:
    body = ask(small_config, "how many times does the nightly sync retry a failed batch?")
    refs = lead_refs(body["answer"])
    assert any("up to 3 times" in line for line, _ in refs)
    n = next(n for line, n in refs if "up to 3 times" in line)
    quoted = cited_lines(body, n, corpus_root(small_config))
    assert len(quoted) == 1 and "up to 3 times" in quoted[0]
    assert len(body["answer"].split("\n\n")[0]) < 400


def test_both_asks_of_a_two_part_question_are_answered(small_config: Path) -> None:
    body = ask(small_config, "how late can a claim be submitted, and what is the mileage rate?", "--explain")
    text = body["answer"]
    assert body["parts"] == ["how late can a claim be submitted", "what is the mileage rate"]
    assert "**how late can a claim be submitted?**" in text and "**what is the mileage rate?**" in text
    late, mileage = text.split("**what is the mileage rate?**")
    assert "60 days" in late and "0.70 per mile" in mileage
    assert re.search(r"\[\d\]", late) and re.search(r"\[\d\]", mileage)


def test_a_part_the_documents_cannot_answer_is_refused_while_the_other_is_answered(small_config: Path) -> None:
    body = ask(small_config, "what is the mileage rate? and how much mileage did we reimburse in Q3 2025?")
    assert not body["abstained"]
    first, second = body["answer"].split("**and how much mileage did we reimburse in Q3 2025?**")
    assert "0.70 per mile" in first
    assert "hold no figures for q3 2025" in second.lower()


def test_a_line_that_states_the_figure_for_the_period_asked_answers_it(small_config: Path) -> None:
    body = ask(small_config, "what was conference spend in Q4 2025?")  # a metric definition's worked example
    assert not body["abstained"]
    (line, n), *_ = lead_refs(body["answer"])
    assert "USD 18,400" in line and body["sources"][n - 1]["path"] == "metrics/events.yaml"
    assert any("USD 18,400" in text for text in cited_lines(body, n, corpus_root(small_config)))
    other = ask(small_config, "what was conference spend in Q3 2025?")  # the definition states no Q3 figure
    assert other["abstained"] and other["confidence"] == 0.0


def test_the_bracket_that_holds_the_amount_asked_about_answers(small_config: Path) -> None:
    for question, row in (
        ("who reviews a 1.2M journal entry?", "| $1,000,000 and above | the Controller |"),
        ("who reviews a $40k manual journal entry?", "| below $100,000 | any accountant on the GL team |"),
    ):
        body = ask(small_config, question)
        quoted = [cited_lines(body, n, corpus_root(small_config)) for _, n in lead_refs(body["answer"])]
        assert [row] in quoted, question  # the row is quoted and cited by its own line
        assert not any("|" in line and line != row for lines in quoted for line in lines), question


def test_a_csv_row_whose_bound_columns_hold_the_amount_answers(small_config: Path) -> None:
    body = ask(small_config, "who approves a capital expenditure of 120k?")
    (line, n), *_ = lead_refs(body["answer"])
    assert "approver=VP Operations" in line  # not the first row, which shares as many words
    assert cited_lines(body, n, corpus_root(small_config)) == ["Capital expenditure,25000.01,150000,VP Operations"]


def test_a_superseded_document_among_the_sources_gets_a_note(small_config: Path) -> None:
    body = ask(small_config, "were receipts handed in after ninety days refused outright, and when are claims due?")
    paths = [s["path"] for s in body["sources"]]
    assert "policies/archive/expenses-2023.md" in paths[:3]
    note = next(line for line in body["answer"].splitlines() if line.startswith("Note: "))
    old = paths.index("policies/archive/expenses-2023.md") + 1
    assert f"policies/archive/expenses-2023.md [{old}] is marked superseded" in note
    if "policies/expenses.md" in paths:  # the current policy, when listed, is named as the one in force
        assert f"policies/expenses.md [{paths.index('policies/expenses.md') + 1}] is the one in force" in note


def test_no_note_without_a_superseded_document(small_config: Path) -> None:
    body = ask(small_config, "how many times does the nightly sync retry a failed batch?", "--path", "systems/")
    assert "Note: " not in body["answer"]


def test_a_metric_question_gets_its_definition_card_cited_to_its_yaml_lines(indexed_config: Path) -> None:
    body = ask(indexed_config, "what's the formula for DSO")
    text = body["answer"]
    lines = (CORPUS / "metrics/receivables.yaml").read_text().splitlines()
    (lead, n), *_ = lead_refs(text)
    assert lead.startswith("Expression: accounts_receivable / nullif(billings, 0) * days_in_period")
    source = body["sources"][n - 1]
    assert source["path"] == "metrics/receivables.yaml"
    assert any("nullif(billings, 0)" in line for line in lines[source["start_line"] - 1 : source["end_line"]])
    card = text.split(f"From the definition in metrics/receivables.yaml [{n}]:")[1].split("\n\n")[0]
    for attribute, held in (("Metric dso", "Days sales outstanding"), ("Owner", "owner:"), ("Description", "DSO")):
        line = next(line for line in card.splitlines() if line.startswith(f"- {attribute}"))
        first, last = re.search(r"\(lines? (\d+)(?:-(\d+))?\)$", line).groups()  # type: ignore[union-attr]
        cited = lines[int(first) - 1 : int(last or first)]
        assert any(held in c for c in cited), (attribute, cited)
