"""The MCP server driven by the official SDK's own client: `finbot mcp` as a real subprocess on stdio, and /mcp
(streamable HTTP) on the API app on a real uvicorn."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import httpx2
import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from bot.answering.answerer import load_answerer
from bot.config import load_config
from bot.interfaces.api import create_api
from bot.interfaces.cli import cli
from bot.interfaces.http_auth import ApiKeys
from bot.interfaces.mcp_server import create_mcp_server
from bot.interfaces.metric_cards import load_catalog
from bot.interfaces.slack.feedback import FeedbackStore
from tests.conftest import REPO
from tests.integration.servers import uvicorn_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.model]


def with_server(config: Path, session: Callable[[Client], Awaitable[None]], **env: str) -> None:
    """Start `python -m bot mcp` (what the `finbot mcp` script runs) and run `session` against it."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "bot", "mcp"], cwd=str(REPO),
        env={**os.environ, "FINBOT_CONFIG": str(config), "PYTHONPATH": str(REPO), **env},
    )

    async def run() -> None:
        async with Client(params, read_timeout_seconds=120) as client:
            await session(client)

    asyncio.run(run())


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    # The text content carries the same JSON for clients that read only text.
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
    return result.structured_content


def test_tools_over_stdio(indexed_config: Path, tmp_path: Path) -> None:
    question = "How is net revenue retention calculated?"
    expected = CliRunner().invoke(cli, ["--config", str(indexed_config), "ask", "--json", question])
    assert expected.exit_code == 0, expected.output

    async def session(client: Client) -> None:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {"search", "ask", "get_metric", "list_metrics"}  # no warehouse: no query_metric
        assert all(tool.description and len(tool.description) > 60 for tool in tools.values())
        search_schema = tools["search"].input_schema
        assert search_schema["required"] == ["query"]
        assert set(search_schema["properties"]) == {"query", "top_k", "doc_type", "path_prefix"}

        answer = await call(client, "ask", {"question": question})
        cli_answer = json.loads(expected.output)
        assert {k: v for k, v in answer.items()} == cli_answer  # the same JSON as ask --json and /v1/ask
        assert answer["sources"][0]["path"] == "metrics/retention.yaml" and not answer["abstained"]

        refused = await call(client, "ask", {"question": "What is the CFO's favourite colour?"})
        assert refused["abstained"] is True

        found = await call(client, "search", {"query": "arrival_date payout", "top_k": 3})
        passages = found["passages"]
        assert 1 <= len(passages) <= 3 and [p["rank"] for p in passages] == list(range(1, len(passages) + 1))
        assert passages[0]["path"] == "reports/rpt_payout_reconciliation.yaml"
        assert passages[0]["section"].endswith("arrival_date") and passages[0]["start_line"] > 0
        assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)

        policies = await call(client, "search", {"query": "refund approval", "doc_type": "policy"})
        assert policies["passages"] and all(p["path"].startswith("policies/") for p in policies["passages"])
        prefixed = await call(client, "search", {"query": "column", "path_prefix": "reports/rpt_gl"})
        assert prefixed["passages"] and all(p["path"].startswith("reports/rpt_gl") for p in prefixed["passages"])

        card = await call(client, "get_metric", {"name": "debtor days"})  # an alias
        assert card["name"] == "dso" and card["citation"] == "metrics/receivables.yaml:201-224 (metrics.dso)"
        assert "accounts_receivable / nullif(billings, 0) * days_in_period" in card["definition"]
        assert (await call(client, "get_metric", {"name": "NRR"}))["name"] == "net_revenue_retention"

        unknown = await client.call_tool("get_metric", {"name": "widget velocity"})
        assert unknown.is_error and "not a metric the documents define" in unknown.content[0].text  # type: ignore[union-attr]
        bad = await client.call_tool("ask", {"question": "what is ARR?", "doc_type": "memo"})
        assert bad.is_error and "doc_type" in bad.content[0].text  # type: ignore[union-attr]

        metrics = (await call(client, "list_metrics", {}))["metrics"]
        names = [m["name"] for m in metrics]
        assert names == sorted(names) and {"arr", "dso", "net_revenue_retention"} <= set(names)

    db = tmp_path / "feedback.sqlite3"
    with_server(indexed_config, session, FINBOT_SLACK__FEEDBACK_DB=str(db))
    # recording.mcp is on by default: each `ask` (not `search`) is recorded, without its answer text.
    recorded = FeedbackStore(db).recorded()
    assert [(r["interface"], r["question"], r["outcome"]) for r in recorded] == [
        ("mcp", "How is net revenue retention calculated?", "answered"),
        ("mcp", "What is the CFO's favourite colour?", "refused"),
    ]


