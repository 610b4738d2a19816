"""Wiki-export markup out of Markdown, line for line; rendered passages located among their file's lines."""

from pathlib import Path

import pytest

from ingest import line_map
from ingest.errors import DocumentError
from ingest.loaders import load_document, load_markdown
from ingest.markup import clean_lines
from tests.conftest import write_file


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("## Late claims {#late-claims}", "## Late claims"),
        ("{.h2}", ""),
        ("{: .note}", ""),
        ("{{< hint warning >}}", ""),
        ("{{< /hint >}}", ""),
        ('{{< tab "UK" >}}', "UK:"),
        ('See {{< ref "travel/per-diems.md" >}}.', "See travel/per-diems.md."),
        ('{% include "snippets/contact.md" %}', ""),
        ("Ask the <span style=\"color:red\">Controller</span>.<br/>Then wait.", "Ask the Controller. Then wait."),
        ("<details><summary>Exceptions</summary>", "Exceptions"),
        ("<h3>Scope</h3>", "### Scope"),
        ("<tr><td>Travel</td><td>EUR 200</td></tr>", "Travel | EUR 200 |"),
        ("Relocation&nbsp;costs follow [the page](../hr/reloc.md).", "Relocation costs follow the page."),
        ("|  Meals    |   EUR 60   |  Manager  |", "| Meals | EUR 60 | Manager |"),
        ('!!! note "Mileage"', "Mileage:"),
        (":::", ""),
        ("if the amount is <500 and the vendor is new", "if the amount is <500 and the vendor is new"),
        ("Keep {{ page.owner }} as written", "Keep {{ page.owner }} as written"),
    ],
)
def test_markup_is_taken_out_of_a_line(raw: str, clean: str) -> None:
    assert clean_lines([raw]) == [clean]


def test_comments_and_fences_keep_the_line_count() -> None:
    lines = ["before <!-- a", "still a comment", "end --> after", "```", "<b>code</b>", "```"]
    assert clean_lines(lines) == ["before", "", " after", "```", "<b>code</b>", "```"]


def test_a_cleaned_page_still_cites_the_original_lines(tmp_path: Path) -> None:
    text = (
        "---\ntitle: Expenses\n---\n{{< hint info >}}\nRead this first.\n{{< /hint >}}\n\n"
        "## Late claims {#late}\n{.h2}\n\nClaims older than <b>60 days</b> are refused.\n"
    )
    passages = load_markdown(write_file(tmp_path, "expenses.md", text)).passages
    late = next(p for p in passages if p.section == "Late claims")
    assert late.text.splitlines()[0] == "## Late claims"
    assert late.text.splitlines()[-1] == "Claims older than 60 days are refused."
    assert text.splitlines()[late.end_line - 1].startswith("Claims older than <b>60 days</b>")


def test_toml_front_matter_is_read(tmp_path: Path) -> None:
    path = write_file(tmp_path, "page.md", '+++\ntitle = "Card policy"\nstatus = "superseded"\n+++\nText.\n')
    doc = load_markdown(path)
    assert doc.title == "Card policy" and doc.front_matter["status"] == "superseded"
    assert doc.passages[0].start_line == 5


def test_unclosed_toml_front_matter_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"line 1: front matter opened with '\+\+\+' is never closed"):
        load_markdown(write_file(tmp_path, "page.md", '+++\ntitle = "x"\nText.\n'))


def test_rendered_lines_are_located_in_the_yaml(tmp_path: Path) -> None:
    yaml_text = (
        "metrics:\n  - name: dso\n    label: Days sales outstanding (DSO)\n    description: >\n"
        "      DSO is receivables over billings\n      times the days in the period.\n    type: derived\n"
        "    meta:\n      owner: Marcus Okafor\n"
    )
    passage = load_document(write_file(tmp_path, "m.yaml", yaml_text)).passages[0]
    located = dict(zip(passage.text.splitlines(), passage.line_map or (), strict=True))
    assert located["Metric dso: Days sales outstanding (DSO)"] == (3, 3)
    assert located["Type: derived"] == (7, 7)
    assert located["Owner: Marcus Okafor"] == (9, 9)
    assert located["Description: DSO is receivables over billings times the days in the period."] == (5, 6)


def test_line_maps_round_trip_through_metadata_text() -> None:
    ranges = [(3, 3), (5, 6), (9, 9)]
    assert line_map.encode(ranges) == "3,5-6,9"
    assert line_map.decode("3,5-6,9") == ranges


def test_a_line_whose_words_are_not_in_the_range_cites_the_whole_range() -> None:
    assert line_map.locate_lines(["Heading the renderer wrote", "value 42"], ["a: 41", "b: 42"], 1, 2) == [
        (1, 2), (2, 2)
    ]
