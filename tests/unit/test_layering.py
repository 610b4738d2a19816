"""Imports run one way: interfaces -> evaluation -> answering -> values, retrieval -> ingest, with bot.config and
bot.errors below all of bot's folders. Each rule is its own test; every import counts, including those
under TYPE_CHECKING, since they are the same coupling to a reader."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# (the package whose modules are checked, the packages they must never import)
RULES = [
    ("ingest", ["bot"]),
    ("bot.config", ["bot.retrieval", "bot.values", "bot.answering", "bot.evaluation", "bot.interfaces"]),
    ("bot.errors", ["bot.config", "bot.retrieval", "bot.values", "bot.answering", "bot.evaluation", "bot.interfaces"]),
    ("bot.retrieval", ["bot.values", "bot.answering", "bot.evaluation", "bot.interfaces"]),
    ("bot.values", ["bot.retrieval", "bot.answering", "bot.evaluation", "bot.interfaces"]),
    ("bot.answering", ["bot.evaluation", "bot.interfaces"]),
    ("bot.evaluation", ["bot.interfaces"]),
]


def modules_of(package: str) -> list[Path]:
    """The .py files of a package (a folder) or the one file of a module."""
    path = REPO / package.replace(".", "/")
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


def imported_names(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) for every import statement in the file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from bot import compose` imports bot.compose
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def violations(files: list[Path], forbidden: list[str]) -> list[str]:
    return [
        f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path.name}:{line} imports {name}"
        for path in files
        for line, name in imported_names(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(("package", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_imports_run_one_way(package: str, forbidden: list[str]) -> None:
    files = modules_of(package)
    assert files and all(f.exists() for f in files), f"{package}: no modules found (moved?)"
    assert violations(files, forbidden) == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "hybrid.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot.answering import answer\n")
    assert violations([module], ["bot.answering"]) == [
        "hybrid.py:3 imports bot.answering", "hybrid.py:3 imports bot.answering.answer"
    ]


def test_ingest_never_imports_bot() -> None:
    code = (
        "import ingest.pipeline, ingest.store, ingest.loaders, sys;"
        "print(any(m.split('.')[0] == 'bot' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_help_does_not_load_the_heavy_stack() -> None:
    """`finbot --help` stays instant: no torch, chromadb, llama-index, MetricFlow or DuckDB at import."""
    code = (
        "import bot.interfaces.cli, sys;"
        "heavy = {'torch', 'chromadb', 'llama_index', 'metricflow', 'duckdb'};"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
