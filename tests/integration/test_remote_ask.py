"""`finbot ask` hands the question to a running `finbot serve` that reads the same index, and answers the
same either way; both as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import load_config
from tests.integration.servers import free_port
from tests.integration.slack_harness import poll

pytestmark = pytest.mark.model

KEY = "remote-ask-test-key-0123456789"


@pytest.fixture(scope="module")
def served(indexed_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A `finbot serve` on a free port over the indexed corpus; yields the environment that points at it."""
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FINBOT_")},
           "FINBOT_CONFIG": str(indexed_config), "FINBOT_HTTP__PORT": str(port)}
    log = tmp_path_factory.mktemp("serve") / "stderr.txt"
    with log.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env={**env, "FINBOT_API_KEYS": KEY},
                                stderr=stderr, text=True)
        try:
            def up() -> bool:
                assert proc.poll() is None, log.read_text()
                try:
                    return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
                except httpx.TransportError:
                    return False

            poll(up, "finbot serve ready")
            yield env
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def ask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "bot", "ask", *args], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_healthz_names_the_index_it_serves(served: dict[str, str], indexed_config: Path) -> None:
    health = httpx.get(f"http://127.0.0.1:{served['FINBOT_HTTP__PORT']}/healthz", timeout=5).json()
    assert health["index"] == load_config(indexed_config).index.identity()


def test_ask_goes_to_the_server_and_answers_as_it_would_locally(served: dict[str, str]) -> None:
    question = "Which column of the payouts report is the arrival date?"
    remote = ask({**served, "FINBOT_API_KEY": KEY}, "--json", "--explain", question)
    assert f"answered by finbot serve at http://127.0.0.1:{served['FINBOT_HTTP__PORT']}" in remote.stderr
    local = ask(served, "--local", "--json", "--explain", question)
    assert "answered by finbot serve" not in local.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)
    plain = ask({**served, "FINBOT_API_KEY": KEY}, question)
    assert plain.stdout == ask(served, "--local", question).stdout


def test_a_refused_key_falls_back_to_the_local_index(served: dict[str, str]) -> None:
    result = ask({**served, "FINBOT_API_KEY": "not-the-key-0123456789"}, "--json", "What is MRR?")
    assert "answered by finbot serve" not in result.stderr
    assert json.loads(result.stdout)["sources"]
