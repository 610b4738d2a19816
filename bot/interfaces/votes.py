"""POST /v1/feedback: a thumbs up or down on a recorded answer (the page's buttons), stored with Slack's votes."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from bot.interfaces.access import request_info
from bot.interfaces.http_errors import ASK_RESPONSES, _error

if TYPE_CHECKING:
    from bot.interfaces.recording import Recorder
    from bot.interfaces.service import Service


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    answer_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
        description="The answer's id: the X-Answer-Id header of POST /v1/ask or /v1/ask/stream.",
    )
    vote: Literal["up", "down"]
    comment: str | None = Field(
        None, max_length=2000, description="With a thumbs-down: what was wrong (optional)."
    )


class VoteOut(BaseModel):
    answer_id: str
    vote: Literal["up", "down"]
    stored: bool = Field(description="Always true: a vote that could not be stored is an error.")


RESPONSES: dict[int | str, dict[str, Any]] = {
    401: ASK_RESPONSES[401], 413: ASK_RESPONSES[413], 429: ASK_RESPONSES[429], 500: ASK_RESPONSES[500],
    400: _error("The body is not JSON.", "There was an error parsing the body"),
    404: _error("No recorded answer has this id.", "No recorded answer has the id '3f9a1c0e5b7d': ..."),
    503: _error("The feedback store cannot be written.", "The feedback store cannot be written; retry later."),
}


def mount_votes(app: FastAPI, service: Service, recorder: Recorder) -> None:
    """The route, behind the same key and rate limit as /v1/ask; one vote per person per answer (a second
    click changes it). The person is the page's tab (X-Finbot-Session) or the API key."""

    # A plain def: FastAPI runs it in a worker thread, so the SQLite write never blocks the event loop.
    @app.post("/v1/feedback", response_model=VoteOut, responses=RESPONSES, dependencies=[service.guard])
    def feedback(body: VoteIn, request: Request) -> VoteOut:
        """Thumbs up or down on an answer (with an optional comment on a thumbs-down), stored in the feedback
        store with Slack's votes, for `finbot feedback export` and `finbot gaps`."""
        interface, asker = service.asker(request)
        user = asker or "anonymous"
        comment = (body.comment or "").strip() or None
        try:
            known = recorder.vote(body.answer_id, user, body.vote, comment, interface)
        except (sqlite3.Error, OSError) as exc:
            raise HTTPException(503, f"The feedback store cannot be written ({type(exc).__name__}); retry later.") \
                from None
        if not known:
            switch = f"recording.{interface}"
            raise HTTPException(
                404, f"No recorded answer has the id {body.answer_id!r}: only answers recorded in the feedback "
                f"store can be voted on (is {switch} on?).",
            )
        request_info(request).fields.update(answer_id=body.answer_id, vote=body.vote)
        return VoteOut(answer_id=body.answer_id, vote=body.vote, stored=True)
