"""Metric values over HTTP on a real uvicorn: `data` in /v1/ask, GET /v1/metrics, POST /v1/metrics/query."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import pytest

from bot.answering.answerer import Answerer, load_answerer
from bot.config import Config, load_config
from bot.interfaces.api import create_api
from bot.interfaces.http_auth import ApiKeys
from bot.values.answer import load_value_service
from tests.integration.servers import uvicorn_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.model]

KEY = "values-test-key-0123456789"
ARR_Q3 = "select 12 * sum(mrr_usd) from fct_mrr where snapshot_month = date '2025-09-01'"


def with_warehouse(config: Config, path: Path) -> Config:
    return config.model_copy(update={"warehouse": config.warehouse.model_copy(update={"path": path})})


@pytest.fixture(scope="module")
def answerer(indexed_config: Path, warehouse: Path) -> Answerer:
    found = load_answerer(with_warehouse(load_config(indexed_config), warehouse))
    assert found.values is not None
    return found


@pytest.fixture(scope="module")
def base_url(answerer: Answerer) -> Iterator[str]:
    with uvicorn_in_thread(create_api(answerer, keys=ApiKeys.of([KEY]))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers={"X-API-Key": KEY}, timeout=60) as found:
        yield found


def by_hand(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_value_answer_carries_its_table_as_data(client: httpx.Client, warehouse: Path) -> None:
    body = client.post("/v1/ask", json={"question": "what was ARR in Q3 2025?"}).json()
    expected = float(by_hand(warehouse, ARR_Q3)[0][0])  # type: ignore[arg-type]
    data = body["data"]
    assert data["metrics"] == ["arr"] and data["columns"] == ["period", "arr"]
    assert data["period"] == {"label": "Q3 2025", "start": "2025-07-01", "end": "2025-09-30"}
    assert data["rows"][0][0] == "Q3 2025" and data["rows"][0][1] == pytest.approx(expected)
    assert "FROM main.fct_mrr" in data["sql"] and data["sql"] == body["value"]["sql"]
    # the fields /v1/ask had before are all still there
    assert not body["abstained"] and body["value"]["value"] == pytest.approx(expected)
    assert body["sources"][0]["path"] == "metrics/mrr.yaml" and "[1]" in body["answer"]


def test_a_grouped_value_answer_has_one_row_per_group(client: httpx.Client, warehouse: Path) -> None:
    body = client.post("/v1/ask", json={"question": "what was ARR by plan in Q3 2025?"}).json()
    expected = dict(by_hand(warehouse, "select plan_tier, 12 * sum(mrr_usd) from fct_mrr "
                                       "where snapshot_month = date '2025-09-01' group by 1"))
    assert body["data"]["columns"] == ["plan_tier", "arr"]
    assert {k: v for k, v in body["data"]["rows"]} == pytest.approx({k: float(v) for k, v in expected.items()})


def test_a_definition_answer_has_no_data(client: httpx.Client) -> None:
    body = client.post("/v1/ask", json={"question": "how is ARR calculated?"}).json()
    assert "data" not in body and "value" not in body


def test_get_metrics_lists_every_metric_with_its_dimensions(client: httpx.Client, answerer: Answerer) -> None:
    response = client.get("/v1/metrics")
    assert response.status_code == 200
    metrics = {m["name"]: m for m in response.json()["metrics"]}
    assert answerer.values is not None and set(metrics) == set(answerer.values.definitions)
    assert all(m["queryable"] for m in metrics.values()), [m for m in metrics.values() if not m["queryable"]]
    assert "customer_month__plan_tier" in metrics["arr"]["dimensions"]
    assert metrics["arr"]["citation"] == "metrics/mrr.yaml:87-108 (metrics.arr)"
    assert metrics["gross_margin"]["type"] == "derived"


def test_a_structured_query_groups_and_filters(client: httpx.Client, warehouse: Path) -> None:
    response = client.post("/v1/metrics/query", json={
        "metrics": ["arr", "active customers"], "period": "Q3 2025", "group_by": ["plan_tier"],
        "where": {"region": ["emea"]}, "as_of": "2026-01-15",
    })
    assert response.status_code == 200, response.text
    body = response.json()
    expected = by_hand(warehouse, "select plan_tier, 12 * sum(mrr_usd), count(distinct case when mrr_usd > 0 "
                                  "then customer_id end) from fct_mrr where snapshot_month = date '2025-09-01' "
                                  "and region = 'emea' group by 1 order by 1")
    assert body["columns"] == ["plan_tier", "arr", "active_customers"]
    assert [r[0] for r in body["rows"]] == [r[0] for r in expected]
    assert [r[1:] for r in body["rows"]] == [pytest.approx([float(r[1]), r[2]]) for r in expected]  # type: ignore
    assert body["end_of_period"] == ["arr", "active_customers"]
    assert body["citations"][0] == "metrics/mrr.yaml:87-108 (metrics.arr)"
    assert "customer_month__region in ('emea')" in body["sql"].lower().replace('"', "")


def test_a_cumulative_metric_is_its_value_on_the_periods_last_day(client: httpx.Client, warehouse: Path) -> None:
    body = client.post("/v1/metrics/query", json={"metrics": ["trailing_12m_billings"], "period": "March 2025"})
    expected = by_hand(warehouse, "select sum(amount_excl_tax_usd) from fct_invoice_lines "
                                  "where invoice_date between date '2024-04-01' and date '2025-03-31'")[0][0]
    assert body.json()["rows"] == [[pytest.approx(float(expected))]]  # type: ignore[arg-type]


@pytest.mark.parametrize(("payload", "status", "message"), [
    ({"metrics": ["arrr"], "period": "Q3 2025"}, 404, "'arrr' is not a known metric; close names:"),
    ({"metrics": ["arr"], "period": "Q3 2025", "where": {"plan_tier": ["acme"]}}, 404,
     "'acme' is not a value of plan_tier; it has enterprise, growth, starter"),
    ({"metrics": ["arr"], "period": "Q3 2025", "group_by": ["colour"]}, 404,
     "'colour' is not a dimension of arr; it can be grouped by billing_interval"),
    ({"metrics": ["arr", "trailing_12m_billings"], "period": "Q3 2025"}, 400,
     "trailing_12m_billings is cumulative: query it on its own"),
    ({"metrics": ["arr"], "period": "H1 2025"}, 422, "String should match pattern"),
    ({"metrics": ["arr"], "period": "Q3 2025", "as_of": 0}, 422, "as_of must be a date string"),
    ({"metrics": ["arr"], "period": "Q3 2025", "sql": "drop table fct_mrr"}, 422, "Extra inputs are not permitted"),
    ({"metrics": [], "period": "Q3 2025"}, 422, "at least 1 item"),
])
def test_bad_structured_queries_say_what_is_wrong(client: httpx.Client, payload: dict, status: int,  # type: ignore
                                                  message: str) -> None:
    response = client.post("/v1/metrics/query", json=payload)
    assert response.status_code == status
    assert message in response.text


def test_the_metric_routes_need_a_key(base_url: str) -> None:
    assert httpx.get(f"{base_url}/v1/metrics", timeout=30).status_code == 401
    response = httpx.post(f"{base_url}/v1/metrics/query", json={"metrics": ["arr"], "period": "Q3 2025"}, timeout=30)
    assert response.status_code == 401


def test_a_missing_warehouse_is_a_503_for_data_and_a_clear_answer_for_ask(
    answerer: Answerer, indexed_config: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "not-built.duckdb"
    broken = copy.copy(answerer)
    broken.values = load_value_service(with_warehouse(load_config(indexed_config), missing))
    off = copy.copy(answerer)
    off.values = None
    with uvicorn_in_thread(create_api(broken, keys=ApiKeys.of([KEY]))) as url, \
            httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=60) as client:
        query = client.post("/v1/metrics/query", json={"metrics": ["arr"], "period": "Q3 2025"})
        assert query.status_code == 503 and f"No warehouse at {missing}" in query.json()["detail"]
        assert client.get("/v1/metrics").status_code == 503
        ask = client.post("/v1/ask", json={"question": "what was ARR in Q3 2025?"})
        assert ask.status_code == 200 and f"No warehouse at {missing}" in ask.json()["answer"]
        assert ask.json()["sources"][0]["section"] == "metrics.arr" and "data" not in ask.json()
    with uvicorn_in_thread(create_api(off, keys=ApiKeys.of([KEY]))) as url:  # values off: no such routes
        assert httpx.get(f"{url}/v1/metrics", headers={"X-API-Key": KEY}, timeout=30).status_code == 404
        assert "/v1/metrics/query" not in httpx.get(f"{url}/openapi.json", timeout=30).json()["paths"]
