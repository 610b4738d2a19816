"""Socket Mode: the same bolt app, fed over a websocket Slack opens, for workspaces without a public URL."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

logger = logging.getLogger(__name__)


def socket_mode_handler(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """The handler; its client asks apps.connections.open through the app's Web API client (same base URL)."""
    return AsyncSocketModeHandler(app, app_token, web_client=app.client)


async def run_socket_mode(app: AsyncApp, app_token: str) -> None:
    """Connect and serve until cancelled (Ctrl-C); the websocket reconnects by itself when Slack drops it."""
    handler = socket_mode_handler(app, app_token)
    try:
        await handler.start_async()  # type: ignore[no-untyped-call]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
