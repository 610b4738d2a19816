"""A local fake of Slack's Web API (and Socket Mode), signed request builders, and a threaded uvicorn.

FakeSlack is a real aiohttp server on a free 127.0.0.1 port: it records every call and answers the way
Slack does (`{"ok": true, ...}`), so the bot's real AsyncWebClient talks HTTP to it unchanged.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

from tests.integration.servers import bound_socket

BOT_USER, BOT_ID, TEAM = "UBOT", "BBOT", "T0TEAM"
POLL_TIMEOUT = 120.0  # a hang guard, not a performance limit: a reply normally arrives in about a second


@dataclass
class Call:
    method: str  # "chat.postMessage", ..., "response_url", "socket_ack"
    params: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._socket_envelopes: asyncio.Queue[dict[str, Any]] | None = None
        self.port = 0

    # ---- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        threading.Thread(target=self._run, daemon=True).start()
        assert self._started.wait(30), "the fake Slack server did not start"
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/api/{method}", self._web_api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.SockSite(runner, bound_socket())
        self._loop.run_until_complete(site.start())
        self.port = site._sock.getsockname()[1]  # type: ignore[union-attr]
        self._socket_envelopes = asyncio.Queue()
        self._started.set()
        self._loop.run_forever()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # ---- what tests look at --------------------------------------------------------------------------

    def find(self, method: str, **match: Any) -> list[Call]:
        with self._lock:
            calls = list(self.calls)
        return [c for c in calls if c.method == method and all(c.params.get(k) == v for k, v in match.items())]

    def wait_for(self, method: str, count: int = 1, **match: Any) -> list[Call]:
        """Poll until `count` calls of `method` with these parameters arrived (listeners run after the ack)."""
        deadline = time.monotonic() + POLL_TIMEOUT
        while len(found := self.find(method, **match)) < count:
            assert time.monotonic() < deadline, f"no {count} x {method} {match} in {POLL_TIMEOUT:.0f} s: {self.calls}"
            time.sleep(0.02)
        return found

    def wait_for_reply(self, channel: str, thread_ts: str) -> Call:
        """The chat.update that replaced the "Searching the docs" placeholder in this thread."""
        placeholder = self.wait_for("chat.postMessage", channel=channel, thread_ts=thread_ts)[0]
        return self.wait_for("chat.update", channel=channel, ts=placeholder.result["ts"])[0]

    def send_socket_envelope(self, envelope: dict[str, Any]) -> None:
        assert self._socket_envelopes is not None
        self._loop.call_soon_threadsafe(self._socket_envelopes.put_nowait, envelope)

    # ---- the fake endpoints --------------------------------------------------------------------------

    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if request.content_type == "application/json" and raw:
            params.update(json.loads(raw))
        elif raw:
            params.update(parse_qsl(raw))
        for key in ("blocks", "view"):  # form-encoded calls send these as JSON strings
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        result = self._answer(method, params)
        self._record(Call(method, params, result))
        return web.json_response(result)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"{1800000000 + next(self._ts)}.000100"
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "finbot",
                    "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"text": params.get("text"), "ts": ts, "bot_id": BOT_ID}}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0FAKE", **(params.get("view") or {})}}
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        if method == "reactions.add":
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    async def _response_url(self, request: web.Request) -> web.Response:
        params = await request.json()
        self._record(Call("response_url", {"name": request.match_info["name"], **params}))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        assert self._socket_envelopes is not None
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {}, "connection_info": {}})
        self._record(Call("socket_connected", {}))

        async def forward() -> None:
            assert self._socket_envelopes is not None
            while True:
                await ws.send_json(await self._socket_envelopes.get())

        sender = asyncio.ensure_future(forward())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._record(Call("socket_ack", json.loads(message.data)))
        finally:
            sender.cancel()
        return ws

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)


# ---- signed requests --------------------------------------------------------------------------------


def signature_headers(body: str, secret: str, timestamp: float | None = None) -> dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing secret."""
    ts = str(int(time.time() if timestamp is None else timestamp))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


_ids = itertools.count(1)


def new_ts() -> str:
    """A fresh message timestamp, unique in the test session."""
    return f"{1700000000 + next(_ids)}.000200"


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps({
        "token": "legacy", "team_id": TEAM, "api_app_id": "A0FINBOT", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    })


def mention(channel: str, user: str, text: str, ts: str | None = None, thread_ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts or new_ts(),
             "channel": channel, "channel_type": "channel"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(channel: str, user: str | None, text: str, channel_type: str = "channel", **extra: Any) -> dict[str, Any]:
    event = {"type": "message", "text": text, "ts": new_ts(), "channel": channel, "channel_type": channel_type}
    if user:
        event["user"] = user
    return {**event, **extra}


def slash_body(channel: str, user: str, text: str, response_url: str) -> str:
    return urlencode({
        "token": "legacy", "team_id": TEAM, "team_domain": "fake", "channel_id": channel, "channel_name": "finance",
        "user_id": user, "user_name": "ann", "command": "/finbot", "text": text, "api_app_id": "A0FINBOT",
        "response_url": response_url, "trigger_id": f"trig{next(_ids)}",
    })


def interaction_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def section_texts(blocks: list[dict[str, Any]], kind: str = "section") -> list[str]:
    texts = []
    for block in blocks:
        if block["type"] == kind == "section":
            texts.append(block["text"]["text"])
        elif block["type"] == kind == "context":
            texts.extend(element["text"] for element in block["elements"])
    return texts


def poll(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + POLL_TIMEOUT
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {POLL_TIMEOUT:.0f} s"
        time.sleep(0.02)