def test_query_metric_when_a_warehouse_is_configured(indexed_config: Path, warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute("select sum(mrr_usd) from fct_mrr where snapshot_month = date '2025-09-01'").fetchone()
    assert row is not None
    by_hand = float(row[0]) * 12

    async def session(client: Client) -> None:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert "query_metric" in tools
        value = await call(client, "query_metric", {"metric": "ARR", "period": "Q3 2025"})
        assert not value["refused"] and value["metric"] == "arr"
        assert value["value"] == pytest.approx(by_hand, abs=0.01)
        assert "fct_mrr" in value["sql"] and value["citation"]["path"] == "metrics/mrr.yaml"
        unknown = await client.call_tool("query_metric", {"metric": "widget velocity", "period": "Q3 2025"})
        assert unknown.is_error and "'widget velocity' is not a known metric" in unknown.content[0].text  # type: ignore[union-attr]

    with_server(indexed_config, session, FINBOT_WAREHOUSE__PATH=str(warehouse))


KEY = "mcp-http-test-key-0123456789"


@pytest.fixture(scope="module")
def mcp_url(indexed_config: Path) -> Iterator[str]:
    """create_api with the MCP server at /mcp, keys on, on a real uvicorn (what `finbot serve` builds)."""
    config = load_config(indexed_config)
    answerer = load_answerer(config)
    server = create_mcp_server(answerer, load_catalog(config, answerer.retriever))
    with uvicorn_in_thread(create_api(answerer, keys=ApiKeys.of([KEY]), mcp=server)) as base:
        yield f"{base}/mcp"


def test_tools_over_streamable_http_behind_the_api_keys(mcp_url: str, indexed_config: Path) -> None:
    question = "which column of the payouts report is the arrival date?"
    expected = CliRunner().invoke(cli, ["--config", str(indexed_config), "ask", "--json", question])
    assert expected.exit_code == 0, expected.output

    async def run() -> None:
        async with httpx2.AsyncClient(headers={"X-API-Key": KEY}, timeout=120) as http, \
                Client(streamable_http_client(mcp_url, http_client=http)) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            assert tools == {"search", "ask", "get_metric", "list_metrics"}
            assert await call(client, "ask", {"question": question}) == json.loads(expected.output)
            found = await call(client, "search", {"query": "arrival_date", "top_k": 2})
            assert found["passages"][0]["path"] == "reports/rpt_payout_reconciliation.yaml"

    asyncio.run(run())

    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    accept = {"Accept": "application/json, text/event-stream"}
    missing = httpx.post(mcp_url, json=initialize, headers=accept, timeout=30)
    assert missing.status_code == 401 and "API key is required" in missing.json()["detail"]
    wrong = httpx.post(mcp_url, json=initialize, headers={**accept, "X-API-Key": "x" * 20}, timeout=30)
    assert wrong.status_code == 401
    ok = httpx.post(mcp_url, json=initialize, headers={**accept, "X-API-Key": KEY}, timeout=30)
    assert ok.status_code == 200 and ok.json()["result"]["serverInfo"]["name"] == "finbot"
    # Bound to loopback, the SDK refuses another Host header (DNS rebinding).
    rebound = httpx.post(mcp_url, json=initialize, headers={**accept, "X-API-Key": KEY, "Host": "evil.example"},
                         timeout=30)
    assert rebound.status_code in (400, 421), rebound.text
