"""POST /v1/ask/stream: an answer as Server-Sent Events.

`sources` first (as soon as retrieval is done), then `delta` events with the model's draft as it is produced
(LLM mode only), then one `answer` event with the checked text (and `value` for a metric value), which may
differ from the draft: clients replace the draft with it. In extractive mode there are no deltas: `sources`,
then `answer`. A client that disconnects stops the draft.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Generator
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool

from bot.answering.llm_writer import LlmError
from bot.answering.written import failed, wanted

if TYPE_CHECKING:
    from fastapi import Request

    from bot.answering.answer import Answer
    from bot.answering.answerer import Answerer


def event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def events(
    answer: Answer, answerer: Answerer, request: Request, observe: Callable[[Answer], None]
) -> AsyncIterator[str]:
    """The events of one answer whose extractive form (`answer`, not yet written) is ready."""
    yield event("sources", {"sources": answer.to_dict()["sources"]})
    final = answer
    writing = answerer.writing
    if writing is not None and wanted(answer):
        draft = Draft(writing.draft(answer))
        pieces: list[str] = []
        try:
            while (piece := await run_in_threadpool(draft.next)) is not None:
                if await request.is_disconnected():
                    return  # the finally stops the draft
                pieces.append(piece)
                yield event("delta", {"text": piece})
            final = writing.finish(answer, "".join(pieces))
        except LlmError as exc:
            final = failed(answer, exc)
        finally:
            draft.stop()  # also when the response is cancelled because the client went away
    observe(final)
    body = final.to_dict()
    keys = ("answer", "abstained", "confidence", "mode", "removed_sentences", "sources", "value")
    yield event("answer", {key: body[key] for key in keys if key in body})  # `value`: a metric value's figure


class Draft:
    """The model's draft, read piece by piece in worker threads, and stopped from the event loop: a generator
    can only be closed by the thread not running it, so whichever side comes second closes it, which closes
    the model's HTTP stream and ends the generation."""

    def __init__(self, pieces: Generator[str, None, None]) -> None:
        self._pieces = pieces
        self._lock = threading.Lock()
        self._running = False
        self._stopped = False

    def next(self) -> str | None:
        with self._lock:
            if self._stopped:
                return None
            self._running = True
        try:
            piece = next(self._pieces, None)
        finally:
            with self._lock:
                self._running = False
                stopped = self._stopped
        if stopped:
            self._pieces.close()
            return None
        return piece

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            running = self._running
        if not running:
            self._pieces.close()
