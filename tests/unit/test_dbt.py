"""dbt YAML is indexed by meaning: one rendered chunk per model, table, metric... citing its YAML lines."""

from pathlib import Path

import pytest
import yaml

from ingest.dbt_docs import collect_doc_blocks
from ingest.loaders import LoadContext, build_context, load_document, load_markdown, load_yaml

SCHEMA = """\
version: 2

models:
  - name: rpt_payouts
    description: One row per payout and balance transaction.
    meta:
      grain: "One row per payout per balance transaction."
      owner: payments-ops
    columns:
      - name: payout_id
        data_type: varchar
        description: Lumen payout identifier.
        tests:
          - not_null
      - name: arrival_date
        data_type: date
        description: Date the payout is expected to land in the bank account.
      - name: status
        description: "{{ doc('payout_status') }}"
        tests:
          - accepted_values:
              values: ['pending', 'paid']
      - name: currency
        description: "{{ doc('missing_block') }}"

seeds:
  - name: country_codes
    description: ISO country codes and names.
    config:
      grain: one row per country
    columns:
      - name: code
        description: Two-letter ISO 3166 code.

snapshots:
  - name: snp_customers
    description: Daily history of the customers table.
    config:
      strategy: timestamp
      updated_at: updated_at

sources:
  - name: lumen
    description: Raw Lumen Payments exports.
    schema: raw_lumen
    tables:
      - name: payouts
        description: One row per Lumen payout.
        columns:
          - name: id
            description: Payout id (prefix po_).
      - name: charges
        description: One row per card charge.
"""

METRICS = """\
semantic_models:
  - name: payouts
    description: Payout facts.
    model: ref('fct_payouts')
    entities:
      - name: payout
        type: primary
        expr: payout_id
    measures:
      - name: payout_amount_usd
        description: Payout amount in USD.
        agg: sum
        expr: amount_usd

metrics:
  - name: total_payouts
    label: Total payouts
    description: Sum of payout amounts.
    type: simple
    type_params:
      measure: payout_amount_usd
    filter: |
      {{ Dimension('payout__status') }} = 'paid'
    meta:
      aliases: [payouts total, cash out]
      owner: Priya
  - name: payout_success_rate
    label: Payout success rate
    type: ratio
    type_params:
      numerator: paid_payouts
      denominator:
        name: all_payouts
        filter: "{{ Dimension('payout__status') }} != 'canceled'"
  - name: payout_growth
    label: Payout growth
    type: derived
    type_params:
      expr: (total_payouts - prior) / prior
      metrics:
        - name: total_payouts
        - name: total_payouts
          offset_window: 1 month
          alias: prior
  - name: ytd_payouts
    label: Payouts year to date
    type: cumulative
    type_params:
      measure: payout_amount_usd
      grain_to_date: year
  - name: trailing_payouts
    label: Trailing payouts
    type: cumulative
    type_params:
      measure: payout_amount_usd
      window: 12 months
  - name: signup_conversion
    label: Signup conversion
    type: conversion
    type_params:
      conversion_type_params:
        base_measure: visits
        conversion_measure: signups
        entity: user
"""

