"""The MCP server over streamable HTTP at /mcp on `finbot serve`, behind the same API keys and rate limit as
/v1/ask (the SDK's stateless JSON mode: every POST is a whole exchange, so replicas need no shared sessions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from bot.interfaces.access import request_info
from bot.interfaces.http_auth import is_loopback

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from starlette.types import ASGIApp, Receive, Scope, Send

    from bot.interfaces.service import Service

PATH = "/mcp"


class KeyedMcp:
    """The SDK's ASGI app behind the service's key check (when auth is on) and per-caller rate limit."""

    def __init__(self, inner: ASGIApp, service: Service) -> None:
        self.inner = inner
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        client = request.client.host if request.client else "unknown"
        try:
            caller = self.service.authenticator.require(request) if self.service.auth.required else f"addr:{client}"
            request_info(request).caller = caller
            self.service.limiter.check(caller)
        except HTTPException as exc:
            response = JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
            await response(scope, receive, send)
            return
        await self.inner(scope, receive, send)


def mount_mcp(app: FastAPI, server: MCPServer, service: Service) -> None:
    """Serve `server` at /mcp. Bound to loopback, the SDK accepts only localhost Host and Origin headers (DNS
    rebinding); on another interface API keys guard it (`finbot serve` refuses that with auth off unless
    --insecure), so the Host check is left to whatever is in front."""
    host = service.http.host
    security = None if is_loopback(host) else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, json_response=True, transport_security=security, host=host,
        max_request_body_size=service.http.max_body_bytes,
    )
    manager = server.session_manager
    service.background.append(manager.run)  # its task group lives as long as the app
    endpoint = KeyedMcp(StreamableHTTPASGIApp(manager), service)
    app.router.routes.append(Route(PATH, endpoint=endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False))
