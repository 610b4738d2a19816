"""The Slack subcommands (`finbot slack --socket`, `finbot feedback export`) and the Slack wiring `serve` shares."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from bot.errors import ConfigError

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from bot.answering.answerer import Answerer
    from bot.config import Config
    from bot.interfaces.cli import CliState


@click.command("slack")
@click.option("--socket", is_flag=True, help="Connect to Slack over Socket Mode (needs SLACK_APP_TOKEN).")
@click.pass_obj
def slack_command(state: CliState, socket: bool) -> None:
    """Answer in Slack over Socket Mode, for workspaces without a public URL.

    \b
    Needs SLACK_BOT_TOKEN (xoxb-...) and SLACK_APP_TOKEN (xapp-..., with connections:write) in the
    environment. With a public URL, use `finbot serve` instead: it answers Slack at POST /slack/events.
    """
    import asyncio

    from bot.answering.answerer import load_answerer
    from bot.interfaces.slack.socket import run_socket_mode

    if not socket:
        raise click.UsageError(
            "HTTP mode runs inside 'finbot serve' (POST /slack/events). Pass --socket for Socket Mode."
        )
    bot_token, _ = slack_secrets()
    app_token = os.environ.get("SLACK_APP_TOKEN", "")
    if not app_token.startswith("xapp-"):
        problem = "is not set" if not app_token else "does not look like an app-level token (xapp-...)"
        raise ConfigError(
            f"SLACK_APP_TOKEN {problem}. Socket Mode needs an app-level token with the connections:write scope: "
            "create one under Basic Information > App-Level Tokens in your Slack app's settings, then "
            "export SLACK_APP_TOKEN=xapp-..."
        )
    if not bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set. Export the bot token (xoxb-...) from OAuth & Permissions.")
    config = state.config
    answerer = load_answerer(config)
    app = slack_app(config, answerer, bot_token, signing_secret=None)
    click.echo(f"finbot: answering in Slack over Socket Mode from {answerer.chunks.count()} chunks", err=True)
    asyncio.run(run_socket_mode(app, app_token))


@click.group()
def feedback() -> None:
    """The thumbs up/down people gave finbot's Slack answers (stored in slack.feedback_db)."""


@feedback.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file. [default: stdout]"
)
@click.pass_obj
def feedback_export(state: CliState, fmt: Literal["jsonl", "csv"], output: Path | None) -> None:
    """Write every vote with its question, answer, sources and comment.

    Each row carries golden-set fields (question, answerable, expected_sources) pre-filled from the vote:
    a thumbs-up on an answer makes the sources it quoted the expected ones; thumbs-downs are left for a
    reviewer, with the comment as the hint. See the README's Slack section.
    """
    from bot.interfaces.slack.feedback import FeedbackStore, write_export

    store = FeedbackStore.open_existing(state.config.slack.feedback_db)
    records = store.feedback()
    if output:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_export(records, fmt, out)
        click.echo(f"Wrote {len(records)} votes to {output}.", err=True)
    else:
        write_export(records, fmt, sys.stdout)


def slack_secrets() -> tuple[str, str]:
    """SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET from the environment (never from the config file)."""
    return os.environ.get("SLACK_BOT_TOKEN", ""), os.environ.get("SLACK_SIGNING_SECRET", "")


def slack_app(config: Config, answerer: Answerer, bot_token: str, signing_secret: str | None) -> AsyncApp:
    from bot.interfaces.recording import Recorder
    from bot.interfaces.slack.app import create_slack_app
    from bot.interfaces.slack.feedback import FeedbackStore

    store = FeedbackStore(config.slack.feedback_db)
    recorder = Recorder(config.recording, config.slack.feedback_db)
    return create_slack_app(answerer, config.slack, token=bot_token, signing_secret=signing_secret, store=store,
                            recorder=recorder)
