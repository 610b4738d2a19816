"""The OpenAPI contract, fuzzed: `schemathesis run` against the live app on a real uvicorn."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from schemathesis.core.warnings import SchemathesisWarning

from bot.answering.answerer import load_answerer
from bot.config import Config, Http, Recording, load_config
from bot.interfaces.api import create_api
from bot.interfaces.http_auth import ApiKeys
from bot.interfaces.recording import Recorder
from tests.integration.servers import uvicorn_in_thread

pytestmark = [pytest.mark.integration, pytest.mark.model]

KEY = "contract-test-key-0123456789"
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# Every warning but missing_test_data: a vote needs the id of a recorded answer, which generated ids never are,
# so POST /v1/feedback answers them 404 (its 200 path is tested in test_web.py and test_recording.py).
WARNINGS = ",".join(w.value for w in SchemathesisWarning if w is not SchemathesisWarning.MISSING_TEST_DATA)


def with_values(indexed_config: Path, warehouse: Path) -> Config:
    """The ingested corpus with the demo warehouse: the metric routes are part of the contract."""
    config = load_config(indexed_config)
    return config.model_copy(update={"warehouse": config.warehouse.model_copy(update={"path": warehouse})})


def test_the_schema_documents_every_error_and_the_key(indexed_config: Path, warehouse: Path) -> None:
    app = create_api(load_answerer(with_values(indexed_config, warehouse)), keys=ApiKeys.of([KEY]))
    spec = app.openapi()
    ask = spec["paths"]["/v1/ask"]["post"]
    assert {"400", "401", "413", "422", "429", "500", "503", "504"} <= set(ask["responses"])
    assert ask["responses"]["429"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert "Retry-After" in ask["responses"]["429"]["headers"]
    assert {"APIKeyHeader", "HTTPBearer"} == set(spec["components"]["securitySchemes"])
    assert {"/healthz", "/readyz", "/metrics"} <= set(spec["paths"])
    query = spec["paths"]["/v1/metrics/query"]["post"]
    assert {"400", "401", "422", "429", "503"} <= set(query["responses"]) and "get" in spec["paths"]["/v1/metrics"]
    assert "data" in spec["components"]["schemas"]["AskResponse"]["properties"]


def test_schemathesis_finds_no_5xx_and_no_schema_violation(indexed_config: Path, warehouse: Path,
                                                            tmp_path: Path) -> None:
    # No rate limit: the fuzzer's few hundred requests must reach the answerer, not a 429.
    # Every interface records, so the fuzzer's votes can also find recorded answers.
    recorder = Recorder(Recording(http=True), tmp_path / "feedback.sqlite3")
    app = create_api(load_answerer(with_values(indexed_config, warehouse)), http=Http(rate_limit_per_key=0),
                     keys=ApiKeys.of([KEY]), recorder=recorder)
    with uvicorn_in_thread(app) as url:
        result = subprocess.run(
            [str(SCHEMATHESIS), "run", f"{url}/openapi.json", "--header", f"X-API-Key: {KEY}",
             "--checks", "all", "--phases", "examples,coverage,fuzzing", "--max-examples", "40",
             "--seed", "16", "--workers", "1", "--request-timeout", "60", "--warnings", WARNINGS],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200  # still alive after the fuzzing
    (tmp_path / "schemathesis.txt").write_text(result.stdout)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
    # /v1/ask, /v1/ask/stream, /v1/feedback, /v1/metrics, /v1/metrics/query, /healthz, /readyz, /metrics fuzzed
    assert "8 selected / 8 total" in result.stdout
