"""Shared fixtures. Everything runs offline: the embedding model comes from a PyPI package."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

if TYPE_CHECKING:
    from bot.values.answer import ValueService

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FINBOT_* setting of the developer's shell leaks into a test; no model hub is ever asked."""
    for key in list(os.environ):
        if key.startswith("FINBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def write_file(folder: Path, name: str, text: str | bytes) -> Path:
    """folder/name holding `text` (bytes are written as they are); missing folders are created."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def write_config(folder: Path, corpus: Path | list[Path], **sections: dict[str, object]) -> Path:
    """A config.yaml in `folder` with its index in `folder/index`; extra sections merged in."""
    paths = corpus if isinstance(corpus, list) else [corpus]
    data: dict[str, object] = {
        "corpus": {"paths": [str(p) for p in paths]},
        "index": {"path": str(folder / "index")},
        **sections,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def ingested_pages(folder: Path, pages: Mapping[str, str]) -> Path:
    """`pages` ({path: text}) written to folder/corpus and ingested into folder/index; the config's path."""
    from click.testing import CliRunner

    from bot.interfaces.cli import cli

    for name, text in pages.items():
        write_file(folder / "corpus", name, text)
    config = write_config(folder, folder / "corpus")
    result = CliRunner().invoke(cli, ["--config", str(config), "ingest"])
    assert result.exit_code == 0, result.output
    return config


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Brightline's demo DuckDB warehouse (scripts/build_warehouse.py), built once per test session."""
    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_warehouse.py"), str(path)], check=True,
                   capture_output=True)
    return path


@pytest.fixture(scope="session")
def value_config(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config of corpus/ with the demo warehouse (metric values on); no index is needed for values."""
    return write_config(tmp_path_factory.mktemp("values"), CORPUS, warehouse={"path": str(warehouse)})


@pytest.fixture(scope="session")
def value_service(value_config: Path) -> Iterator[ValueService]:
    """The ValueService of `value_config`, loaded once per test session."""
    from bot.config import load_config
    from bot.values.answer import load_value_service

    found = load_value_service(load_config(value_config))
    assert found is not None
    yield found
    found.engine.client.close()


def by_hand(warehouse: Path, sql: str) -> float:
    """One number from SQL written in the test against the demo warehouse, not MetricFlow's output."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return float(con.execute(sql).fetchall()[0][0])


@pytest.fixture(scope="session")
def indexed_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The repository's corpus/ ingested once into a temporary Chroma; yields the config path."""
    from click.testing import CliRunner

    from bot.interfaces.cli import cli

    folder = tmp_path_factory.mktemp("indexed")
    config = write_config(folder, CORPUS)
    result = CliRunner().invoke(cli, ["--config", str(config), "ingest"])
    assert result.exit_code == 0, result.output
    yield config