DOCS = """\
# Column docs

{% docs payout_status %}
Status of the payout: **pending** until the bank confirms it, then **paid**.
{% enddocs %}

Some text outside the blocks, with {{ jinja }} left in it.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def by_section(passages: list) -> dict:  # type: ignore[type-arg]
    found: dict = {}  # type: ignore[type-arg]
    for p in passages:
        found.setdefault(p.section, p)
    return found


def covers(path: Path, passage: object, *needles: str) -> None:
    """The cited lines hold every needle: the citation points at the item the text was rendered from."""
    lines = path.read_text().splitlines()[passage.start_line - 1 : passage.end_line]  # type: ignore[attr-defined]
    cited = "\n".join(lines)
    for needle in needles:
        assert needle in cited, f"{needle!r} not in lines {passage.start_line}-{passage.end_line}"  # type: ignore[attr-defined]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path, "models/schema.yml", SCHEMA)
    write(tmp_path, "models/metrics.yml", METRICS)
    write(tmp_path, "models/docs.md", DOCS)
    return tmp_path


def test_a_small_model_is_one_chunk_with_description_grain_and_columns(project: Path) -> None:
    path = project / "models/schema.yml"
    context = build_context(project.rglob("*"))
    sections = by_section(load_yaml(path, context).passages)
    model = sections["models.rpt_payouts"]
    assert model.text.startswith("Model rpt_payouts: One row per payout and balance transaction.")
    assert "Grain: One row per payout per balance transaction." in model.text
    assert "- column arrival_date (date): Date the payout is expected to land" in model.text
    assert "Tests: accepted_values: values: pending, paid" in model.text
    assert (model.start_line, model.end_line) == (4, 24)
    covers(path, model, "- name: rpt_payouts", "- name: currency")


def test_a_large_model_is_split_into_column_groups_that_name_the_model(project: Path) -> None:
    path = project / "models/schema.yml"
    passages = [p for p in load_yaml(path, max_chars=160).passages if p.section.startswith("models.")]
    overview = "\n".join(p.text for p in passages if p.section == "models.rpt_payouts")
    assert overview.startswith("Model rpt_payouts: One row per payout and balance transaction.")
    assert "Columns: payout_id, arrival_date, status, currency" in overview
    columns = [p for p in passages if p.section.startswith("models.rpt_payouts.columns")]
    assert len(columns) >= 3
    assert all(p.text.startswith("Model rpt_payouts, column ") for p in columns)
    assert all(len(p.text) <= 160 for p in passages)
    arrival = by_section(columns)["models.rpt_payouts.columns.arrival_date"]
    assert arrival.text == (
        "Model rpt_payouts, column arrival_date (date): Date the payout is expected to land in the bank account."
    )
    covers(path, arrival, "- name: arrival_date", "expected to land")
    assert "expected to land" not in overview  # column descriptions are in the column chunks only


def test_columns_pack_into_groups_cited_by_their_parent_key(tmp_path: Path) -> None:
    columns = "".join(f"      - name: c{i}\n        description: Column number {i}.\n" for i in range(12))
    path = write(tmp_path, "wide.yml", f"models:\n  - name: wide\n    description: Wide.\n    columns:\n{columns}")
    passages = load_yaml(path, max_chars=200).passages
    groups = [p for p in passages if p.section == "models.wide.columns"]
    assert len(groups) >= 2
    assert all(text.startswith("Model wide, column c") for p in groups for text in p.text.splitlines())
    first = groups[0]
    assert (first.start_line, first.text.splitlines()[0]) == (5, "Model wide, column c0: Column number 0.")
    covers(path, groups[-1], "- name: c11")


def test_doc_references_are_resolved_from_the_corpus_and_unknown_ones_stay_readable(project: Path) -> None:
    context = build_context(project.rglob("*"))
    assert set(context.doc_blocks) == {"payout_status"}
    model = by_section(load_yaml(project / "models/schema.yml", context).passages)["models.rpt_payouts"]
    assert "- column status: Status of the payout: **pending** until the bank confirms it" in model.text
    assert "- column currency: {{ doc('missing_block') }}" in model.text
    without = by_section(load_yaml(project / "models/schema.yml").passages)["models.rpt_payouts"]
    assert "{{ doc('payout_status') }}" in without.text  # no context: left as written, not dropped


def test_docs_blocks_are_chunks_of_their_own_and_the_rest_of_the_markdown_stays(project: Path) -> None:
    path = project / "models/docs.md"
    passages = load_markdown(path).passages
    docs = by_section(passages)["docs.payout_status"]
    assert docs.text == "Status of the payout: **pending** until the bank confirms it, then **paid**."
    assert (docs.start_line, docs.end_line) == (4, 4)
    rest = by_section(passages)["Column docs"]
    assert rest.text.startswith("# Column docs\n") and rest.text.endswith("with {{ jinja }} left in it.")
    assert "Status of the payout" not in rest.text
    assert (rest.start_line, rest.end_line) == (1, 7)
    assert "{% docs" not in " ".join(p.text for p in passages)


def test_collect_doc_blocks_reads_markdown_only_and_skips_unreadable_files(tmp_path: Path) -> None:
    good = write(tmp_path, "a.md", "{% docs one %}First.{% enddocs %}\n{%- docs two -%}\nSecond.\n{%- enddocs -%}\n")
    other = write(tmp_path, "b.yml", "{% docs three %}not markdown{% enddocs %}\n")
    broken = tmp_path / "c.md"
    broken.write_bytes(b"\xff\xfe{% docs four %}x{% enddocs %}")
    assert collect_doc_blocks([good, other, broken, tmp_path / "gone.md"]) == {"one": "First.", "two": "Second."}


def test_source_and_its_tables(project: Path) -> None:
    path = project / "models/schema.yml"
    sections = by_section(load_yaml(path, max_chars=120).passages)
    source = sections["sources.lumen"]
    assert source.text.startswith("Source lumen: Raw Lumen Payments exports.")
    assert "Tables: payouts, charges" in source.text
    assert "Schema: raw_lumen" in source.text
    table = sections["sources.lumen.tables.payouts"]
    assert table.text.startswith("Source table lumen.payouts: One row per Lumen payout.")
    assert "- column id: Payout id (prefix po_)." in sections["sources.lumen.tables.payouts"].text
    column = by_section(load_yaml(path, max_chars=70).passages)["sources.lumen.tables.payouts.columns.id"]
    assert column.text == "Source table lumen.payouts, column id: Payout id (prefix po_)."
    covers(path, column, "- name: id")
    covers(path, sections["sources.lumen.tables.charges"], "- name: charges", "One row per card charge.")


def test_seeds_and_snapshots(project: Path) -> None:
    sections = by_section(load_yaml(project / "models/schema.yml").passages)
    seed = sections["seeds.country_codes"]
    assert seed.text.splitlines()[:2] == [
        "Seed country_codes: ISO country codes and names.",
        "Grain: one row per country",
    ]
    snapshot = sections["snapshots.snp_customers"]
    assert "Strategy: timestamp" in snapshot.text and "Updated at: updated_at" in snapshot.text
    assert "version" not in sections  # "version: 2" is not worth a chunk


def test_metrics_of_every_type_name_their_formula(project: Path) -> None:
    path = project / "models/metrics.yml"
    sections = by_section(load_yaml(path).passages)
    simple = sections["metrics.total_payouts"]
    assert simple.title == "Total payouts"
    assert simple.text.splitlines()[:4] == [
        "Metric total_payouts: Total payouts",
        "Also called: payouts total, cash out",
        "Type: simple",
        "Measure: payout_amount_usd (sum(amount_usd) in semantic model payouts, built on model fct_payouts)",
    ]
    assert "Filter: {{ Dimension('payout__status') }} = 'paid'" in simple.text  # Jinja kept as written
    assert "Description: Sum of payout amounts." in simple.text
    assert "Owner: Priya" in simple.text
    covers(path, simple, "- name: total_payouts", "owner: Priya")
    ratio = sections["metrics.payout_success_rate"].text
    assert "Formula: paid_payouts / all_payouts [filter {{ Dimension('payout__status') }} != 'canceled']" in ratio
    derived = sections["metrics.payout_growth"].text
    assert "Expression: (total_payouts - prior) / prior" in derived
    assert "Input metrics: total_payouts; total_payouts [offset window 1 month, as prior]" in derived
    assert "Accumulates year to date" in sections["metrics.ytd_payouts"].text
    assert "Accumulates over a trailing 12 months window" in sections["metrics.trailing_payouts"].text
    conversion = sections["metrics.signup_conversion"].text
    assert "base_measure: visits" in conversion and "conversion_measure: signups" in conversion


def test_semantic_models_list_entities_dimensions_and_measures(project: Path) -> None:
    path = project / "models/metrics.yml"
    model = by_section(load_yaml(path).passages)["semantic_models.payouts"]
    assert model.text.splitlines()[0] == "Semantic model payouts: Payout facts."
    assert "- measure payout_amount_usd (sum(amount_usd)): Payout amount in USD." in model.text
    assert "- entity payout (type primary, expr payout_id)" in model.text
    covers(path, model, "- name: payouts", "expr: amount_usd")


def test_jinja_in_yaml_text_does_not_break_anything(tmp_path: Path) -> None:
    path = write(tmp_path, "jinja.yml", """\
