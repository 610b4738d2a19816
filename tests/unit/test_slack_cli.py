"""The Slack parts of the config and the CLI: settings, secrets from the environment, clear errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.answering.answer import Answer
from bot.config import load_config
from bot.errors import ConfigError
from bot.interfaces.cli import cli
from bot.interfaces.slack.feedback import FeedbackStore
from tests.conftest import write_config


@pytest.fixture(autouse=True)
def no_slack_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(key, raising=False)


def test_slack_defaults_and_paths_relative_to_the_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("slack:\n  api_base_url: http://127.0.0.1:9/api\n  feedback_db: fb/votes.sqlite3\n")
    slack = load_config(path).slack
    assert slack.api_base_url == "http://127.0.0.1:9/api/"  # the trailing slash the Web API client needs
    assert slack.feedback_db == tmp_path / "fb/votes.sqlite3"
    assert slack.slash_ephemeral is True and slack.channels == [] and slack.source_url_template == ""


def test_a_bad_source_url_template_names_the_placeholder(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("slack:\n  source_url_template: 'https://x/{file}#L{start_line}'\n")
    with pytest.raises(ConfigError, match=r"slack.source_url_template: unknown placeholder \{file\}; use \{path\}"):
        load_config(path)


def test_the_shipped_config_documents_the_slack_section() -> None:
    shipped = Path(__file__).resolve().parents[2] / "config.yaml"
    text = shipped.read_text()
    for key in ("slack:", "api_base_url:", "source_url_template:", "slash_ephemeral:", "feedback_db:", "channels:",
                "rate_limit_per_user:", "rate_limit_window_seconds:"):
        assert key in text
    assert load_config(shipped).slack.api_base_url == "https://slack.com/api/"


def test_slack_without_socket_points_to_serve(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, tmp_path)), "slack"])
    assert result.exit_code == 2
    assert "HTTP mode runs inside 'finbot serve'" in result.output and "--socket" in result.output


def test_socket_mode_without_an_app_token_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, tmp_path)), "slack", "--socket"])
    assert result.exit_code == 1
    assert "SLACK_APP_TOKEN is not set. Socket Mode needs an app-level token" in result.output
    assert "App-Level Tokens" in result.output and "Traceback" not in result.output


def test_socket_mode_refuses_a_bot_token_in_place_of_the_app_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-oops")
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, tmp_path)), "slack", "--socket"])
    assert result.exit_code == 1
    assert "SLACK_APP_TOKEN does not look like an app-level token (xapp-...)" in result.output


def test_socket_mode_without_a_bot_token_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-test")
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, tmp_path)), "slack", "--socket"])
    assert result.exit_code == 1
    assert "SLACK_BOT_TOKEN is not set" in result.output


def test_serve_with_half_the_slack_secrets_says_which_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, tmp_path)), "serve"])
    assert result.exit_code == 1
    assert "SLACK_SIGNING_SECRET is not set. Export both" in result.output


def test_feedback_export_before_any_feedback_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, tmp_path)), "feedback", "export"])
    assert result.exit_code == 1
    assert "No feedback at" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_feedback_export_writes_the_votes(tmp_path: Path, fmt: str) -> None:
    config = write_config(tmp_path, tmp_path, slack={"feedback_db": "votes.sqlite3"})
    store = FeedbackStore(tmp_path / "votes.sqlite3")
    store.save_answer(Answer("a1", "what is arr?", "From x [1]", False, []), asked="arr?", user="U1", channel="C1",
                      thread_ts=None)
    store.save_vote("a1", "U2", "C1", "up")
    out = tmp_path / f"out.{fmt}"
    result = CliRunner().invoke(cli, ["--config", str(config), "feedback", "export", "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 votes" in result.output
    text = out.read_text()
    if fmt == "jsonl":
        assert json.loads(text)["question"] == "what is arr?"
    else:
        assert text.splitlines()[0].startswith("answer_id,question,asked,vote")
        assert "what is arr?" in text
