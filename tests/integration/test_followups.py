"""Follow-up questions over HTTP, on the real corpus, model and Chroma: a question that leans on the last turn
is answered about what that turn was about; one that stands on its own is answered as if asked first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.answering.answerer import load_answerer
from bot.config import load_config
from bot.interfaces.api import create_api
from bot.interfaces.http_auth import ApiKeys
from tests.integration.servers import uvicorn_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.model]
KEY = "test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def base_url(indexed_config: Path) -> Iterator[str]:
    with uvicorn_in_thread(create_api(load_answerer(load_config(indexed_config)), keys=ApiKeys.of([KEY]))) as url:
        yield url


def ask(base_url: str, question: str, *earlier: str) -> dict[str, Any]:
    body: dict[str, Any] = {"question": question}
    if earlier:
        body["conversation"] = [{"question": q, "answer": ""} for q in earlier]
    response = httpx.post(f"{base_url}/v1/ask", json=body, headers={"X-API-Key": KEY}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_follow_up_is_answered_about_the_last_turns_subject(base_url: str) -> None:
    alone = ask(base_url, "who owns it?")
    followed = ask(base_url, "who owns it?", "how is DSO calculated?")
    assert followed["sources"][0]["section"] == "metrics.dso"
    assert followed["answer"].startswith("Owner: Marcus Okafor")
    assert alone["sources"][0]["section"] != "metrics.dso"


def test_and_how_is_that_different_from_grr_after_nrr(base_url: str) -> None:
    body = ask(base_url, "and how is that different from GRR?", "how is net revenue retention calculated?")
    assert body["sources"][0]["section"] == "metrics.gross_revenue_retention"
    assert "NRR" in body["answer"]


def test_a_standalone_question_in_the_thread_is_not_dragged_back(base_url: str) -> None:
    assert ask(base_url, "what is DSO?", "how is net revenue retention calculated?") == ask(base_url, "what is DSO?")


def test_a_too_long_conversation_is_a_422_naming_the_field(base_url: str) -> None:
    body = {"question": "and GRR?", "conversation": [{"question": "q"}] * 11}
    response = httpx.post(f"{base_url}/v1/ask", json=body, headers={"X-API-Key": KEY}, timeout=60)
    assert response.status_code == 422 and "conversation" in response.text
