"""dbt resources other than models, sources and metrics (exposures, macros, saved queries), the column lines a
model chunk renders, and YAML written in flow style: rendered by meaning, citing their YAML lines."""

from pathlib import Path

from ingest.loaders import load_yaml
from tests.unit.test_dbt import by_section, write

EXPOSURES = """\
version: 2
exposures:
  - name: weekly_revenue
    label: Weekly Revenue
    type: dashboard
    description: Revenue by plan, refreshed every Monday.
    depends_on:
      - ref('fct_invoices')
      - ref('finance', 'dim_customers')
      - source('stripe', 'charges')
      - metric('net_revenue')
    owner:
      name: Dana Okafor
      email: dana@example.com
macros:
  - name: cents_to_dollars
    description: Converts cents to dollars.
    arguments:
      - name: column_name
        type: string
        description: The column holding cents.
saved_queries:
  - name: arr_by_plan
    description: ARR by plan each month.
    query_params:
      metrics: [arr]
"""


def test_exposures_macros_and_saved_queries_are_rendered_and_cite_their_lines(tmp_path: Path) -> None:
    passages = load_yaml(write(tmp_path, "exposures.yml", EXPOSURES)).passages
    by_section = {p.section: p for p in passages}
    assert [(p.section, p.start_line, p.end_line) for p in passages] == [
        ("exposures.weekly_revenue", 3, 14),
        ("macros.cents_to_dollars", 16, 21),
        ("saved_queries.arr_by_plan", 23, 26),
    ]
    exposure = by_section["exposures.weekly_revenue"].text
    assert exposure.startswith("Exposure weekly_revenue (Weekly Revenue): Revenue by plan, refreshed every Monday.")
    assert "Depends on: model fct_invoices, model dim_customers, source stripe.charges, metric net_revenue" in exposure
    assert "Owner: name: Dana Okafor; email: dana@example.com" in exposure
    macro = by_section["macros.cents_to_dollars"].text
    assert "- argument column_name (string): The column holding cents." in macro
    assert by_section["saved_queries.arr_by_plan"].text.startswith("Saved query arr_by_plan: ARR by plan each month.")


def test_columns_in_reads_the_column_lines_a_model_chunk_renders() -> None:
    from ingest.dbt import columns_in

    text = (
        "Model rpt_payouts, column arrival_date (date): When the money lands.\nTests: not_null\n"
        "Model rpt_payouts, column payout_id (varchar): The payout.\n"
    )
    assert columns_in(text) == ["arrival_date", "payout_id"]
    assert columns_in("Model rpt_payouts\nColumns:\n- column currency (varchar): ISO code.") == ["currency"]
    assert columns_in("A policy that mentions a column in prose.") == []


def test_a_mapping_written_in_flow_style_is_rendered_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, "models/_sources.yml", """\
version: 2
sources:
  - name: stripe
    freshness:
      warn_after: {count: 12, period: hour}
      error_after:
        count: 24
        period: hour
    tables:
      - name: refunds
        columns:
          - name: charge
            data_tests:
              - relationships: {to: ref('stg_charges'), field: id}
""")
    sections = by_section(load_yaml(path).passages)
    source = sections["sources.stripe"].text
    assert "Freshness: warn_after: {count: 12, period: hour}; error_after: count: 24; period: hour" in source
    assert "relationships: {to: ref('stg_charges'), field: id}" in sections["sources.stripe.tables.refunds"].text
