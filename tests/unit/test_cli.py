from pathlib import Path

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
