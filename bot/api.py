"""The HTTP API: one FastAPI app around an `Answerer`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.answer import MAX_QUESTION_CHARS
from bot.errors import USER_ERRORS

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from bot.answer import Answerer


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=MAX_QUESTION_CHARS, examples=["How is net revenue retention calculated?"])
    top_k: int | None = Field(None, gt=0, le=50, description="How many sources to retrieve (default from config).")

    @field_validator("question")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty; send a question such as 'How is ARR calculated?'")
        return value


class SourceOut(BaseModel):
    n: int
    path: str
    section: str | None
    start_line: int | None
    end_line: int | None
    score: float
    snippet: str
    page: int | None = None


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    sources: list[SourceOut]


class Health(BaseModel):
    status: str
    chunks: int


def create_api(answerer: Answerer, slack_app: AsyncApp | None = None) -> FastAPI:
    """The API; with `slack_app`, Slack's events, slash commands and button clicks arrive at /slack/events."""
    app = FastAPI(title="finbot", summary="Answers finance questions from your documents, citing the source.")
    if slack_app is not None:
        mount_slack(app, slack_app)

    # Plain `def` routes: FastAPI runs them in its thread pool, so embedding never blocks the event loop.
    @app.post("/v1/ask", response_model=AskResponse)
    def ask(request: AskRequest) -> dict[str, Any]:
        """Answer a question from the indexed documents, with numbered sources."""
        try:
            return answerer.ask(request.question, request.top_k).to_dict()
        except USER_ERRORS as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None

    @app.get("/healthz", response_model=Health)
    def healthz() -> Health:
        """Liveness, and how many chunks the index holds."""
        return Health(status="ok", chunks=answerer.chunks.count())

    return app


def mount_slack(app: FastAPI, slack_app: AsyncApp) -> None:
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

    handler = AsyncSlackRequestHandler(slack_app)

    # async, unlike /v1/ask: bolt verifies and acknowledges on the event loop, then answers in worker threads.
    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)
