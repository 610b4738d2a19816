"""Limits on the HTTP API: answers per caller per window, and a bounded number of answers computing at once."""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

T = TypeVar("T")

# Callers remembered at most; the oldest idle ones are forgotten first (auth off: one per client address).
MAX_TRACKED_CALLERS = 10_000


class RateLimiter:
    """At most `limit` requests per caller in any `window` seconds (a sliding window); 0 = no limit."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, caller: str) -> None:
        """Count one request for `caller`, or raise a 429 with Retry-After when it is over the limit."""
        if self.limit == 0:
            return
        now = self.clock()
        with self._lock:
            times = self._seen.pop(caller, None) or deque()
            while times and times[0] <= now - self.window:
                times.popleft()
            self._seen[caller] = times  # re-inserted last: dict order is least recently seen first
            if len(times) >= self.limit:
                retry = max(1, math.ceil(times[0] + self.window - now))
                raise HTTPException(
                    status_code=429,
                    detail=f"Rate limit: {self.limit} questions per {self.window:g} s for this key; "
                    f"retry in {retry} s.",
                    headers={"Retry-After": str(retry)},
                )
            times.append(now)
            while len(self._seen) > MAX_TRACKED_CALLERS:
                del self._seen[next(iter(self._seen))]


class AnswerSlots:
    """Runs answers in `size` worker threads with at most `queue` more waiting for one: beyond that a 503 at
    once (the queue is bounded); an answer not done `timeout` seconds after it arrived is a 504.

    A Python thread cannot be killed: after a 504 the answer runs to its end in its worker and keeps
    its slot until then, so slow answers can never pile up beyond `size` threads.
    All counting happens on the event loop; worker threads hand their slot back through it.
    """

    def __init__(self, size: int, timeout: float, queue: int = 0) -> None:
        self.size = size
        self.timeout = timeout
        self.queue = queue
        self._slots = asyncio.Semaphore(size)
        self._admitted = 0  # waiting + computing
        self._running = 0
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="finbot-answer")

    @property
    def busy(self) -> int:
        """How many answers are computing now (including ones whose request already timed out)."""
        return self._running

    async def run(self, work: Callable[[], T]) -> T:
        if self._admitted >= self.size + self.queue:
            raise HTTPException(
                status_code=503,
                detail=f"finbot is already computing {self.size} answers with {self.queue} waiting "
                "(http.max_in_flight, http.max_queued); retry in 1 s.",
                headers={"Retry-After": "1"},
            )
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        self._admitted += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.timeout)
        except BaseException as exc:  # timed out or cancelled while waiting: it never took a slot
            self._admitted -= 1
            if isinstance(exc, TimeoutError):
                raise self._too_slow() from None
            raise
        self._running += 1
        try:
            future = self._executor.submit(work)
        except BaseException:
            self._finished()
            raise
        future.add_done_callback(lambda _: self._finished_from_thread(loop))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), max(0.0, self.timeout - (loop.time() - arrived)))
        except TimeoutError:
            raise self._too_slow() from None

    def _too_slow(self) -> HTTPException:
        return HTTPException(
            status_code=504,
            detail=f"The answer took longer than {self.timeout:g} s (http.answer_timeout_seconds); "
            "try a narrower question or retry later.",
        )

    def _finished_from_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        # A closed loop means the server is shutting down: nothing is left to count.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._finished)

    def _finished(self) -> None:
        self._running -= 1
        self._admitted -= 1
        self._slots.release()

    def close(self) -> None:
        """Stop taking answers; answers already computing finish in their threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413, detail=f"The request body is over {limit} bytes (http.max_body_bytes); send a shorter one."
        )


class BodyLimitMiddleware:
    """A 413 for a body over `limit` bytes, declared (Content-Length) or streamed; raised where the body is read,
    so the route's exception handlers answer it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((value for name, value in scope.get("headers", []) if name == b"content-length"), b"")
        over = declared.isdigit() and int(declared) > self.limit
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            if over:
                raise BodyTooLarge(self.limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited_receive, send)
