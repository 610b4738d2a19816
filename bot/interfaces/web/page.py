"""Serves the page: GET / is index.html and /static/ its CSS and JavaScript, all shipped in this package."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
# Nothing but this server: no CDN, no inline script, no framing by another site.
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


_URL_META = '<meta name="finbot-source-url" content="">'


def mount_web(app: FastAPI, source_url_template: str = "") -> None:
    """The page at / and its files at /static/ (left out of the OpenAPI schema: they are not the API).

    `source_url_template` (slack.source_url_template) reaches the page in a meta tag, so its sources link to
    the documents the way Slack's do."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    page = page.replace(_URL_META, _URL_META.replace('content=""', f'content="{html.escape(source_url_template)}"'))

    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers=HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
