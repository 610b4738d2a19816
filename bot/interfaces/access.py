"""Every HTTP request: a request id (X-Request-ID), its metrics, one JSON log line, and a 500 for any crash."""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.interfaces.metrics import ApiMetrics

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # a client's id is echoed only when it is this tame
_SCOPE_KEY = "finbot.request"


@dataclass
class RequestInfo:
    """What the access log says about a request; routes add to `fields` (never a key, question or document)."""

    id: str
    caller: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def request_info(request: Request) -> RequestInfo:
    info = request.scope.get(_SCOPE_KEY)
    if not isinstance(info, RequestInfo):  # a request that did not come through AccessMiddleware (tests)
        info = request.scope[_SCOPE_KEY] = RequestInfo(uuid.uuid4().hex)
    return info


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _CLIENT_ID.match(text):
                return text
    return uuid.uuid4().hex


class AccessMiddleware:
    """Outermost ASGI middleware: an unhandled exception becomes a logged 500 with the request id."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = scope[_SCOPE_KEY] = RequestInfo(_request_id(scope))
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", info.id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:  # the API boundary: one request's crash must never take the process down
            logger.error(
                json.dumps({"event": "error", "request_id": info.id, "path": scope.get("path", ""),
                            "traceback": traceback.format_exc()})
            )
            status = 500
            if not response_started:
                await _send_json(send, 500, {
                    "detail": f"Internal error; it was logged with request id {info.id}.", "request_id": info.id,
                }, info.id)
        finally:
            seconds = time.perf_counter() - started
            route = _route(scope)
            self.metrics.observe_request(route, scope["method"], status, seconds)
            logger.info(json.dumps({
                "event": "request", "request_id": info.id, "method": scope["method"], "route": route,
                "path": scope.get("path", ""), "status": status, "ms": round(seconds * 1000, 1),
                "client": scope["client"][0] if scope.get("client") else None, "caller": info.caller,
                **info.fields,
            }, ensure_ascii=False))


def _route(scope: Scope) -> str:
    """The matched route's template (`/v1/ask`), so metrics don't grow a label per fuzzed path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


async def _send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
        (b"x-request-id", request_id.encode()),
    ]})
    await send({"type": "http.response.body", "body": payload})


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: a message that is already JSON is kept, others are wrapped."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        try:
            body = json.loads(message)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"message": message}
        line = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name, **body}
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_json_logs() -> None:
    """`finbot serve`: every log line JSON, and one line per request at INFO whatever -v says."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonLineFormatter())
    logging.getLogger(__name__).setLevel(logging.INFO)
