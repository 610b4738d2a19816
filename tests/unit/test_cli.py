from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.interfaces.cli import cli
from tests.conftest import write_config


def test_an_empty_question_is_a_usage_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "ask", "   "])
    assert result.exit_code == 2
    assert "The question is empty" in result.output


def test_ask_before_ingest_says_what_to_do(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "ask", "How is ARR calculated?"])
    assert result.exit_code == 1
    assert f"No index at {tmp_path / 'index'}. Run 'finbot ingest' first." in result.output
    assert "Traceback" not in result.output


def test_a_bad_config_exits_1_with_one_line_per_field(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("retrieval:\n  top_k: 0\n  min_confidence: high\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "ask", "What is ARR?"])
    assert result.exit_code == 1
    assert "retrieval.top_k: must be greater than 0" in result.output
    assert "retrieval.min_confidence: must be a valid number" in result.output
    assert "Traceback" not in result.output


def test_help_works_even_with_a_broken_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("retrieval: [\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "ingest", "--help"])
    assert result.exit_code == 0
    assert "--rebuild" in result.output


def test_ingest_of_a_missing_folder_says_so(tmp_path: Path) -> None:
    config = write_config(tmp_path, tmp_path / "no-such-corpus")
    result = CliRunner().invoke(cli, ["--config", str(config), "ingest"])
    assert result.exit_code == 1
    assert "no-such-corpus does not exist" in result.output


def test_ingest_of_an_empty_folder_warns_and_writes_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, corpus)), "ingest"])
    assert result.exit_code == 0, result.output
    assert f"warning: no files under {corpus}" in result.output
    assert "0 chunks written" in result.output


def test_serve_with_auth_on_and_no_keys_says_what_to_export(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, tmp_path)), "serve"])
    assert result.exit_code == 1
    assert "auth.required is true but FINBOT_API_KEYS is empty" in result.output


def test_serve_refuses_a_public_host_with_auth_off_unless_insecure(tmp_path: Path) -> None:
    config = str(write_config(tmp_path, tmp_path, auth={"required": False}))
    result = CliRunner().invoke(cli, ["--config", config, "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "refusing to serve 0.0.0.0 without API keys" in result.output and "--insecure" in result.output
    # --insecure gets past the check, to the (missing) index: it never started a server on 0.0.0.0 here
    result = CliRunner().invoke(cli, ["--config", config, "serve", "--host", "0.0.0.0", "--insecure"])
    assert result.exit_code == 1 and "No index" in result.output


def test_serve_refuses_a_key_too_short_to_be_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINBOT_API_KEYS", "hunter2")
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, tmp_path)), "serve"])
    assert result.exit_code == 1 and "key 1 is 7 characters" in result.output
