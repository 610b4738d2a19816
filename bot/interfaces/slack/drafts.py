"""LLM mode in Slack: the "Searching the docs" placeholder shows the model's draft as it grows.

The model writes in a worker thread and hands each piece to `DraftEdits.add`; a task on the event loop edits
the placeholder (chat.update) with the draft so far at most once per `interval` seconds (Slack allows about
one edit a second per message), and stops before the verified answer replaces it, so a late draft edit can
never land on top of the answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.interfaces.slack.blocks import MAX_TEXT_CHARS, escape

logger = logging.getLogger(__name__)

EDIT_INTERVAL = 1.0  # seconds between two edits of the placeholder
DRAFT_NOTE = "_Draft: its citations are checked when it is done._"


class DraftEdits:
    """The draft of one answer, shown in its placeholder message."""

    def __init__(self, client: AsyncWebClient, channel: str, ts: str, interval: float = EDIT_INTERVAL) -> None:
        self.client = client
        self.channel = channel
        self.ts = ts
        self.interval = interval
        self.edits = 0
        self._pieces: list[str] = []
        self._shown = 0  # pieces in the last edit
        self._lock = threading.Lock()
        self._done = asyncio.Event()

    def add(self, piece: str) -> None:
        """A piece of the draft (called from the worker thread that runs the model)."""
        with self._lock:
            self._pieces.append(piece)

    async def run(self) -> None:
        """Edit the placeholder while the draft grows, until `finish`."""
        while not self._done.is_set():
            try:
                await asyncio.wait_for(self._done.wait(), self.interval)
            except TimeoutError:
                await self._edit()

    async def finish(self, task: asyncio.Task[None]) -> None:
        """Stop editing and wait for an edit in flight, so the verified answer is the last word."""
        self._done.set()
        await task

    async def _edit(self) -> None:
        with self._lock:
            count, draft = len(self._pieces), "".join(self._pieces)
        if count == self._shown or not draft.strip():
            return
        self._shown = count
        text = f"{escape(draft.strip())[: MAX_TEXT_CHARS - len(DRAFT_NOTE) - 4]} …\n\n{DRAFT_NOTE}"
        try:
            await self.client.chat_update(channel=self.channel, ts=self.ts, text=text)
            self.edits += 1
        except SlackApiError as exc:  # e.g. rate limited: the next edit (or the answer) catches up
            logger.warning("slack: could not show the draft in %s: %s", self.channel, exc.response.get("error"))