models:
  - name: m
    description: "{{ config(materialized='table') }} {% if x %}odd{% endif %} {{ doc( }}"
    columns:
      - name: c
        description: '{%- set y = 1 -%}{{ y }}'
""")
    model = load_yaml(path, LoadContext(doc_blocks={"x": "X"})).passages[0]
    assert "{{ config(materialized='table') }} {% if x %}odd{% endif %} {{ doc( }}" in model.text
    assert "- column c: {%- set y = 1 -%}{{ y }}" in model.text


def test_a_yaml_file_of_tens_of_kb_is_fully_indexed(tmp_path: Path) -> None:
    columns = [
        {"name": f"column_{i:03d}", "data_type": "varchar",
         "description": f"Column {i} of the wide ledger export. " + "It holds a value used in reconciliation. " * 3}
        for i in range(300)
    ]
    model = {"name": "wide_ledger", "description": "Wide.", "columns": columns}
    text = yaml.safe_dump({"version": 2, "models": [model]}, sort_keys=False)
    assert len(text) > 40_000
    path = write(tmp_path, "wide_ledger.yml", text)
    passages = load_yaml(path).passages
    assert all(len(p.text) <= 1200 for p in passages)
    rendered = "\n".join(p.text for p in passages[1:])
    assert all(f"Model wide_ledger, column column_{i:03d} (varchar)" in rendered for i in range(300))
    assert passages[-1].end_line == len(text.splitlines())


def test_non_dbt_yaml_keeps_the_generic_walker(tmp_path: Path) -> None:
    path = write(tmp_path, "owners.yaml", "teams:\n  - name: fpa\n    lead: Priya\n  - name: tax\n    lead: Aiko\n")
    assert [(p.section, p.start_line) for p in load_yaml(path).passages] == [(None, 1)]  # small: one passage
    passages = load_yaml(path, max_chars=30).passages
    assert [(p.section, p.start_line, p.end_line) for p in passages] == [("teams.fpa", 2, 3), ("teams.tax", 4, 5)]
    assert passages[0].text == "  - name: fpa\n    lead: Priya"


@pytest.mark.parametrize("name", ["metrics [draft].yml", "my metrics (v2).yml", "weird name & more.md"])
def test_file_names_with_brackets_and_spaces(tmp_path: Path, name: str) -> None:
    text = METRICS if name.endswith(".yml") else DOCS
    path = write(tmp_path, f"dir [x]/{name}", text)
    context = build_context([path])
    passages = load_document(path, context).passages
    assert passages and all(p.start_line <= p.end_line for p in passages)


def test_other_entries_of_a_dbt_file_keep_the_generic_walker(tmp_path: Path) -> None:
    text = "version: 2\nmodels:\n  - name: m\n    description: M.\nanchors:\n  - name: board_pack\n    owner: fpa\n"
    path = write(tmp_path, "mixed.yml", text)
    passages = load_yaml(path).passages
    assert [(p.section, p.start_line, p.end_line) for p in passages] == [
        ("models.m", 3, 4),
        ("anchors.board_pack", 6, 7),
    ]
    assert passages[1].text == "  - name: board_pack\n    owner: fpa"  # the file's own lines

