"""A one-shot `finbot ask` loads only what answering from the index needs: no torch, no servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.model

# What `finbot ask` must not import: the model stack (the ONNX export embeds the question), the server
# stacks, and llama-index (vector search asks Chroma directly; see docs/ARCHITECTURE.md).
HEAVY = {"torch", "sentence_transformers", "transformers", "llama_index", "fastapi", "uvicorn", "slack_bolt",
         "slack_sdk", "starlette", "sklearn", "pandas"}

ASK_AND_LIST_MODULES = """
import json, sys
from bot.interfaces.cli import cli
cli(sys.argv[1:], standalone_mode=False)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def one_shot(config: Path, *args: str) -> tuple[dict, set[str]]:  # type: ignore[type-arg]
    """The JSON answer and the top-level modules loaded, from a fresh Python process."""
    done = subprocess.run(
        [sys.executable, "-c", ASK_AND_LIST_MODULES, "--config", str(config), "ask", "--json", *args],
        capture_output=True, text=True, cwd=REPO, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_a_one_shot_ask_imports_no_torch_and_no_server(indexed_config: Path) -> None:
    answer, modules = one_shot(indexed_config, "what's the formula for DSO")
    assert answer["sources"][0]["path"] == "metrics/receivables.yaml"
    assert modules & HEAVY == set()
    assert {"onnxruntime", "tokenizers", "chromadb", "bm25s"} <= modules  # it did embed and search


def test_a_filtered_ask_stays_light_too(indexed_config: Path) -> None:
    """A filter that leaves too few hits asks Chroma again with ids: still the same one vector search."""
    answer, modules = one_shot(indexed_config, "--type", "policy", "--explain", "how is ARR calculated?")
    assert all(s["path"].startswith("policies/") for s in answer["sources"])
    assert answer["sources"][0]["explain"]["vector_rank"] is not None
    assert modules & HEAVY == set()
