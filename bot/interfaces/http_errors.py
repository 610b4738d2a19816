"""The API's error bodies: one JSON shape with the request id, documented in the OpenAPI schema."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from bot.interfaces.access import request_info
from ingest.errors import IndexUnreachableError

logger = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    detail: str = Field(examples=["An API key is required: send it as `X-API-Key: <key>`."])
    request_id: str = Field(description="Also in the X-Request-ID header; the server log has the same id.")


def _error(description: str, example: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "model": ErrorOut, "description": description,
        "content": {"application/json": {"example": {"detail": example, "request_id": "3f9a1c0e5b7d4e21"}}},
    }
    if headers:
        response["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                               for name, text in headers.items()}
    return response


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("No valid API key.", "The API key is not valid. Check it against FINBOT_API_KEYS on the server.",
                {"WWW-Authenticate": "How to authenticate: X-API-Key or Authorization: Bearer."}),
}
ASK_RESPONSES: dict[int | str, dict[str, Any]] = {
    **AUTH_RESPONSES,
    400: _error("The question cannot be answered as asked.", "The question is empty."),
    413: _error("The request body is over http.max_body_bytes.", "The request body is over 65536 bytes."),
    429: _error("Over the per-key rate limit.", "Rate limit: 120 questions per 60 s for this key; retry in 12 s.",
                {"Retry-After": "Seconds until a request will be accepted."}),
    500: _error("An unexpected error, logged with the request id.", "Internal error; it was logged."),
    503: _error("Too many answers in flight, or the index cannot be reached.",
                "finbot is already computing 8 answers (http.max_in_flight); retry in 1 s.",
                {"Retry-After": "Seconds to wait before retrying."}),
    504: _error("The answer took longer than http.answer_timeout_seconds.",
                "The answer took longer than 30 s (http.answer_timeout_seconds)."),
}


INDEX_RETRY_SECONDS = 5


def install_error_handlers(app: FastAPI, index_location: str) -> None:
    """Every HTTPException (ours, and FastAPI's 404/405) answers as an `ErrorOut`; so does an unreachable index."""

    async def index_unreachable(request: Request, exc: Exception) -> JSONResponse:
        # chromadb's HttpClient lets httpx's errors through; the next request simply tries again, so the
        # service recovers by itself when the Chroma server is back.
        logger.warning("the index at %s cannot be reached: %s", index_location, exc)
        detail = (
            f"The index at {index_location} cannot be reached; finbot retries on the next request. "
            f"Retry in {INDEX_RETRY_SECONDS} s; if it persists, check the Chroma server (index.host, index.port)."
        )
        body = ErrorOut(detail=detail, request_id=request_info(request).id)
        return JSONResponse(body.model_dump(), status_code=503, headers={"Retry-After": str(INDEX_RETRY_SECONDS)})

    app.add_exception_handler(httpx.TransportError, index_unreachable)
    app.add_exception_handler(IndexUnreachableError, index_unreachable)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        body = ErrorOut(detail=str(exc.detail), request_id=request_info(request).id)
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)

    app.add_exception_handler(HTTPException, http_error)
