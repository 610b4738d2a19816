"""The answer: and llm: sections, and what the writer refuses to start with."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.llm_writer import load_writer
from bot.config import Llm, load_config
from bot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_llm_mode_and_provider_settings_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINBOT_LLM__TIMEOUT", "3.5")
    config = load_config(write(tmp_path, "answer:\n  mode: llm\nllm:\n  provider: ollama\n  model: qwen2.5\n"))
    assert (config.answer.mode, config.llm.provider, config.llm.model, config.llm.timeout) == (
        "llm", "ollama", "qwen2.5", 3.5
    )
    assert load_config(write(tmp_path, "")).answer.mode == "extractive"


@pytest.mark.parametrize(("text", "message"), [
    ("answer:\n  mode: generative\n", "answer.mode: must be 'extractive' or 'llm'"),
    ("llm:\n  api_base: http://127.0.0.1:8080\n", "must end in /v1 for an OpenAI-compatible server"),
    ("llm:\n  api_base: 127.0.0.1:8080/v1\n", "llm.api_base: must be an http(s) URL"),
    ("llm:\n  api_key: sk-123\n", "llm.api_key: unknown key"),
])
def test_bad_llm_settings_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="invalid configuration") as caught:
        load_config(write(tmp_path, text))
    assert message in str(caught.value)


def test_the_writer_needs_a_model_and_a_key_or_a_server() -> None:
    with pytest.raises(ConfigError, match="llm.model is empty"):
        load_writer(Llm(), {})
    with pytest.raises(ConfigError, match="OPENAI_API_KEY is not set"):
        load_writer(Llm(model="gpt-4o-mini"), {})
    assert load_writer(Llm(model="gpt-4o-mini"), {"OPENAI_API_KEY": "sk-x"}).provider == "openai"
    assert load_writer(Llm(model="qwen", api_base="http://127.0.0.1:8080/v1"), {}).model == "qwen"
