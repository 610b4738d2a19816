"""API keys, the exposure check, the rate limiter and the bounded answer slots, without a server."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from pathlib import Path

import pytest
from fastapi import HTTPException

from bot.errors import ConfigError
from bot.interfaces.http_auth import ApiKeys, api_keys_from_env, check_exposure, is_loopback
from bot.interfaces.limits import AnswerSlots, RateLimiter

KEY = "k" * 20


def test_keys_from_the_environment_identify_only_their_own() -> None:
    keys = api_keys_from_env({"FINBOT_API_KEYS": f" {KEY} , {'z' * 24},"})
    assert len(keys.digests) == 2
    assert keys.identify(KEY) == f"key:{hashlib.sha256(KEY.encode()).hexdigest()[:8]}"
    assert keys.identify("k" * 19) is None and keys.identify("") is None
    assert KEY not in repr(keys)  # only digests are held


def test_a_short_key_is_refused_with_what_to_do() -> None:
    with pytest.raises(ConfigError, match="key 2 is 5 characters; use at least 16"):
        api_keys_from_env({"FINBOT_API_KEYS": f"{KEY},short"})


def test_hashed_keys_from_a_file_rotate_without_the_plain_key(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"rotated-key-0123456789").hexdigest()
    hashes = tmp_path / "keys.sha256"
    hashes.write_text(f"# ops team, 2026-12\nsha256:{digest}\n\n")
    keys = api_keys_from_env({"FINBOT_API_KEY_HASHES_FILE": str(hashes)})
    assert keys.identify("rotated-key-0123456789") is not None
    hashes.write_text("not-hex\n")
    with pytest.raises(ConfigError, match=r"keys.sha256:1: expected a sha256 hex digest"):
        api_keys_from_env({"FINBOT_API_KEY_HASHES_FILE": str(hashes)})


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                                ("0.0.0.0", False), ("10.0.0.5", False), ("finbot.internal", False)])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serve_exposure_rules() -> None:
    keys = ApiKeys.of([KEY])
    check_exposure("0.0.0.0", True, keys, insecure=False)
    check_exposure("127.0.0.1", False, ApiKeys(), insecure=False)
    check_exposure("0.0.0.0", False, ApiKeys(), insecure=True)
    with pytest.raises(ConfigError, match="FINBOT_API_KEYS is empty"):
        check_exposure("127.0.0.1", True, ApiKeys(), insecure=False)
    with pytest.raises(ConfigError, match="refusing to serve 0.0.0.0 without API keys"):
        check_exposure("0.0.0.0", False, keys, insecure=False)


def test_the_rate_limit_slides_and_says_when_to_retry() -> None:
    now = [100.0]
    limiter = RateLimiter(2, 60, clock=lambda: now[0])
    limiter.check("a")
    now[0] = 110
    limiter.check("a")
    limiter.check("b")  # each caller has its own window
    with pytest.raises(HTTPException) as caught:
        limiter.check("a")
    assert caught.value.status_code == 429
    assert caught.value.headers == {"Retry-After": "50"}  # the first request leaves the window at 160
    now[0] = 160.5
    limiter.check("a")


def test_no_rate_limit_when_zero() -> None:
    limiter = RateLimiter(0, 60)
    for _ in range(1000):
        limiter.check("a")


def test_full_slots_are_a_503_at_once_and_a_slow_answer_a_504() -> None:
    release = threading.Event()
    slots = AnswerSlots(1, timeout=0.2)

    async def scenario() -> None:
        slow = asyncio.create_task(slots.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        assert slots.busy == 1
        with pytest.raises(HTTPException) as busy:
            await slots.run(lambda: "never runs")
        assert busy.value.status_code == 503 and busy.value.headers == {"Retry-After": "1"}
        with pytest.raises(HTTPException) as late:
            await slow
        assert late.value.status_code == 504 and "http.answer_timeout_seconds" in str(late.value.detail)
        assert slots.busy == 1  # the timed-out answer still holds its slot until its thread ends
        release.set()
        for _ in range(100):
            if slots.busy == 0:
                break
            await asyncio.sleep(0.01)
        assert slots.busy == 0
        assert await slots.run(lambda: "answered") == "answered"

    asyncio.run(scenario())
    slots.close()


def test_a_bounded_queue_waits_its_turn_and_the_next_is_a_503() -> None:
    release = threading.Event()
    slots = AnswerSlots(1, timeout=5, queue=1)

    async def scenario() -> None:
        first = asyncio.create_task(slots.run(lambda: release.wait(10) and "first"))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(slots.run(lambda: "second"))  # waits for the one slot
        await asyncio.sleep(0.05)
        with pytest.raises(HTTPException) as full:
            await slots.run(lambda: "never runs")
        assert full.value.status_code == 503 and "http.max_queued" in str(full.value.detail)
        assert not second.done()
        release.set()
        assert await first == "first" and await second == "second"

    asyncio.run(scenario())
    slots.close()


def test_waiting_for_a_slot_counts_towards_the_timeout() -> None:
    release = threading.Event()
    slots = AnswerSlots(1, timeout=0.2, queue=5)

    async def scenario() -> None:
        first = asyncio.create_task(slots.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        with pytest.raises(HTTPException) as late:
            await slots.run(lambda: "too late")
        assert late.value.status_code == 504
        release.set()
        with pytest.raises(HTTPException):
            await first  # it also ran out of time, but its thread ended and gave the slot back
        for _ in range(100):
            if slots.busy == 0:
                break
            await asyncio.sleep(0.01)
        assert await slots.run(lambda: "answered") == "answered"

    asyncio.run(scenario())
    slots.close()
