"""The Slack bot end to end: signed requests to the real FastAPI app on a real uvicorn, a real bolt AsyncApp,
the real Answerer over the ingested corpus, and a local fake of Slack's Web API that records every call."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bot.answering.answerer import Answerer, load_answerer
from bot.config import Config, Recording, load_config
from bot.interfaces.api import create_api
from bot.interfaces.cli import cli
from bot.interfaces.recording import Recorder
from bot.interfaces.slack import blocks
from bot.interfaces.slack.app import create_slack_app
from bot.interfaces.slack.feedback import FeedbackStore
from tests.conftest import CORPUS, write_config
from tests.integration.servers import uvicorn_in_thread
from tests.integration.slack_harness import (
    BOT_ID,
    BOT_USER,
    FakeSlack,
    event_body,
    interaction_body,
    mention,
    message,
    new_ts,
    poll,
    section_texts,
    signature_headers,
    slash_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.model]

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEMPLATE = "https://git.example.com/finance-docs/blob/main/{path}#L{start_line}-L{end_line}"
CHANNEL, OTHER_CHANNEL, QUIET_CHANNEL, DM = "C0FINANCE", "C0NOTALLOWED", "C0QUIET", "D0ANN"
RATE_LIMIT = 3
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
COMMENT = "should cite the ARR policy"


@dataclass
class Bot:
    url: str
    fake: FakeSlack
    db: Path

    def post(self, body: str, content_type: str, **headers: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/slack/events", content=body, timeout=30,
            headers={"Content-Type": content_type, **signature_headers(body, SECRET), **headers},
        )

    def event(self, event: dict[str, Any], event_id: str | None = None, **headers: str) -> httpx.Response:
        response = self.post(event_body(event, event_id), JSON, **headers)
        assert response.status_code == 200, response.text
        return response

    def interact(self, payload: dict[str, Any]) -> httpx.Response:
        response = self.post(interaction_body(payload), FORM)
        assert response.status_code == 200, response.text
        return response

    def ask(self, channel: str, user: str, text: str) -> dict[str, Any]:
        """Mention the bot; wait for the reply that replaces the placeholder; return its chat.update params."""
        event = mention(channel, user, text)
        self.event(event)
        return self.fake.wait_for_reply(channel, event["ts"]).params


def slack_settings(config: Config, fake: FakeSlack, db: Path) -> Any:
    return config.slack.model_copy(update={
        "api_base_url": fake.base_url, "source_url_template": TEMPLATE, "feedback_db": db,
        "channels": [CHANNEL, QUIET_CHANNEL], "rate_limit_per_user": RATE_LIMIT, "rate_limit_window_seconds": 3600,
    })


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def answerer(indexed_config: Path) -> Answerer:
    return load_answerer(load_config(indexed_config))


@pytest.fixture(scope="module")
def bot(
    indexed_config: Path, answerer: Answerer, fake: FakeSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bot]:
    db = tmp_path_factory.mktemp("slack") / "feedback.sqlite3"
    settings = slack_settings(load_config(indexed_config), fake, db)
    slack_app = create_slack_app(answerer, settings, token="xoxb-test", signing_secret=SECRET, store=FeedbackStore(db),
                                 recorder=Recorder(Recording(), db))
    with uvicorn_in_thread(create_api(answerer, slack_app)) as url:
        yield Bot(url, fake, db)


def stored_answer(db: Path, answer_id: str) -> sqlite3.Row:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
    assert row is not None, f"answer {answer_id} not stored"
    return row


def answer_id_of(reply: dict[str, Any]) -> str:
    actions = [b for b in reply["blocks"] if b["type"] == "actions"]
    return str(actions[0]["elements"][0]["value"])


# ---- answering ----------------------------------------------------------------------------------------


def test_a_mention_gets_a_placeholder_then_the_cited_answer_in_its_thread(bot: Bot, answerer: Answerer) -> None:
    event = mention(CHANNEL, "U0ANN", "How is ARR calculated?")
    bot.event(event)
    placeholder = bot.fake.wait_for("chat.postMessage", channel=CHANNEL, thread_ts=event["ts"])[0]
    assert placeholder.params["text"] == blocks.SEARCHING
    reply = bot.fake.wait_for("chat.update", channel=CHANNEL, ts=placeholder.result["ts"])[0].params

    expected = answerer.ask("How is ARR calculated?")
    top = expected.sources[0]
    sections = section_texts(reply["blocks"])
    assert sections[0].startswith(expected.text.splitlines()[0])  # the lead line, cited [1]
    assert expected.text.splitlines()[0].endswith("[1]")
    sources = section_texts(reply["blocks"], "context")[0].splitlines()
    assert sources[0] == "*Sources*"
    assert sources[1] == (
        f"<https://git.example.com/finance-docs/blob/main/{top.path}#L{top.start_line}-L{top.end_line}"
        f"|[1] {top.path} § {top.section}>"
    )
    assert len(sources) == 1 + len(expected.sources)
    assert [e["action_id"] for e in reply["blocks"][-1]["elements"]] == [blocks.UP, blocks.DOWN]
    assert reply["text"] and len(reply["text"]) <= blocks.FALLBACK_CHARS

    row = stored_answer(bot.db, answer_id_of(reply))  # stored when posted, so a vote can find it
    assert (row["question"], row["channel"], row["thread_ts"], row["user"]) == (
        "How is ARR calculated?", CHANNEL, event["ts"], "U0ANN"
    )
    assert json.loads(row["sources"])[0]["path"] == top.path


def test_an_off_topic_question_abstains_plainly_and_lists_the_closest(bot: Bot) -> None:
    reply = bot.ask(CHANNEL, "U0BEN", "What is the capital of France?")
    assert "I couldn't find this in the documents, so I won't guess" in section_texts(reply["blocks"])[0]
    assert section_texts(reply["blocks"], "context")[0].startswith("*Closest sources (none close enough")


def test_a_direct_message_is_answered_in_its_thread(bot: Bot) -> None:
    event = message(DM, "U0ANN", "over how many years are sales commissions amortized?", channel_type="im")
    bot.event(event)
    reply = bot.fake.wait_for_reply(DM, event["ts"]).params
    assert "policies/capitalized_commissions.md" in section_texts(reply["blocks"])[0]


def test_a_thread_follow_up_goes_to_the_bot_with_the_earlier_question(bot: Bot) -> None:
    first = mention(CHANNEL, "U0CAT", "how do we recognise revenue on annual prepaid plans?")
    bot.event(first)
    bot.fake.wait_for_reply(CHANNEL, first["ts"])
    follow_up = message(CHANNEL, "U0CAT", "and what about setup fees?", thread_ts=first["ts"])
    bot.event(follow_up)
    replies = bot.fake.wait_for("chat.postMessage", count=2, channel=CHANNEL, thread_ts=first["ts"])
    reply = bot.fake.wait_for("chat.update", channel=CHANNEL, ts=replies[1].result["ts"])[0].params
    row = stored_answer(bot.db, answer_id_of(reply))
    assert row["asked"] == "and what about setup fees?"
    assert row["question"] == "how do we recognise revenue on annual prepaid plans? and what about setup fees?"
    # Recorded for `finbot gaps` too (recording.slack), in the person's own words.
    [recorded] = [r for r in FeedbackStore(bot.db).recorded() if r["id"] == answer_id_of(reply)]
    assert (recorded["interface"], recorded["question"], recorded["user"], recorded["channel"]) == (
        "slack", "and what about setup fees?", "U0CAT", CHANNEL
    )
    assert recorded["outcome"] in {"answered", "low-confidence"}


def test_a_slash_command_answers_ephemerally_through_the_response_url(bot: Bot) -> None:
    response_url = bot.fake.response_url("slash-1")
    response = bot.post(slash_body(CHANNEL, "U0DAN", "What is ARR?", response_url), FORM)
    assert response.status_code == 200
    assert response.text == blocks.SEARCHING  # the acknowledgement, seen at once (only by the asker)
    reply = bot.fake.wait_for("response_url", name="slash-1")[0].params
    assert reply["response_type"] == "ephemeral"
    assert reply["blocks"][0]["elements"][0]["text"] == "*Asked:* What is ARR?"
    assert "metrics/mrr.yaml" in section_texts(reply["blocks"], "context")[1]
    assert reply["blocks"][-1]["type"] == "actions"


def test_an_empty_slash_command_explains_itself(bot: Bot) -> None:
    response = bot.post(slash_body(CHANNEL, "U0DAN", "  ", bot.fake.response_url("x")), FORM)
    assert "/finbot how is ARR calculated?" in response.text


# ---- what is not for the bot --------------------------------------------------------------------------


def test_bots_edits_joins_and_chatter_are_ignored(bot: Bot) -> None:
    root = new_ts()
    ignored = [
        message(QUIET_CHANNEL, BOT_USER, "<@UBOT> our own message", bot_id=BOT_ID),
        message(QUIET_CHANNEL, None, "another bot asks", bot_id="B0OTHER", subtype="bot_message"),
        {**mention(QUIET_CHANNEL, "U0BOTUSER", "What is ARR?"), "bot_id": "B0OTHER"},
        message(QUIET_CHANNEL, "U0ANN", "edited", subtype="message_changed"),
        message(QUIET_CHANNEL, "U0ANN", "<@U0ANN> has joined the channel", subtype="channel_join"),
        message(QUIET_CHANNEL, "U0ANN", "What is ARR?"),  # no mention, not in a thread of ours
        message(QUIET_CHANNEL, "U0ANN", "What is ARR?", thread_ts=root),  # a thread the bot never answered in
    ]
    for event in ignored:
        bot.event(event)
    sentinel = message(DM, "U0ANN", "What is MRR?", channel_type="im")  # handled after the ones above
    bot.event(sentinel)
    bot.fake.wait_for_reply(DM, sentinel["ts"])
    assert [c for c in bot.fake.calls if c.params.get("channel") == QUIET_CHANNEL] == []


def test_a_mention_outside_the_allowed_channels_is_told_where_to_ask(bot: Bot) -> None:
    event = mention(OTHER_CHANNEL, "U0EVE", "What is ARR?")
    bot.event(event)
    [notice] = bot.fake.wait_for("chat.postEphemeral", channel=OTHER_CHANNEL, user="U0EVE")
    assert notice.params["text"] == (
        f"I only answer in <#{CHANNEL}>, <#{QUIET_CHANNEL}> and in direct messages. Ask me there, or DM me."
    )
    assert bot.fake.find("chat.postMessage", channel=OTHER_CHANNEL) == []


def test_a_retried_event_is_answered_once(bot: Bot) -> None:
    event = mention(CHANNEL, "U0FAY", "What is net revenue retention?")
    bot.event(event, event_id="Ev0RETRY1")
    retry = bot.event(event, event_id="Ev0RETRY1", **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.headers.get("X-Slack-No-Retry") == "1"  # recognised as a redelivery, listeners not run
    bot.fake.wait_for_reply(CHANNEL, event["ts"])
    sentinel = mention(CHANNEL, "U0FAY", "What is MRR?")  # handled after the retry would have been
    bot.event(sentinel)
    bot.fake.wait_for_reply(CHANNEL, sentinel["ts"])
    assert len(bot.fake.find("chat.postMessage", channel=CHANNEL, thread_ts=event["ts"])) == 1


def test_over_the_rate_limit_a_user_gets_a_polite_wait_message(bot: Bot) -> None:
    events = [mention(CHANNEL, "U0GUS", f"What is ARR? ({n})") for n in range(RATE_LIMIT + 1)]
    for event in events:
        bot.event(event)
    [notice] = bot.fake.wait_for("chat.postEphemeral", channel=CHANNEL, user="U0GUS")
    assert f"You've asked {RATE_LIMIT} questions in the last hour, which is my limit for now." in notice.params["text"]
    assert notice.params["thread_ts"] == events[-1]["ts"]
    for event in events[:-1]:
        bot.fake.wait_for_reply(CHANNEL, event["ts"])
    assert bot.fake.find("chat.postMessage", channel=CHANNEL, thread_ts=events[-1]["ts"]) == []


# ---- signatures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("problem", ["unsigned", "wrong secret", "stale", "tampered"])
def test_requests_not_signed_by_slack_get_401(bot: Bot, problem: str) -> None:
    body = event_body(mention(CHANNEL, "U0HAL", "What is ARR?"))
    headers = {
        "unsigned": {},
        "wrong secret": signature_headers(body, "not-the-secret"),
        "stale": signature_headers(body, SECRET, timestamp=time.time() - 6 * 60),
        "tampered": signature_headers(body.replace("ARR", "MRR"), SECRET),
    }[problem]
    response = httpx.post(f"{bot.url}/slack/events", content=body, headers={"Content-Type": JSON, **headers})
    assert response.status_code == 401
    assert bot.fake.find("chat.postMessage", channel=CHANNEL, thread_ts=json.loads(body)["event"]["ts"]) == []


def test_the_url_verification_challenge_is_echoed(bot: Bot) -> None:
    body = json.dumps({"token": "legacy", "challenge": "c0ffee", "type": "url_verification"})
    assert bot.post(body, JSON).json() == {"challenge": "c0ffee"}


# ---- feedback -----------------------------------------------------------------------------------------


def click(bot: Bot, reply: dict[str, Any], action_id: str, user: str) -> str:
    answer_id = answer_id_of(reply)
    trigger = f"trig-{user}-{action_id}"
    bot.interact({
        "type": "block_actions", "team": {"id": "T0TEAM"}, "user": {"id": user}, "api_app_id": "A0FINBOT",
        "channel": {"id": CHANNEL}, "trigger_id": trigger, "response_url": bot.fake.response_url(trigger),
        "container": {"type": "message", "message_ts": reply["ts"], "channel_id": CHANNEL},
        "message": {"ts": reply["ts"], "text": reply["text"]},
        "actions": [{"type": "button", "action_id": action_id, "block_id": blocks.FEEDBACK_BLOCK, "value": answer_id}],
    })
    return trigger


def votes(db: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT answer_id, user, vote, comment FROM votes ORDER BY voted_at, user").fetchall()


def test_votes_land_in_sqlite_and_a_thumbs_down_comment_is_kept(bot: Bot, tmp_path: Path) -> None:
    reply = bot.ask(CHANNEL, "U0IVY", "How is ARR calculated?")
    answer_id = answer_id_of(reply)

    trigger = click(bot, reply, blocks.UP, "U0JOE")
    thanks = bot.fake.wait_for("response_url", name=trigger)[0].params
    assert thanks["response_type"] == "ephemeral" and "Thanks" in thanks["text"]
    assert (answer_id, "U0JOE", "up", None) in votes(bot.db)

    trigger = click(bot, reply, blocks.DOWN, "U0KIM")
    [dialog] = bot.fake.wait_for("views.open", trigger_id=trigger)
    view = dialog.params["view"]
    assert view["callback_id"] == blocks.COMMENT_VIEW and view["title"]["text"] == "What was wrong?"
    assert view["blocks"][0]["optional"] is True
    # the vote is written right after the dialog opens
    poll(lambda: (answer_id, "U0KIM", "down", None) in votes(bot.db), "the thumbs-down in SQLite")

    bot.interact({
        "type": "view_submission", "team": {"id": "T0TEAM"}, "user": {"id": "U0KIM"}, "api_app_id": "A0FINBOT",
        "view": {**view, "id": "V0FAKE", "state": {"values": {
            blocks.COMMENT_BLOCK: {blocks.COMMENT_INPUT: {"type": "plain_text_input", "value": COMMENT}}
        }}},
    })
    poll(lambda: (answer_id, "U0KIM", "down", COMMENT) in votes(bot.db), "the comment")

    config = write_config(tmp_path, CORPUS, slack={"feedback_db": str(bot.db)})
    out = tmp_path / "feedback.jsonl"
    args = ["--config", str(config), "feedback", "export", "--format", "jsonl", "--output", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = {(r["answer_id"], r["user"]): r for r in map(json.loads, out.read_text().splitlines())}
    up, down = rows[(answer_id, "U0JOE")], rows[(answer_id, "U0KIM")]
    assert up["question"] == "How is ARR calculated?" and up["answerable"] is True
    assert up["expected_sources"] and up["expected_sources"][0] == up["cited_sources"][0]
    assert down["comment"] == COMMENT and down["answerable"] is None


# ---- failure -------------------------------------------------------------------------------------------


@pytest.fixture
def broken_bot(tmp_path: Path, fake: FakeSlack) -> Iterator[Bot]:
    """An Answerer whose Chroma collection was deleted after it was opened: every question fails for real."""
    from ingest import store

    corpus = tmp_path / "corpus"
    (corpus / "policies").mkdir(parents=True)
    (corpus / "policies" / "refunds.md").write_text("# Refunds\n\nAnnual plans are refunded pro rata.\n")
    config_path = write_config(tmp_path, corpus)
    assert CliRunner().invoke(cli, ["--config", str(config_path), "ingest"]).exit_code == 0
    config = load_config(config_path)
    answerer = load_answerer(config)
    store.open_client(config.index.path).delete_collection(config.index.collection)  # under the open Answerer
    db = tmp_path / "feedback.sqlite3"
    slack_app = create_slack_app(
        answerer, slack_settings(config, fake, db), token="xoxb-test", signing_secret=SECRET, store=FeedbackStore(db)
    )
    with uvicorn_in_thread(create_api(answerer, slack_app)) as url:
        yield Bot(url, fake, db)


def test_a_failing_answer_yields_an_apology_with_a_logged_error_id(
    broken_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.interfaces.slack.app")
    reply = broken_bot.ask(CHANNEL, "U0LEO", "Are annual plans refunded?")
    text = reply["text"]
    match = re.search(r"logged as `([0-9a-f]{8})`", text)
    assert match, text
    assert text.startswith(":warning: Sorry, I couldn't answer that")
    assert "Traceback" not in text and "/" not in text and "blocks" not in reply
    [record] = [r for r in caplog.records if match.group(1) in r.getMessage()]
    assert record.exc_info is not None  # the traceback is in the log, not in Slack
