"""The HTTP API on a real uvicorn: in a thread for most tests, and `finbot serve` as a process."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.answering.answerer import load_answerer
from bot.config import load_config
from bot.interfaces.api import create_api
from bot.interfaces.http_auth import ApiKeys
from tests.integration.servers import free_port, uvicorn_in_thread
from tests.integration.test_ask import ask_json, assert_answer_shape

pytestmark = [pytest.mark.integration, pytest.mark.model]

KEY = "test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def base_url(indexed_config: Path) -> Iterator[str]:
    app = create_api(load_answerer(load_config(indexed_config)), keys=ApiKeys.of([KEY]))
    with uvicorn_in_thread(app) as url:
        yield url


@pytest.fixture
def httpx_client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(headers={"X-API-Key": KEY}) as client:
        yield client


def test_ask_returns_the_same_json_as_the_cli(base_url: str, httpx_client: httpx.Client, indexed_config: Path) -> None:
    question = "How is net revenue retention calculated?"
    response = httpx_client.post(f"{base_url}/v1/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200
    body = response.json()
    assert_answer_shape(body)
    assert body == ask_json(indexed_config, question)


def test_top_k_is_honoured(base_url: str, httpx_client: httpx.Client) -> None:
    response = httpx_client.post(f"{base_url}/v1/ask", json={"question": "What is MRR?", "top_k": 3}, timeout=60)
    assert len(response.json()["sources"]) == 3


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"question": "  "}, "question"), ({}, "question"), ({"question": "x", "top_k": 0}, "top_k"),
        ({"question": "x", "doc_type": "memo"}, "doc_type"),
    ],
)
def test_bad_requests_get_422_naming_the_field(
    base_url: str, httpx_client: httpx.Client, payload: dict, field: str  # type: ignore[type-arg]
) -> None:
    response = httpx_client.post(f"{base_url}/v1/ask", json=payload, timeout=10)
    assert response.status_code == 422
    assert any(err["loc"][-1] == field for err in response.json()["detail"])


def test_filters_and_explain_over_http(base_url: str, httpx_client: httpx.Client, indexed_config: Path) -> None:
    payload = {"question": "how is DSO monitored", "doc_type": "policy", "path_prefix": "policies/inv", "explain": True}
    body = httpx_client.post(f"{base_url}/v1/ask", json=payload, timeout=60).json()
    assert body["sources"] and all(s["path"].startswith("policies/inv") for s in body["sources"])
    assert all(s["explain"]["fused"] > 0 for s in body["sources"])
    cli_body = ask_json(indexed_config, payload["question"], "--type", "policy", "--path", "policies/inv", "--explain")
    assert body == cli_body


def test_an_empty_question_says_what_is_wrong(base_url: str, httpx_client: httpx.Client) -> None:
    response = httpx_client.post(f"{base_url}/v1/ask", json={"question": ""}, timeout=10)
    assert "the question is empty" in response.text


def test_healthz_counts_the_chunks(base_url: str) -> None:
    body = httpx.get(f"{base_url}/healthz", timeout=10).json()
    assert body["status"] == "ok"
    assert body["chunks"] > 50


def test_openapi_docs_are_served(base_url: str) -> None:
    assert httpx.get(f"{base_url}/docs", timeout=10).status_code == 200
    spec = httpx.get(f"{base_url}/openapi.json", timeout=10).json()
    assert "/v1/ask" in spec["paths"] and "/healthz" in spec["paths"]


def test_finbot_serve_starts_a_working_server(indexed_config: Path) -> None:
    port = free_port()
    env = {**os.environ, "FINBOT_CONFIG": str(indexed_config), "FINBOT_HTTP__PORT": str(port), "FINBOT_API_KEYS": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else "finbot serve exited"
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "finbot serve did not answer within 120 s"
                time.sleep(0.25)
        assert health.json()["status"] == "ok"
        ask = f"http://127.0.0.1:{port}/v1/ask"
        bearer = {"Authorization": f"Bearer {KEY}"}
        answer = httpx.post(ask, json={"question": "What is ARR?"}, headers=bearer, timeout=60)
        assert answer.status_code == 200 and answer.json()["sources"]
        assert httpx.post(ask, json={"question": "What is ARR?"}, timeout=60).status_code == 401
        # serve also mounts the MCP server (behind the same keys) and the web page
        assert httpx.post(f"http://127.0.0.1:{port}/mcp", json={}, timeout=10).status_code == 401
        assert "<title>finbot" in httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
