"""`finbot serve` with Slack tokens, and `finbot slack --socket`, as real processes against the fake Slack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.interfaces.slack import blocks
from tests.integration.servers import free_port
from tests.integration.slack_harness import (
    FakeSlack,
    event_body,
    mention,
    message,
    poll,
    signature_headers,
)

pytestmark = [pytest.mark.integration, pytest.mark.model]

SECRET = "process-test-secret"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@contextmanager
def finbot(
    args: list[str], config: Path, fake: FakeSlack, tmp_path: Path, **env: str
) -> Iterator[subprocess.Popen[str]]:
    """Run `finbot ARGS` with the Slack settings pointed at the fake; stderr goes to a file the test can read."""
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FINBOT_"))},
        "FINBOT_CONFIG": str(config),
        "FINBOT_SLACK__API_BASE_URL": fake.base_url,
        "FINBOT_SLACK__FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
        **env,
    }
    with (tmp_path / "stderr.txt").open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "bot", *args], env=full_env, stderr=stderr, text=True)
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def stderr_of(tmp_path: Path) -> str:
    return (tmp_path / "stderr.txt").read_text()


def test_finbot_serve_answers_slack_when_both_secrets_are_set(
    indexed_config: Path, fake: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    secrets = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET, "FINBOT_HTTP__PORT": str(port),
               "FINBOT_API_KEYS": "process-test-key-0123456789"}  # /slack/events is signed, not keyed
    with finbot(["serve"], indexed_config, fake, tmp_path, **secrets) as proc:

        def up() -> bool:
            assert proc.poll() is None, stderr_of(tmp_path)
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        poll(up, "finbot serve answering /healthz")
        assert f"answering Slack at http://127.0.0.1:{port}/slack/events" in stderr_of(tmp_path)
        event = mention("C0PROC", "U0ANN", "How is ARR calculated?")
        body = event_body(event)
        response = httpx.post(
            f"http://127.0.0.1:{port}/slack/events", content=body, timeout=30,
            headers={"Content-Type": "application/json", **signature_headers(body, SECRET)},
        )
        assert response.status_code == 200
        reply = fake.wait_for_reply("C0PROC", event["ts"]).params
        assert "metrics/mrr.yaml" in reply["blocks"][0]["text"]["text"]


def test_finbot_slack_socket_answers_over_the_websocket(indexed_config: Path, fake: FakeSlack, tmp_path: Path) -> None:
    tokens = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-1-test"}
    with finbot(["slack", "--socket"], indexed_config, fake, tmp_path, **tokens) as proc:
        poll(lambda: proc.poll() is None and bool(fake.find("socket_connected")), "the Socket Mode connection")
        assert fake.find("apps.connections.open")  # asked through slack.api_base_url with the app token
        event = message("D0SOCK", "U0ANN", "over how many years are sales commissions amortized?", channel_type="im")
        payload = event_body(event)
        fake.send_socket_envelope({
            "envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
            "payload": json.loads(payload),
        })
        fake.wait_for("socket_ack", envelope_id="env-1")  # acknowledged on the socket
        placeholder = fake.wait_for("chat.postMessage", channel="D0SOCK", thread_ts=event["ts"])[0]
        assert placeholder.params["text"] == blocks.SEARCHING
        reply = fake.wait_for_reply("D0SOCK", event["ts"]).params
        assert "policies/capitalized_commissions.md" in reply["blocks"][0]["text"]["text"]
        assert "answering in Slack over Socket Mode" in stderr_of(tmp_path)
