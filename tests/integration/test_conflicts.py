"""Two current documents giving other figures for the same ask: the answer says so and cites both (real model,
real Chroma). Lines that agree, or that state figures for something else, make no note."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.interfaces.cli import cli
from tests.conftest import ingested_pages

pytestmark = pytest.mark.model

PAGES = {
    "travel/hotels.md": (
        "# Hotels\n\n## Hotel limits\n\n"
        "A hotel night in London is reimbursed up to GBP 250, breakfast included.\n\n"
        "## Receipts\n\nReceipts are required for any expense above USD 25.\n"
    ),
    "travel/travel-faq.md": (  # an older page nobody marked superseded
        "# Travel FAQ\n\n## Hotel limits\n\n"
        "The hotel limit for a night in London is GBP 180, breakfast included.\n\n"
        "## Receipts\n\nReceipts are required for any expense above USD 25.\n"
    ),
    "travel/entertainment.md": (
        "# Client entertainment\n\nA client dinner is reimbursed up to GBP 150 per head, drinks included.\n"
    ),
}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield ingested_pages(tmp_path_factory.mktemp("conflicts"), PAGES)


def ask(config: Path, question: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["--config", str(config), "ask", "--json", question])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_two_documents_with_other_figures_for_the_same_ask_get_a_note_citing_both(config: Path) -> None:
    body = ask(config, "what's the hotel limit for a night in london?")
    assert not body["abstained"]
    note = next(line for line in body["answer"].splitlines() if line.startswith("Note: the documents differ"))
    paths = [s["path"] for s in body["sources"]]
    for path in ("travel/hotels.md", "travel/travel-faq.md"):
        assert f"{path} [{paths.index(path) + 1}]" in note
    lead = body["answer"].split("\n\n")[0]
    other = "GBP 180" if "GBP 250" in lead else "GBP 250"
    assert other in note  # the other document's figure is quoted in the note
    cited = {s["path"] for s in body["sources"] if s["cited"]}
    assert {"travel/hotels.md", "travel/travel-faq.md"} <= cited


def test_documents_that_agree_make_no_note(config: Path) -> None:
    body = ask(config, "above what amount are receipts required?")
    assert "USD 25" in body["answer"]
    assert "the documents differ" not in body["answer"]


def test_figures_for_something_else_make_no_note(config: Path) -> None:
    body = ask(config, "how much can i spend per head on a client dinner?")
    assert "GBP 150" in body["answer"]
    assert "the documents differ" not in body["answer"]
