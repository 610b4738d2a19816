"""The API as a production service on a real uvicorn: keys, limits, metrics, request ids, logs, crashes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.answering.answerer import Answerer, load_answerer
from bot.answering.question import MAX_QUESTION_CHARS
from bot.config import Auth, Http, load_config
from bot.interfaces.access import AccessMiddleware
from bot.interfaces.api import create_api
from bot.interfaces.http_auth import ApiKeys
from bot.interfaces.metrics import ApiMetrics
from tests.integration.servers import uvicorn_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.model]

KEY = "service-test-key-0123456789"
QUESTION = {"question": "What is ARR?"}


@pytest.fixture(scope="module")
def answerer(indexed_config: Path) -> Answerer:
    return load_answerer(load_config(indexed_config))


@pytest.fixture(scope="module")
def url(answerer: Answerer) -> Iterator[str]:
    with uvicorn_in_thread(create_api(answerer, keys=ApiKeys.of([KEY]))) as base:
        yield base


def test_without_a_valid_key_ask_is_a_401_that_says_how_to_authenticate(url: str) -> None:
    for headers in ({}, {"X-API-Key": "wrong-key-0123456789"}, {"Authorization": "Bearer nope"},
                    {"Authorization": f"Basic {KEY}"}):
        response = httpx.post(f"{url}/v1/ask", json=QUESTION, headers=headers, timeout=10)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        body = response.json()
        assert "API key" in body["detail"] and body["request_id"] == response.headers["X-Request-ID"]


def test_a_key_is_accepted_as_x_api_key_or_bearer(url: str) -> None:
    for headers in ({"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}):
        response = httpx.post(f"{url}/v1/ask", json=QUESTION, headers=headers, timeout=60)
        assert response.status_code == 200 and response.json()["sources"]


def test_health_readiness_and_docs_stay_open(url: str) -> None:
    assert httpx.get(f"{url}/healthz", timeout=10).json()["chunks"] > 50
    ready = httpx.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert httpx.get(f"{url}/openapi.json", timeout=10).status_code == 200


def test_auth_off_answers_without_a_key(answerer: Answerer) -> None:
    with uvicorn_in_thread(create_api(answerer, auth=Auth(required=False))) as base:
        assert httpx.post(f"{base}/v1/ask", json=QUESTION, timeout=60).status_code == 200


def test_a_body_over_the_limit_is_a_413_declared_or_streamed(answerer: Answerer) -> None:
    app = create_api(answerer, http=Http(max_body_bytes=2048), keys=ApiKeys.of([KEY]))
    big = json.dumps({"question": "x" * 4000}).encode()
    with uvicorn_in_thread(app) as base:
        declared = httpx.post(f"{base}/v1/ask", content=big, headers={"X-API-Key": KEY,
                              "content-type": "application/json"}, timeout=10)
        streamed = httpx.post(f"{base}/v1/ask", content=iter([big[:1500], big[1500:]]),
                              headers={"X-API-Key": KEY, "content-type": "application/json"}, timeout=10)
        for response in (declared, streamed):
            assert response.status_code == 413
            assert "over 2048 bytes (http.max_body_bytes)" in response.json()["detail"]
        assert httpx.post(f"{base}/v1/ask", json=QUESTION, headers={"X-API-Key": KEY}, timeout=60).status_code == 200


@pytest.mark.parametrize(("payload", "field"), [
    ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, "question"), ({"question": "x", "top_k": 51}, "top_k"),
])
def test_question_length_and_top_k_bounds_are_422s_naming_the_field(url: str, payload: dict, field: str) -> None:  # type: ignore[type-arg]
    response = httpx.post(f"{url}/v1/ask", json=payload, headers={"X-API-Key": KEY}, timeout=10)
    assert response.status_code == 422
    assert [err["loc"][-1] for err in response.json()["detail"]] == [field]


def test_over_the_rate_limit_is_a_429_with_retry_after_per_key(answerer: Answerer) -> None:
    other = "another-key-0123456789"
    app = create_api(answerer, http=Http(rate_limit_per_key=2), keys=ApiKeys.of([KEY, other]))
    with uvicorn_in_thread(app) as base:
        codes = [httpx.post(f"{base}/v1/ask", json=QUESTION, headers={"X-API-Key": KEY}, timeout=60)
                 for _ in range(3)]
        assert [r.status_code for r in codes] == [200, 200, 429]
        assert 1 <= int(codes[2].headers["Retry-After"]) <= 60
        assert "2 questions per 60 s" in codes[2].json()["detail"]
        assert httpx.post(f"{base}/v1/ask", json=QUESTION, headers={"X-API-Key": other}, timeout=60).status_code == 200


def test_an_answer_over_the_timeout_is_a_504(answerer: Answerer) -> None:
    app = create_api(answerer, http=Http(answer_timeout_seconds=0.001), keys=ApiKeys.of([KEY]))
    with uvicorn_in_thread(app) as base:
        response = httpx.post(f"{base}/v1/ask", json=QUESTION, headers={"X-API-Key": KEY}, timeout=60)
        assert response.status_code == 504
        assert "longer than 0.001 s (http.answer_timeout_seconds)" in response.json()["detail"]
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200


def test_metrics_count_requests_answers_and_refusals(url: str) -> None:
    httpx.post(f"{url}/v1/ask", json=QUESTION, headers={"X-API-Key": KEY}, timeout=60)
    httpx.post(f"{url}/v1/ask", json={"question": "what was NRR for december 2025"},
               headers={"X-API-Key": KEY}, timeout=60)
    httpx.post(f"{url}/v1/ask", json=QUESTION, timeout=10)
    response = httpx.get(f"{url}/metrics", timeout=10)  # from loopback: open by default
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'finbot_http_requests_total{method="POST",route="/v1/ask",status="200"}' in text
    assert 'finbot_refusals_total{reason="unauthorized"}' in text
    assert 'finbot_http_request_duration_seconds_bucket{le="0.01",route="/v1/ask"}' in text
    assert _value(text, "finbot_answers_total") >= 2 and _value(text, "finbot_abstentions_total") >= 1
    assert _value(text, "finbot_index_chunks") > 50
    assert _value(text, "finbot_answer_confidence_count") >= 2


def _value(text: str, name: str) -> float:
    return next(float(line.split()[-1]) for line in text.splitlines() if line.split(" ")[0] == name)


def test_metrics_need_a_key_when_so_configured(answerer: Answerer) -> None:
    app = create_api(answerer, auth=Auth(metrics="key"), keys=ApiKeys.of([KEY]))
    with uvicorn_in_thread(app) as base:
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
        assert httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {KEY}"}, timeout=10).status_code == 200


def test_request_ids_are_echoed_and_each_request_is_one_json_log_line_without_the_key(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.interfaces.access")
    mine = httpx.post(f"{url}/v1/ask", json=QUESTION, headers={"X-API-Key": KEY, "X-Request-ID": "bi-portal.42"},
                      timeout=60)
    assert mine.headers["X-Request-ID"] == "bi-portal.42"
    odd = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "no spaces or <html> please"}, timeout=10)
    assert len(odd.headers["X-Request-ID"]) == 32 and " " not in odd.headers["X-Request-ID"]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bot.interfaces.access"]
    ask = next(line for line in lines if line.get("request_id") == "bi-portal.42")
    assert ask["event"] == "request" and ask["route"] == "/v1/ask" and ask["status"] == 200
    assert ask["caller"].startswith("key:") and ask["sources"] and "abstained" in ask
    assert any(line.get("request_id") == odd.headers["X-Request-ID"] for line in lines)
    assert KEY not in caplog.text and "What is ARR?" not in caplog.text


def test_an_exception_in_a_request_is_a_500_with_its_id_and_the_server_lives_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    app.add_middleware(AccessMiddleware, metrics=ApiMetrics(lambda: 0.0, lambda: 0.0))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("the disk fell off")

    @app.get("/fine")
    def fine() -> dict[str, str]:
        return {"ok": "yes"}

    with uvicorn_in_thread(app) as base:
        response = httpx.get(f"{base}/boom", timeout=10)
        assert response.status_code == 500
        assert response.json()["request_id"] == response.headers["X-Request-ID"]
        assert "the disk fell off" not in response.text
        assert httpx.get(f"{base}/fine", timeout=10).json() == {"ok": "yes"}
    error = next(json.loads(r.getMessage()) for r in caplog.records if '"event": "error"' in r.getMessage())
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "RuntimeError: the disk fell off" in error["traceback"]
