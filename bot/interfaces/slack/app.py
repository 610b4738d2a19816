"""The Slack app: a bolt `AsyncApp` whose listeners answer mentions, DMs, thread follow-ups and /finbot.

Every listener acknowledges first (Slack wants an answer within 3 s), then does the work: the Answerer is
synchronous and CPU-bound, so it runs in a worker thread and the event loop stays free for other requests.
In LLM mode a mention's placeholder shows the model's draft as it grows (drafts.py), then the verified answer.
This module is the Slack error boundary: whatever goes wrong, the user gets a short apology with an error
id that is in the logs, never a traceback, a server path, or silence.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import QuestionError
from bot.interfaces.slack import blocks
from bot.interfaces.slack.conversation import follow_up_question, mentions, plain_text
from bot.interfaces.slack.drafts import DraftEdits
from bot.interfaces.slack.feedback import FeedbackStore, Vote
from bot.interfaces.slack.guards import RateLimiter, SeenEvents

if TYPE_CHECKING:
    from bot.answering.answer import Answer
    from bot.answering.answerer import Answerer
    from bot.config import Slack
    from bot.interfaces.recording import Recorder

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
# Message subtypes that are still a person writing; edits, joins, deletions, bot posts etc. are ignored.
HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}


def create_slack_app(
    answerer: Answerer, settings: Slack, *, token: str, signing_secret: str | None, store: FeedbackStore,
    recorder: Recorder | None = None,
) -> AsyncApp:
    """The bolt app, its Web API client pointed at `settings.api_base_url`.

    `signing_secret` may be None only for Socket Mode, where no HTTP request reaches the app; over HTTP
    every request's signature and timestamp (at most 5 minutes old) are verified, and others get a 401.
    Nothing calls Slack until the first request arrives (bolt then calls auth.test once).
    """
    client = AsyncWebClient(token=token, base_url=settings.api_base_url, logger=logger)
    app = AsyncApp(client=client, signing_secret=signing_secret, request_verification_enabled=True)
    SlackBot(answerer, settings, store, recorder).register(app)
    return app


class SlackBot:
    """The listeners, with the state they share: the feedback store, seen event ids, per-user rate limit."""

    def __init__(
        self, answerer: Answerer, settings: Slack, store: FeedbackStore, recorder: Recorder | None = None
    ) -> None:
        self.answerer = answerer
        self.settings = settings
        self.store = store
        self.recorder = recorder
        # Shared with every finbot process on this machine through the feedback store's file.
        self.seen = SeenEvents(store.path)
        self.limiter = RateLimiter(settings.rate_limit_per_user, settings.rate_limit_window_seconds, store.path)

    def register(self, app: AsyncApp) -> None:
        app.middleware(self.drop_redeliveries)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.command("/finbot")(self.on_command)
        app.action(blocks.UP)(self.on_vote)
        app.action(blocks.DOWN)(self.on_vote)
        app.view(blocks.COMMENT_VIEW)(self.on_comment)
        app.action(blocks.SHOW_SQL)(self.on_show_sql)

    # ---- events ----------------------------------------------------------------------------------------

    async def drop_redeliveries(
        self, body: Payload, request: AsyncBoltRequest, next_: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """Slack redelivers an event (X-Slack-Retry-Num) when it thinks we were slow; answer each event once."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not self.seen.first_time(event_id):
            retry = request.headers.get("x-slack-retry-num", ["?"])[0]
            logger.info("slack: event %s already handled; dropping redelivery (retry %s)", event_id, retry)
            # X-Slack-No-Retry tells Slack to stop redelivering this event.
            return BoltResponse(status=200, body="", headers={"X-Slack-No-Retry": "1"})
        await next_()
        return None

    async def on_mention(self, event: Payload, client: AsyncWebClient, context: Payload) -> None:
        """@finbot in a channel: answer in the message's thread."""
        if not self.from_a_person(event):
            return
        channel, thread = event["channel"], event.get("thread_ts") or event["ts"]
        if not self.allowed(channel, event.get("channel_type")):
            await self.post_ephemeral(client, event, blocks.not_here(self.settings.channels))
            return
        text = plain_text(event.get("text", ""), context.get("bot_user_id"))
        await self.answer_in_thread(client, event, thread, text)

    async def on_message(self, event: Payload, client: AsyncWebClient, context: Payload) -> None:
        """A DM, or a reply in a channel thread the bot has answered in; everything else is not for us."""
        if not self.from_a_person(event):
            return
        channel, thread_ts = event["channel"], event.get("thread_ts")
        if event.get("channel_type") != "im":
            # A reply that @-mentions the bot also arrives as app_mention; answer that one only.
            if not thread_ts or thread_ts == event["ts"] or mentions(event.get("text", ""), context.get("bot_user_id")):
                return
            if not self.allowed(channel, event.get("channel_type")):
                return
            if not await asyncio.to_thread(self.store.thread_turns, channel, thread_ts):
                return
        text = plain_text(event.get("text", ""), context.get("bot_user_id"))
        await self.answer_in_thread(client, event, thread_ts or event["ts"], text)

    async def answer_in_thread(self, client: AsyncWebClient, event: Payload, thread_ts: str, text: str) -> None:
        """Placeholder first, then the answer (or an apology) replaces it."""
        channel, user = event["channel"], event.get("user", "")
        if not text:
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=blocks.usage("@finbot"))
            return
        retry_in = self.limiter.retry_in(user)
        if retry_in:
            await self.post_ephemeral(client, event, self.rate_limited(retry_in), thread_ts)
            return
        placeholder = await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=blocks.SEARCHING)
        if self.answerer.writing is None:
            reply = await self.reply_to(text, user=user, channel=channel, thread_ts=thread_ts)
        else:  # LLM mode: the placeholder shows the model's draft as it grows, then the verified answer
            drafts = DraftEdits(client, channel, placeholder["ts"])
            editing = asyncio.create_task(drafts.run())
            try:
                reply = await self.reply_to(text, user=user, channel=channel, thread_ts=thread_ts, show=drafts.add)
            finally:
                await drafts.finish(editing)
        try:
            await client.chat_update(channel=channel, ts=placeholder["ts"], **reply)
        except Exception:  # the Slack boundary: e.g. a reply Slack refuses; say so rather than leave "Searching"
            await client.chat_update(channel=channel, ts=placeholder["ts"], text=self.apology("updating the reply"))

    # ---- the slash command ------------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, command: Payload, respond: AsyncRespond) -> None:
        """/finbot QUESTION: ephemeral by default (slack.slash_ephemeral), answered through response_url."""
        text = plain_text(command.get("text", ""))
        channel, user = command["channel_id"], command["user_id"]
        if not text:
            await ack(text=blocks.usage("/finbot"))
            return
        if not self.allowed(channel, "im" if channel.startswith("D") else "channel"):
            await ack(text=blocks.not_here(self.settings.channels))
            return
        retry_in = self.limiter.retry_in(user)
        if retry_in:
            await ack(text=self.rate_limited(retry_in))
            return
        await ack(text=blocks.SEARCHING)
        reply = await self.reply_to(text, user=user, channel=channel, thread_ts=None, asked=text)
        visibility = "ephemeral" if self.settings.slash_ephemeral else "in_channel"
        await respond(response_type=visibility, replace_original=False, **reply)

    # ---- feedback ---------------------------------------------------------------------------------------

    async def on_vote(
        self, ack: AsyncAck, body: Payload, action: Payload, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """A thumbs click is stored; a thumbs-down also opens the optional "what was wrong?" dialog."""
        await ack()
        vote: Vote = "up" if action["action_id"] == blocks.UP else "down"
        answer_id, user = action["value"], body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        if vote == "down":  # trigger_id expires 3 s after the click, so the dialog goes first
            try:
                await client.views_open(trigger_id=body["trigger_id"], view=blocks.comment_modal(answer_id, channel))
            except Exception:  # the dialog is optional: the vote is still worth keeping
                logger.exception("slack: could not open the comment dialog for answer %s", answer_id)
        try:
            known = await asyncio.to_thread(self.store.save_vote, answer_id, user, channel, vote)
            if not known:
                logger.warning("slack: vote on answer %s, which is not in %s", answer_id, self.store.path)
            if vote == "up":
                await respond(text="Thanks, noted :+1:", response_type="ephemeral", replace_original=False)
        except Exception:
            await respond(text=self.apology("saving your vote"), response_type="ephemeral", replace_original=False)

    async def on_comment(self, ack: AsyncAck, body: Payload, view: Payload) -> None:
        """The dialog's submission: store the comment with the thumbs-down."""
        await ack()
        field = view["state"]["values"].get(blocks.COMMENT_BLOCK, {}).get(blocks.COMMENT_INPUT, {})
        comment = (field.get("value") or "").strip()
        if comment:
            try:
                meta = json.loads(view["private_metadata"])
                await asyncio.to_thread(
                    self.store.save_comment, meta["answer_id"], body["user"]["id"], meta.get("channel"), comment
                )
            except Exception:
                self.apology("saving a feedback comment")  # logged; the dialog is already closed

    async def on_show_sql(self, ack: AsyncAck, body: Payload, action: Payload, client: AsyncWebClient,
                          respond: AsyncRespond) -> None:
        """"Show SQL" on a value answer: the SQL MetricFlow ran, from the answer's record, in a dialog."""
        await ack()
        answer_id = action["value"]
        try:
            text = await asyncio.to_thread(self.store.answer_text, answer_id)
            sql = blocks.sql_of(text) if text else None
            if sql is None:
                await respond(text="I no longer have the SQL of that answer; ask the question again.",
                              response_type="ephemeral", replace_original=False)
                return
            await client.views_open(trigger_id=body["trigger_id"], view=blocks.sql_modal(sql))
        except Exception:
            await respond(text=self.apology("showing the SQL"), response_type="ephemeral", replace_original=False)

    # ---- helpers ----------------------------------------------------------------------------------------

    async def reply_to(
        self, text: str, *, user: str, channel: str, thread_ts: str | None, asked: str | None = None,
        show: Callable[[str], None] | None = None,
    ) -> Payload:
        """chat.postMessage / response_url arguments for the answer, or for an apology if answering failed;
        in LLM mode `show` gets each piece of the model's draft as it is written."""
        try:
            answer = await asyncio.to_thread(self.answer_and_record, text, user, channel, thread_ts, show)
        except QuestionError as exc:  # too long, say: the user can fix it
            return {"text": str(exc)}
        except Exception:
            return {"text": self.apology("answering")}
        return {
            "text": blocks.fallback_text(answer),
            "blocks": blocks.answer_blocks(answer, self.settings.source_url_template, asked),
        }

    def answer_and_record(
        self, text: str, user: str, channel: str, thread_ts: str | None, show: Callable[[str], None] | None = None
    ) -> Answer:
        """In a worker thread: the thread's context, the answer, and its record (so votes can find it)."""
        turns = self.store.thread_turns(channel, thread_ts) if thread_ts else []
        question = follow_up_question(turns, text)
        writing = self.answerer.writing
        if writing is not None and show is not None:
            answer = writing.rewrite_live(self.answerer.ask(question, write=False), show)
        else:
            answer = self.answerer.ask(question)
        self.store.save_answer(answer, asked=text, user=user, channel=channel, thread_ts=thread_ts)
        if self.recorder is not None:  # recording.slack: outcome and confidence too, for `finbot gaps`
            self.recorder.record(answer, "slack", user=user, channel=channel, asked=text)
        return answer

    def from_a_person(self, event: Payload) -> bool:
        """Not a bot (ours or another), not an edit, join, deletion or other housekeeping subtype."""
        return not event.get("bot_id") and event.get("subtype") in HUMAN_SUBTYPES and bool(event.get("user"))

    def allowed(self, channel: str, channel_type: str | None) -> bool:
        return channel_type == "im" or not self.settings.channels or channel in self.settings.channels

    def rate_limited(self, retry_in: float) -> str:
        return blocks.rate_limited(self.limiter.limit, int(self.limiter.window), retry_in)

    def apology(self, doing: str) -> str:
        """Log the current exception under a fresh error id; the user's apology quotes that id."""
        error_id = uuid.uuid4().hex[:8]
        logger.exception("slack: error %s while %s", error_id, doing)
        return blocks.apology(error_id)

    async def post_ephemeral(
        self, client: AsyncWebClient, event: Payload, text: str, thread_ts: str | None = None
    ) -> None:
        await client.chat_postEphemeral(channel=event["channel"], user=event["user"], text=text, thread_ts=thread_ts)
