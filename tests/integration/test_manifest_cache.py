"""The semantic manifest is cached under index.path, keyed by the metric YAML's sha256: an edit is used at once."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bot.config import load_config
from bot.values.answer import ValueService, load_value_service
from tests.conftest import CORPUS, write_config

AS_OF = date(2026, 1, 15)


def arr(service: ValueService) -> tuple[float, str]:
    try:
        answer = service.query("arr", "Q3 2025", AS_OF)
    finally:
        service.engine.client.close()
    assert not answer.refused and answer.value is not None and answer.sql is not None, answer.text
    return answer.value, answer.sql


def test_an_edited_metric_is_rebuilt_and_its_new_definition_used(warehouse: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS / "metrics", corpus / "metrics")
    config = load_config(write_config(tmp_path, corpus, warehouse={"path": str(warehouse)}))
    cache = config.index.path / "semantic"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select sum(mrr_usd) from fct_mrr where snapshot_month = '2025-09-01'").fetchall()
    mrr = float(rows[0][0])

    service = load_value_service(config)
    assert service is not None
    assert arr(service)[0] == pytest.approx(12 * mrr)
    [cached] = cache.glob("semantic-manifest-*.json")

    # the next load reads the cache: a description changed in the cached file shows up
    body = json.loads(cached.read_text())
    for definition in body["definitions"]:
        if definition["name"] == "arr":
            definition["description"] = "read from the cache"
    cached.write_text(json.dumps(body))
    again = load_value_service(config)
    assert again is not None and again.definitions["arr"].description == "read from the cache"
    again.engine.client.close()

    # an edit to the YAML changes the key: rebuilt, the new expression runs, the old manifest is gone
    yaml_file = corpus / "metrics" / "mrr.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("expr: mrr * 12", "expr: mrr * 6"))
    edited = load_value_service(config)
    assert edited is not None and edited.definitions["arr"].description != "read from the cache"
    value, sql = arr(edited)
    assert value == pytest.approx(6 * mrr) and "mrr * 6" in sql
    assert [p.name for p in cache.glob("semantic-manifest-*.json")] != [cached.name]
    assert len(list(cache.glob("semantic-manifest-*.json"))) == 1


def test_an_unreadable_cache_is_rebuilt(warehouse: Path, tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, CORPUS, warehouse={"path": str(warehouse)}))
    first = load_value_service(config)
    assert first is not None
    first.engine.client.close()
    [cached] = (config.index.path / "semantic").glob("semantic-manifest-*.json")
    cached.write_text("{not json")
    service = load_value_service(config)
    assert service is not None and "arr" in service.definitions
    assert json.loads(cached.read_text())["definitions"]  # written again, whole
    service.engine.client.close()
