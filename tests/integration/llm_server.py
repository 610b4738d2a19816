"""A local stand-in for hosted LLM APIs: OpenAI chat completions (POST /v1/chat/completions) and Anthropic
messages (POST /v1/messages) over real HTTP on 127.0.0.1, playing a scripted reply and recording requests.

`reply` is the text to answer with, or a callable of the request body (to play a model that obeys whatever
instructions reach it); `status` makes it fail with that HTTP status; `delay` makes it slow (a timeout).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[dict[str, Any]], str]


@dataclass
class FakeLlm:
    reply: Reply = ""
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)  # {"path", "headers", "body"}
    url: str = ""
    stream_gap: float = 0.0  # seconds between streamed events
    stream_cut: bool = False  # a client closed the connection while a reply was streaming

    def text_for(self, body: dict[str, Any]) -> str:
        return self.reply(body) if callable(self.reply) else self.reply


def _handler(fake: FakeLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if fake.delay:
                time.sleep(fake.delay)
            if fake.status != 200:
                return self._send(fake.status, {"error": {"message": "scripted failure", "type": "server_error"}})
            text = fake.text_for(body)
            if body.get("stream"):
                return self._stream(text, body)
            if self.path.endswith("/chat/completions"):
                return self._send(200, {
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                })
            if self.path.endswith("/messages"):
                return self._send(200, {
                    "id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model"),
                    "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
                    "usage": {"input_tokens": 10, "output_tokens": 10},
                })
            return self._send(404, {"error": {"message": f"no route {self.path}"}})

        def _stream(self, text: str, body: dict[str, Any]) -> None:
            """The reply as Server-Sent Events, a few words per event, in the wire format of the path."""
            words = re.findall(r"\S+\s*", text)
            pieces = ["".join(words[i:i + 3]) for i in range(0, len(words), 3)]
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.end_headers()
            if self.path.endswith("/chat/completions"):
                def chunk(delta: dict[str, str], finish: str | None = None) -> str:
                    return "data: " + json.dumps({
                        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }) + "\n\n"

                frames = [chunk({"role": "assistant", "content": ""})]
                frames += [chunk({"content": piece}) for piece in pieces]
                frames += [chunk({}, "stop"), "data: [DONE]\n\n"]
            else:
                def sse(name: str, data: dict[str, Any]) -> str:
                    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"

                frames = [sse("message_start", {"message": {
                    "id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model"), "content": [],
                    "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 0}}}),
                    sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})]
                frames += [sse("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": piece}})
                           for piece in pieces]
                frames += [sse("content_block_stop", {"index": 0}),
                           sse("message_delta", {"delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                                 "usage": {"output_tokens": 10}}),
                           sse("message_stop", {})]
            try:
                for frame in frames:
                    self.wfile.write(frame.encode())
                    self.wfile.flush()
                    time.sleep(fake.stream_gap)
            except (BrokenPipeError, ConnectionResetError):
                fake.stream_cut = True  # the client went away mid-stream

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def fake_llm(reply: Reply = "", *, status: int = 200, delay: float = 0.0) -> Iterator[FakeLlm]:
    """A FakeLlm serving on a free port; its `url` is the server root (append /v1 for OpenAI clients)."""
    fake = FakeLlm(reply, status, delay)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
