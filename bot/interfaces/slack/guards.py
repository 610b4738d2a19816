"""In-memory guards for one process: drop redelivered events, and cap how often one user asks.

Both live in the memory of a single process: a second replica or a restart starts with empty state.
That is enough for one `finbot serve`; several replicas would need a shared store (Redis, the SQLite file).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

Clock = Callable[[], float]


class SeenEvents:
    """Event ids seen in the last `ttl_seconds`; Slack retries within minutes, so an hour is plenty."""

    def __init__(self, ttl_seconds: float = 3600, clock: Clock = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        """True the first time an id is offered, False for every repeat within the TTL (and records it)."""
        now = self.clock()
        while self._seen and next(iter(self._seen.values())) <= now - self.ttl:
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True


class RateLimiter:
    """At most `limit` questions per user in any sliding window of `window_seconds`; limit 0 = unlimited."""

    def __init__(self, limit: int, window_seconds: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._asked: dict[str, deque[float]] = {}

    def retry_in(self, user: str) -> float:
        """0 when `user` may ask now (and counts the question); else seconds until they may."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        times = self._asked.setdefault(user, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return times[0] + self.window - now
        times.append(now)
        return 0.0
