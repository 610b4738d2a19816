"""What makes the API fit to run behind a load balancer: keys, limits, metrics, health and readiness.

`create_api` (api.py) builds its app here and adds the question routes; this module owns everything else.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from bot.interfaces.access import AccessMiddleware, request_info
from bot.interfaces.http_auth import ApiKeys, Authenticator, is_loopback
from bot.interfaces.http_errors import ASK_RESPONSES, AUTH_RESPONSES, ErrorOut, install_error_handlers
from bot.interfaces.limits import AnswerSlots, BodyLimitMiddleware, RateLimiter
from bot.interfaces.metrics import CONTENT_TYPE, ApiMetrics
from bot.interfaces.recording import CLIENT_HEADER, SESSION_HEADER, interface_of, session_user

if TYPE_CHECKING:
    from bot.answering.answer import Answer
    from bot.answering.answerer import Answerer
    from bot.config import Auth, Http, Index, Interface
    from bot.interfaces.recording import Recorder

logger = logging.getLogger(__name__)


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    chunks: int | None = Field(description="Indexed chunks; null when the index cannot be reached (see /readyz).")
    index: str | None = Field(None, description="Which index this server reads (its location and collection).")


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    chunks: int = Field(description="Indexed chunks.")
    llm: str | None = Field(
        None, description="LLM mode: 'reachable', or why the model's server is not (answers then fall back to "
        "quotes, so finbot stays ready)."
    )


class NotReady(BaseModel):
    status: str = Field(examples=["unavailable"])
    detail: str = Field(examples=["The index cannot be reached: ..."])


class Service:
    """One API instance's keys, limits and metrics; `create_app` wires them into a FastAPI app."""

    def __init__(self, answerer: Answerer, http: Http, auth: Auth, keys: ApiKeys, index: Index | None = None) -> None:
        self.answerer = answerer
        self.http = http
        self.auth = auth
        self.authenticator = Authenticator(keys, auth.required)
        self.limiter = RateLimiter(http.rate_limit_per_key, http.rate_limit_window_seconds)
        self.slots = AnswerSlots(http.max_in_flight, http.answer_timeout_seconds, http.max_queued)
        self.metrics = ApiMetrics(self._chunk_count, lambda: self.slots.busy)
        self.ask_responses = ASK_RESPONSES
        server = index.server() if index is not None else None
        self.index_identity = index.identity() if index is not None else None
        self.index_location = f"the Chroma server at {server.url}" if server else "the embedded index"
        # Entered when the app starts and left when it stops (the MCP session manager's task group).
        self.background: list[Callable[[], AbstractAsyncContextManager[None]]] = []
        self.recorder: Recorder | None = None  # records answered questions (recording.*) when set

    @property
    def guard(self) -> DependsParam:
        """The dependency of a question route: a valid key (when required), then the caller's rate limit."""

        async def guard(request: Request, caller: str = Depends(self.authenticator)) -> str:
            request_info(request).caller = caller
            self.limiter.check(caller)
            return caller

        dependency: DependsParam = Depends(guard)
        return dependency

    def observe_answer(self, request: Request, answer: Answer) -> None:
        top = answer.sources[0].score if answer.sources else None
        self.metrics.observe_answer(answer.abstained, answer.confidence, top)
        request_info(request).fields.update(
            answer_id=answer.id, abstained=answer.abstained, confidence=round(answer.confidence, 3),
            sources=[source.path for source in answer.sources],
        )
        if self.recorder is not None:
            interface, user = self.asker(request)
            self.recorder.record(answer, interface, user=user)

    def asker(self, request: Request) -> tuple[Interface, str | None]:
        """Which interface asked (the page and `finbot ask` say so in a header, else `http`) and who: the page's
        tab id, else the caller."""
        user = session_user(request.headers.get(SESSION_HEADER), request_info(request).caller)
        return interface_of(request.headers.get(CLIENT_HEADER)), user

    def _chunk_count(self) -> float:
        try:
            return float(self.answerer.chunks.count())
        except Exception:  # a scrape must not fail because Chroma is down; /readyz says why
            return math.nan

    def create_app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with AsyncExitStack() as stack:
                for enter in self.background:
                    await stack.enter_async_context(enter())
                yield
            self.slots.close()

        app = FastAPI(
            title="finbot", summary="Answers finance questions from your documents, citing the source.",
            lifespan=lifespan,
        )
        install_error_handlers(app, self.index_location)
        app.add_middleware(BodyLimitMiddleware, limit=self.http.max_body_bytes)
        app.add_middleware(AccessMiddleware, metrics=self.metrics)  # added last: outermost
        self._add_routes(app)
        return app

    def _add_routes(self, app: FastAPI) -> None:
        answerer = self.answerer

        @app.get("/healthz", response_model=Health)
        def healthz() -> Health:
            """Liveness: the process answers. Open without a key."""
            try:
                chunks: int | None = answerer.chunks.count()
            except Exception:  # alive even when Chroma is not; readiness is /readyz's job
                chunks = None
            return Health(status="ok", chunks=chunks, index=self.index_identity)

        @app.get(
            "/readyz", response_model=Readiness, response_model_exclude_none=True, responses={503: {"model": NotReady}}
        )
        def readyz() -> Any:
            """Readiness: the model is loaded and the index is reachable and not empty. Open without a key."""
            try:
                chunks = answerer.chunks.count()
            except Exception as exc:  # the API boundary: any failure to reach the index means "not ready"
                logger.warning("readyz: %s cannot be reached: %s", self.index_location, exc)
                detail = f"{self.index_location} cannot be reached ({type(exc).__name__}); check the Chroma server."
                return JSONResponse(NotReady(status="unavailable", detail=detail).model_dump(), status_code=503)
            if chunks == 0:
                detail = "The index is empty. Run `finbot ingest`."
                return JSONResponse(NotReady(status="unavailable", detail=detail).model_dump(), status_code=503)
            writing = answerer.writing
            if writing is None:
                return Readiness(status="ready", chunks=chunks)
            problem = writing.writer.unreachable()
            if problem:
                logger.warning("readyz: %s; answers fall back to quotes", problem)
            return Readiness(status="ready", chunks=chunks, llm=problem or "reachable")

        @app.get(
            "/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."},
                       **AUTH_RESPONSES},
        )
        def metrics(request: Request) -> Response:
            """Prometheus metrics; open, loopback-only or keyed as auth.metrics says."""
            client = request.client.host if request.client else ""
            if self.auth.metrics == "key" or (self.auth.metrics == "loopback" and not is_loopback(client)):
                request_info(request).caller = self.authenticator.require(request)
            return Response(self.metrics.render(), media_type=CONTENT_TYPE)


__all__ = ["ErrorOut", "Health", "Service"]
