"""The corpus's dbt Semantic Layer YAML as a MetricFlow manifest: built without dbt, bad YAML named by file/field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import SemanticLayerError
from bot.values.project import load_project
from tests.conftest import CORPUS

GOOD = """\
semantic_models:
  - name: orders
    model: ref('fct_orders')
    defaults:
      agg_time_dimension: order_date
    entities:
      - name: order
        type: primary
        expr: order_id
    dimensions:
      - name: order_date
        type: time
        type_params:
          time_granularity: day
    measures:
      - name: order_total
        agg: sum
        expr: amount

metrics:
  - name: revenue
    label: Revenue
    type: simple
    type_params:
      measure: order_total
    meta:
      aliases: [sales]
"""


def write(folder: Path, text: str) -> Path:
    (folder / "metrics").mkdir(exist_ok=True)
    path = folder / "metrics" / "orders.yaml"
    path.write_text(text)
    return path


def test_the_corpus_builds_and_cites_each_metric_as_ingest_does() -> None:
    project = load_project([CORPUS])
    assert len(project.definitions) >= 60
    assert project.definitions["arr"].citation == "metrics/mrr.yaml:87-108 (metrics.arr)"
    assert project.tables["mrr_snapshots"] == "fct_mrr"
    names = {m.name for m in project.manifest.metrics}
    assert {"arr", "arpa", "cumulative_billings", "net_new_mrr"} <= names
    arpa = next(m for m in project.manifest.metrics if m.name == "arpa")
    assert arpa.type_params.numerator.name == "mrr"  # `numerator: mrr` shorthand expanded


def test_a_small_project_builds_with_its_aliases_and_node_relation(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    project = load_project([tmp_path], schema="analytics")
    assert project.definitions["revenue"].aliases == ("sales",)
    relation = project.manifest.semantic_models[0].node_relation
    assert (relation.schema_name, relation.alias) == ("analytics", "fct_orders")


def test_a_model_that_is_not_a_ref_is_named_by_file_line_and_field(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("model: ref('fct_orders')", "model: fct_orders"))
    with pytest.raises(SemanticLayerError, match=r"metrics/orders.yaml:3: semantic_models.orders.model: "
                                                 r"expected ref\('table_name'\), got 'fct_orders'"):
        load_project([tmp_path])


def test_a_bad_field_is_named_by_file_line_and_path(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("    type: simple\n", "    type: simplest\n"))
    with pytest.raises(SemanticLayerError, match=r"metrics/orders.yaml:23: metrics.revenue.type: "):
        load_project([tmp_path])


def test_a_metric_on_an_unknown_measure_fails_validation_naming_its_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("measure: order_total", "measure: order_totals"))
    with pytest.raises(SemanticLayerError, match=r"not valid:\n  metrics/orders.yaml:21: .*order_totals"):
        load_project([tmp_path])


def test_invalid_yaml_and_duplicates_are_reported(tmp_path: Path) -> None:
    write(tmp_path, GOOD + "  - name: [oops\n")
    with pytest.raises(SemanticLayerError, match=r"metrics/orders.yaml: line \d+: .*fix the YAML syntax"):
        load_project([tmp_path])
    write(tmp_path, GOOD + GOOD.split("metrics:\n")[1])
    with pytest.raises(SemanticLayerError, match=r"metrics.revenue: defined twice \(first at metrics/orders.yaml:21"):
        load_project([tmp_path])


def test_no_metrics_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(SemanticLayerError, match="no `metrics:` found in"):
        load_project([tmp_path])
