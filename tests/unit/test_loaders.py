from pathlib import Path

import pytest

from ingest.chunking import split_range
from ingest.errors import DocumentError
from ingest.loaders import load_markdown, load_yaml
from tests.conftest import write_file as write

POLICY = """\
---
title: Refunds and Credit Notes
owner: Controller
---
# Refunds

Intro paragraph.

## Refund window

Annual plans: full refund within 30 days.

```
# a comment in code, not a heading
```

## Approvals
### Over USD 5,000

The Controller approves.
"""

METRICS = """\
version: 2
metrics:
  - name: arr
    label: Annual Recurring Revenue
    description: MRR times twelve.
    type: derived

  - name: mrr
    label: Monthly Recurring Revenue
    description: >
      Sum of normalized monthly value.
models:
  - name: fct_payouts
    description: One row per payout.
    columns:
      - name: arrival_date
        description: When the funds land.
      - name: amount
        description: Payout amount.
"""


def lines_of(path: Path, first: int, last: int) -> str:
    return "\n".join(path.read_text().splitlines()[first - 1 : last])


def test_markdown_splits_by_heading_with_exact_line_ranges(tmp_path: Path) -> None:
    path = write(tmp_path, "refunds.md", POLICY)
    doc = load_markdown(path)
    assert doc.title == "Refunds and Credit Notes"  # front matter beats the H1
    assert doc.front_matter["owner"] == "Controller"
    got = [(p.section, p.start_line, p.end_line) for p in doc.passages]
    assert got == [
        ("Refunds", 5, 7),
        ("Refunds > Refund window", 9, 15),  # the fenced '#' line is not a heading
        ("Refunds > Approvals > Over USD 5,000", 18, 20),  # '## Approvals' alone has no body
    ]
    for passage in doc.passages:
        assert passage.text == lines_of(path, passage.start_line, passage.end_line)


def test_markdown_title_falls_back_to_h1_then_file_name(tmp_path: Path) -> None:
    assert load_markdown(write(tmp_path, "a.md", "# Close calendar\n\nBD5.\n")).title == "Close calendar"
    assert load_markdown(write(tmp_path, "month_end_close.md", "Just text.\n")).title == "Month end close"


def test_long_sections_are_split_at_paragraphs_and_keep_their_section(tmp_path: Path) -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(8))
    path = write(tmp_path, "long.md", f"# Long\n\n## Part\n\n{paragraphs}\n")
    passages = load_markdown(path, max_chars=800).passages
    assert len(passages) > 2
    assert {p.section for p in passages} == {"Long > Part"}
    assert all(len(p.text) <= 800 for p in passages)
    assert all(p.text == lines_of(path, p.start_line, p.end_line) for p in passages)
    assert passages[1].text.startswith("Paragraph")  # cut at a blank line, not mid-paragraph


def test_split_range_keeps_an_overlong_line_whole() -> None:
    lines = ["short", "x" * 5000, "short"]
    assert split_range(lines, 0, 2, max_chars=100) == [(0, 0), (1, 1), (2, 2)]


def test_front_matter_left_open_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="never closed"):
        load_markdown(write(tmp_path, "open.md", "---\ntitle: x\n# Body\n"))


def test_yaml_gives_one_passage_per_named_item_with_its_key_path(tmp_path: Path) -> None:
    # dbt YAML (metrics:, models:) is rendered as text (tests/unit/test_dbt.py); its citations still
    # carry the key path and the item's exact line range.
    path = write(tmp_path, "metrics.yaml", METRICS)
    passages = load_yaml(path, max_chars=100).passages  # small enough to split the model by column
    by_section = {p.section: p for p in passages}
    assert {"metrics.arr", "metrics.mrr", "models.fct_payouts.columns.arrival_date"} <= set(by_section)
    arr = by_section["metrics.arr"]
    assert (arr.start_line, arr.end_line, arr.title) == (3, 6, "Annual Recurring Revenue")
    assert by_section["metrics.mrr"].end_line == 11  # the folded scalar's last line, not the next key
    column = by_section["models.fct_payouts.columns.arrival_date"]
    assert column.text == "Model fct_payouts, column arrival_date: When the funds land."
    assert lines_of(path, column.start_line, column.end_line).strip().startswith("- name: arrival_date")


def test_generic_yaml_passages_are_the_files_own_lines(tmp_path: Path) -> None:
    text = METRICS.replace("metrics:", "kpis:").replace("models:", "tables:")  # not dbt: the generic walker
    path = write(tmp_path, "kpis.yaml", text)
    passages = load_yaml(path, max_chars=120).passages
    by_section = {p.section: p for p in passages}
    assert {"kpis.arr", "kpis.mrr", "tables.fct_payouts.columns.arrival_date"} <= set(by_section)
    assert by_section["kpis.arr"].text.strip().startswith("- name: arr")
    for passage in passages:
        assert passage.text == lines_of(path, passage.start_line, passage.end_line)


def test_a_small_yaml_file_is_one_passage(tmp_path: Path) -> None:
    path = write(tmp_path, "owners.yaml", "team: fpa\nlead: Priya\n")
    passages = load_yaml(path).passages
    assert [(p.section, p.start_line, p.end_line) for p in passages] == [(None, 1, 2)]


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "metrics:\n  - name: arr\n    label: [unclosed\n")
    with pytest.raises(DocumentError, match=r"bad.yaml: invalid YAML: line \d+"):
        load_yaml(path)


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.md", "# Title\n\nok\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(DocumentError, match="line 4: not valid UTF-8"):
        load_markdown(path)


def test_binary_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="binary"):
        load_yaml(write(tmp_path, "x.yaml", b"\x00\x01\x02"))


def test_front_matter_status_reaches_the_chunk_metadata(tmp_path: Path) -> None:
    from ingest import pipeline, store
    from ingest.sources import SourceFile

    path = tmp_path / "policies" / "old.md"
    path.parent.mkdir()
    path.write_text("---\ntitle: Old refunds\nstatus: Superseded\n---\n\n# Old refunds\n\nFourteen days.\n")
    nodes = pipeline.build_nodes(SourceFile(tmp_path, path))
    assert [node.metadata[store.STATUS] for node in nodes] == ["superseded"]
