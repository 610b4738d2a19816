"""index.mode: http: a `chroma run` stopped and restarted under a running `finbot serve`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bot.interfaces.cli import cli
from tests.conftest import CORPUS, write_config
from tests.integration.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.model]

KEY = "chroma-down-test-key-0123456789"
BIN = Path(sys.executable).parent


def wait_for(check: Callable[[], bool], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} within {seconds:g} s"
        time.sleep(0.2)


def answers(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    return check


@contextmanager
def chroma(data: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    server = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(answers(f"http://127.0.0.1:{port}/api/v2/heartbeat"), "chroma run answering", 60)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_chroma_server_down_is_a_503_and_serve_recovers_when_it_is_back(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for rel in ["metrics/retention.yaml", "policies/revenue_recognition.md"]:
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, corpus / rel)
    chroma_port, port = free_port(), free_port()
    config = write_config(tmp_path, corpus, index={"mode": "http", "port": chroma_port, "path": str(tmp_path / "s")})
    env = {**os.environ, "FINBOT_CONFIG": str(config), "FINBOT_HTTP__PORT": str(port), "FINBOT_API_KEYS": KEY}
    base = f"http://127.0.0.1:{port}"

    def ask() -> httpx.Response:
        return httpx.post(f"{base}/v1/ask", json={"question": "how is NRR calculated?"}, headers={"X-API-Key": KEY},
                          timeout=60)

    with chroma(tmp_path / "chroma", chroma_port) as first:
        assert CliRunner().invoke(cli, ["--config", str(config), "ingest"]).exit_code == 0
        serve = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stderr=subprocess.DEVNULL)
        try:
            wait_for(answers(f"{base}/readyz"), "finbot serve ready")
            assert ask().status_code == 200
            first.terminate()
            first.wait(timeout=30)

            down = ask()
            assert down.status_code == 503, down.text
            assert f"Chroma server at http://127.0.0.1:{chroma_port} cannot be reached" in down.json()["detail"]
            assert down.headers["Retry-After"] == "5" and down.json()["request_id"] == down.headers["X-Request-ID"]
            ready = httpx.get(f"{base}/readyz", timeout=10)
            assert ready.status_code == 503 and "cannot be reached" in ready.json()["detail"]
            assert httpx.get(f"{base}/healthz", timeout=10).json() == {
                "status": "ok", "chunks": None, "index": f"chroma://127.0.0.1:{chroma_port}#finbot"
            }

            with chroma(tmp_path / "chroma", chroma_port):
                wait_for(answers(f"{base}/readyz"), "finbot ready again without a restart", 30)
                back = ask()
                assert back.status_code == 200 and back.json()["sources"][0]["path"] == "metrics/retention.yaml"
            assert serve.poll() is None
        finally:
            serve.terminate()
            serve.wait(timeout=30)
