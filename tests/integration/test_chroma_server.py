"""index.mode: http against a real `chroma run` server started by the test on a free port."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from bot.interfaces.cli import cli
from tests.conftest import CORPUS, write_config
from tests.integration.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.model]


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    chroma = Path(sys.executable).parent / "chroma"
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            assert server.poll() is None, "chroma run exited during start-up"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("chroma run did not answer within 30 s")
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def http_config(folder: Path, corpus: Path, port: int) -> Path:
    return write_config(folder, corpus, index={"mode": "http", "port": port, "path": str(folder / "state")})


def test_ingest_and_ask_through_a_chroma_server(tmp_path: Path, chroma_port: int) -> None:
    corpus = tmp_path / "corpus"
    for rel in ["metrics/retention.yaml", "policies/revenue_recognition.md"]:
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, corpus / rel)
    config = http_config(tmp_path, corpus, chroma_port)
    runner = CliRunner()

    first = runner.invoke(cli, ["--config", str(config), "ingest"])
    assert first.exit_code == 0, first.output
    assert "2 added" in first.output and f"the Chroma server at http://127.0.0.1:{chroma_port}" in first.output
    assert not (tmp_path / "state" / "chroma.sqlite3").exists(), "http mode wrote an embedded store"

    again = runner.invoke(cli, ["--config", str(config), "ingest"])
    assert "0 added, 0 updated, 2 unchanged" in again.output

    asked = runner.invoke(cli, ["--config", str(config), "ask", "--json", "How is net revenue retention calculated?"])
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["sources"][0]["path"] == "metrics/retention.yaml"

    (corpus / "policies" / "revenue_recognition.md").unlink()
    pruned = runner.invoke(cli, ["--config", str(config), "ingest"])
    assert "0 added, 0 updated, 1 unchanged, 1 deleted" in pruned.output


def test_ask_names_the_missing_collection_on_the_server(tmp_path: Path, chroma_port: int) -> None:
    config = write_config(
        tmp_path, tmp_path, index={"mode": "http", "port": chroma_port, "collection": "never-ingested"}
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "ask", "What is ARR?"])
    assert result.exit_code == 1
    assert f"No index at the Chroma server at http://127.0.0.1:{chroma_port} (collection 'never-ingested')" in (
        result.output
    )


def test_no_server_says_how_to_start_one(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, tmp_path, index={"mode": "http", "port": port})
    result = CliRunner().invoke(cli, ["--config", str(config), "ask", "What is ARR?"])
    assert result.exit_code == 1
    assert f"Cannot reach the Chroma server at http://127.0.0.1:{port}" in result.output
    assert "chroma run --path DIR" in result.output
    assert "Traceback" not in result.output
