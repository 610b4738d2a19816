"""Recording answered questions for `finbot gaps`: who asked through which interface, what came of it (answered,
refused, low-confidence), the confidence and the sources' paths, in the feedback store (slack.feedback_db).

One switch per interface (`recording.*`); old rows are pruned on each write (`recording.retention_days`). A
failure to record is logged and never costs the asker an answer.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Interface, Recording

if TYPE_CHECKING:
    from bot.answering.answer import Answer
    from bot.interfaces.slack.feedback import FeedbackStore, Outcome, Vote

logger = logging.getLogger(__name__)

# The page sends `X-Finbot-Client: web` (and `finbot ask` through a server `cli`), so its questions count as
# the web's, not the plain API's; `X-Finbot-Session` is the page's random per-tab id, so gaps can count people.
CLIENT_HEADER = "X-Finbot-Client"
SESSION_HEADER = "X-Finbot-Session"
_CLIENTS: dict[str, Interface] = {"web": "web", "cli": "cli"}
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def outcome_of(answer: Answer, low_confidence: float) -> Outcome:
    if answer.abstained:
        return "refused"
    return "low-confidence" if answer.confidence < low_confidence else "answered"


def interface_of(client_header: str | None) -> Interface:
    """`web` or `cli` when the client says so, else `http`."""
    return _CLIENTS.get((client_header or "").strip().lower(), "http")


def session_user(session_header: str | None, caller: str | None) -> str | None:
    """Who asked, as far as gaps need to know: the page's tab id when it sent a well-formed one, else the caller
    (`key:<8 hex>` or `addr:<client>`)."""
    if session_header and _SESSION.match(session_header):
        return f"session:{session_header}"
    return caller


class Recorder:
    """Records into the feedback store, opened on the first write (a process that records nothing, or whose
    interfaces are all switched off, never creates the file)."""

    def __init__(self, settings: Recording, path: Path) -> None:
        self.settings = settings
        self.path = path
        self._store: FeedbackStore | None = None
        self._lock = threading.Lock()

    def enabled(self, interface: Interface) -> bool:
        return self.settings.enabled(interface)

    def store(self) -> FeedbackStore:
        with self._lock:
            if self._store is None:
                from bot.interfaces.slack.feedback import FeedbackStore

                self._store = FeedbackStore(self.path)
            return self._store

    def record(
        self, answer: Answer, interface: Interface, *, user: str | None = None, channel: str | None = None,
        asked: str | None = None,
    ) -> bool:
        """Record one answered question (`asked`: the user's words, when the answerer was asked more) if
        `interface` records; True when a row was written."""
        if not self.enabled(interface):
            return False
        try:
            self.store().record_question(
                answer, interface=interface, outcome=outcome_of(answer, self.settings.low_confidence), user=user,
                channel=channel, asked=asked, retention_days=self.settings.retention_days,
            )
        except (sqlite3.Error, OSError) as exc:
            logger.warning("recording: could not record answer %s in %s: %s", answer.id, self.path, exc)
            return False
        return True

    def vote(
        self, answer_id: str, user: str, vote: Vote, comment: str | None, interface: Interface = "web"
    ) -> bool:
        """Store a vote (and a thumbs-down's comment) on a recorded answer; False when no such answer is known."""
        store = self.store()
        if not store.knows(answer_id):
            return False
        store.save_vote(answer_id, user, None, vote, interface)
        if vote == "down" and comment:
            store.save_comment(answer_id, user, None, comment, interface)
        return True
