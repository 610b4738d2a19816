"""Guards shared by every finbot process on one machine: drop redelivered events, and cap how often one user
asks.

Both keep their state in a SQLite file (by default the feedback store's, `slack.feedback_db`), so a restart
forgets nothing and several replicas on one machine (or `serve` beside `slack --socket`) answer each event
once and share one allowance per user. Each check is one `BEGIN IMMEDIATE` transaction, so two processes
cannot both claim an event or both take the last question of a window. Beyond one machine the file is not
shared: put a load balancer with sticky routing in front, or give each machine its own Slack app.
With no path the state lives in memory, for one process (tests, scripts).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Clock = Callable[[], float]

_SCHEMA = """
create table if not exists slack_seen_events (event_id text primary key, seen_at real not null);
create index if not exists slack_seen_events_at on slack_seen_events (seen_at);
create table if not exists slack_questions (user_id text not null, asked_at real not null);
create index if not exists slack_questions_user on slack_questions (user_id, asked_at);
"""


class _Store:
    """One SQLite database (a file, or memory when `path` is None), one transaction at a time."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._memory = sqlite3.connect(":memory:", check_same_thread=False) if path is None else None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = self._memory or sqlite3.connect(path or ":memory:", timeout=10)
        try:
            db.executescript(_SCHEMA)  # idempotent; runs in its own transaction
        finally:
            if db is not self._memory:
                db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._memory or sqlite3.connect(self.path or ":memory:", timeout=10, isolation_level=None)
            db.isolation_level = None  # explicit BEGIN IMMEDIATE / COMMIT below
            try:
                db.execute("begin immediate")
                try:
                    yield db
                except BaseException:
                    db.execute("rollback")
                    raise
                db.execute("commit")
            finally:
                if db is not self._memory:
                    db.close()


class SeenEvents:
    """Event ids seen in the last `ttl_seconds`; Slack retries within minutes, so an hour is plenty."""

    def __init__(self, path: Path | None = None, ttl_seconds: float = 3600, clock: Clock = time.time) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._store = _Store(path)

    def first_time(self, event_id: str) -> bool:
        """True the first time an id is offered (in any process sharing the file), False for every repeat
        within the TTL; records it."""
        now = self.clock()
        with self._store.transaction() as db:
            db.execute("delete from slack_seen_events where seen_at <= ?", (now - self.ttl,))
            claimed = db.execute(
                "insert or ignore into slack_seen_events (event_id, seen_at) values (?, ?)", (event_id, now)
            )
            return claimed.rowcount == 1


class RateLimiter:
    """At most `limit` questions per user in any sliding window of `window_seconds`; limit 0 = unlimited."""

    def __init__(
        self, limit: int, window_seconds: float, path: Path | None = None, clock: Clock = time.time
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._store = _Store(path) if limit > 0 else None

    def retry_in(self, user: str) -> float:
        """0 when `user` may ask now (and counts the question); else seconds until they may."""
        if self._store is None:
            return 0.0
        now = self.clock()
        with self._store.transaction() as db:
            db.execute("delete from slack_questions where asked_at <= ?", (now - self.window,))
            times = [row[0] for row in db.execute(
                "select asked_at from slack_questions where user_id = ? order by asked_at", (user,)
            )]
            if len(times) >= self.limit:
                return float(times[0] + self.window - now)
            db.execute("insert into slack_questions (user_id, asked_at) values (?, ?)", (user, now))
            return 0.0
