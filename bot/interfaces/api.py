"""The HTTP API: one FastAPI app around an `Answerer`."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.answering.followups import MAX_TURNS, Turn
from bot.answering.question import MAX_QUESTION_CHARS
from bot.config import Auth, Http, Index
from bot.errors import USER_ERRORS
from bot.interfaces.ask_stream import events
from bot.interfaces.http_auth import ApiKeys
from bot.interfaces.metric_routes import Cell, PeriodOut, mount_metric_routes
from bot.interfaces.service import Service
from bot.interfaces.web.page import mount_web
from ingest.errors import IndexUnreachableError

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from slack_bolt.async_app import AsyncApp

    from bot.answering.answerer import Answerer
    from bot.interfaces.recording import Recorder


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str = Field("", max_length=20_000)


class AskRequest(BaseModel):
    # As the schema says: `"explain": 0` or `"top_k": "3"` is a 422, not silently coerced (33.0 is an integer).
    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(
        max_length=MAX_QUESTION_CHARS, examples=["How is net revenue retention calculated?"],
        json_schema_extra={"pattern": r"\S"},  # not blank (checked by not_blank, with a message saying so)
    )
    top_k: int | None = Field(
        None, gt=0, le=50, strict=False, description="How many sources to retrieve (default from config)."
    )
    doc_type: Literal["metric", "report", "policy", "other"] | None = Field(
        None, description="Cite only documents of this type."
    )
    path_prefix: str | None = Field(
        None, max_length=500, description="Cite only documents whose path starts with this.", examples=["policies/"]
    )
    explain: bool = Field(False, description="Add each source's vector, BM25 and glossary ranks (`explain`).")
    conversation: list[TurnIn] | None = Field(
        None, max_length=MAX_TURNS,
        description="Earlier turns, oldest first: a follow-up ('and who owns it?') also searches with what the "
        "last one was about.",
    )

    def turns(self) -> list[Turn]:
        return [Turn(t.question, t.answer) for t in self.conversation or []]

    @field_validator("top_k", mode="before")
    @classmethod
    def a_json_integer(cls, value: Any) -> Any:
        if isinstance(value, str | bool):
            raise ValueError("top_k must be a JSON integer such as 5")
        return value

    @field_validator("question", mode="before")
    @classmethod
    def not_blank(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("the question is empty; send a question such as 'How is ARR calculated?'")
        return value


class ExplainOut(BaseModel):
    vector_rank: int | None
    similarity: float | None
    bm25_rank: int | None
    bm25_score: float | None
    glossary: str | None
    glossary_weight: float
    vector_scaled: float
    bm25_scaled: float
    fused: float
    support: float


class SourceOut(BaseModel):
    n: int
    path: str
    section: str | None
    start_line: int | None
    end_line: int | None
    score: float
    snippet: str
    page: int | None = None
    explain: ExplainOut | None = None
    cited: bool = Field(True, description="Whether the answer text cites this source ([n]).")


class ValueDataOut(BaseModel):
    metrics: list[str] = Field(examples=[["arr"]])
    period: PeriodOut
    columns: list[str] = Field(examples=[["period", "arr"]])
    rows: list[list[Cell]] = Field(examples=[[["Q3 2025", 6806584.32]]])
    sql: str


class AskResponse(BaseModel):
    answer: str
    abstained: bool
    confidence: float = Field(description="0-1: how likely the documents answer the question.")
    sources: list[SourceOut]
    value: dict[str, Any] | None = Field(
        default=None, description="A metric value from the warehouse: metric, period, value, unit, sql, citation."
    )
    data: ValueDataOut | None = Field(
        default=None, description="A value answer's numbers as a table: metrics, period, columns, rows, sql."
    )
    parts: list[str] | None = Field(
        default=None, description="With explain: the asks found in the question, each answered on its own."
    )
    mode: Literal["extractive", "llm", "llm-fallback"] = Field(
        "extractive", description="Who wrote the text: quotes, the model (checked), or quotes as the model's fallback."
    )
    removed_sentences: int = Field(0, description="The model's sentences removed as unsupported by their sources.")


def create_api(
    answerer: Answerer,
    slack_app: AsyncApp | None = None,
    *,
    http: Http | None = None,
    auth: Auth | None = None,
    keys: ApiKeys | None = None,
    index: Index | None = None,
    mcp: MCPServer | None = None,
    source_url_template: str = "",
    recorder: Recorder | None = None,
) -> FastAPI:
    """The API; with `slack_app`, Slack's events, slash commands and button clicks arrive at /slack/events.

    Without `auth` every /v1/ask needs one of `keys` (none given: every request is refused); `index` names
    the index in error messages (a Chroma server that is down is a 503); with `mcp`, that MCP server answers
    at /mcp (streamable HTTP) behind the same keys; `source_url_template` links the page's sources; with
    `recorder`, answered questions are recorded (recording.*) and POST /v1/feedback takes votes on them.
    """
    service = Service(answerer, http or Http(), auth or Auth(), keys or ApiKeys(), index)
    service.recorder = recorder
    app = service.create_app()
    if slack_app is not None:
        mount_slack(app, slack_app)

    # Embedding runs in service.slots' worker threads (bounded, with a timeout), never on the event loop.
    @app.post(
        "/v1/ask", response_model=AskResponse, response_model_exclude_unset=True, responses=service.ask_responses,
        dependencies=[service.guard],
    )
    async def ask(request: AskRequest, http_request: Request, response: Response) -> dict[str, Any]:
        """Answer a question from the indexed documents, with numbered sources (its id in `X-Answer-Id`, for a
        vote at POST /v1/feedback)."""
        try:
            answer = await service.slots.run(
                lambda: answerer.ask(
                    request.question, request.top_k, doc_type=request.doc_type, path_prefix=request.path_prefix,
                    conversation=request.turns(),
                )
            )
        except IndexUnreachableError:
            raise  # a 503 (http_errors), not the asker's fault
        except USER_ERRORS as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        service.observe_answer(http_request, answer)
        response.headers["X-Answer-Id"] = answer.id
        return answer.to_dict(explain=request.explain)

    @app.post(
        "/v1/ask/stream", response_class=StreamingResponse, responses=service.ask_responses,
        dependencies=[service.guard],
    )
    async def ask_stream(request: AskRequest, http_request: Request) -> StreamingResponse:
        """Answer as Server-Sent Events: `sources`, then `delta`s of the model's draft (LLM mode), then `answer`."""
        try:
            answer = await service.slots.run(
                lambda: answerer.ask(
                    request.question, request.top_k, doc_type=request.doc_type, path_prefix=request.path_prefix,
                    write=False, conversation=request.turns(),
                )
            )
        except IndexUnreachableError:
            raise
        except USER_ERRORS as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        observe = partial(service.observe_answer, http_request)
        return StreamingResponse(
            events(answer, answerer, http_request, observe), media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Answer-Id": answer.id},
        )

    if answerer.values is not None:  # GET /v1/metrics, POST /v1/metrics/query
        mount_metric_routes(app, service, answerer.values)

    if mcp is not None:
        from bot.interfaces.mcp_http import mount_mcp

        mount_mcp(app, mcp, service)
    if recorder is not None:
        from bot.interfaces.votes import mount_votes

        mount_votes(app, service, recorder)
    mount_web(app, source_url_template)  # the page at /: it asks /v1/ask like any client, with the user's key
    return app


def mount_slack(app: FastAPI, slack_app: AsyncApp) -> None:
    from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

    handler = AsyncSlackRequestHandler(slack_app)

    # async, unlike /v1/ask: bolt verifies and acknowledges on the event loop, then answers in worker threads.
    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)
