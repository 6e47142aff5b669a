"""Serving over stdio, SSE and streamable HTTP.

HTTP transports bind 127.0.0.1 by default, validate Host and Origin (DNS rebinding),
cap request bodies, and require a bearer token when one is configured (and refuse to
start on a non-loopback address without one; see `Settings.validate`).
"""

from __future__ import annotations

import hmac
import logging
import signal
import threading
from types import FrameType
from typing import Any

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import Settings, is_loopback_host

log = logging.getLogger(__name__)

MAX_REQUEST_BODY_BYTES = 1024 * 1024
_LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


class BearerTokenMiddleware:
    """Reject every HTTP request that lacks `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            supplied = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(supplied, self._expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": b"Missing or wrong bearer token"})
                return
        await self.app(scope, receive, send)


def transport_security(settings: Settings) -> TransportSecuritySettings:
    hosts = list(_LOOPBACK_HOSTS)
    if not is_loopback_host(settings.host) and settings.host not in ("0.0.0.0", "::"):  # noqa: S104
        hosts.append(settings.host)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{h}:*" for h in hosts] + hosts,
        allowed_origins=[f"http://{h}:*" for h in hosts] + [f"https://{h}:*" for h in hosts],
    )


def http_app(server: MCPServer[Any], settings: Settings) -> ASGIApp:
    security = transport_security(settings)
    app: ASGIApp
    if settings.transport == "sse":
        app = server.sse_app(
            transport_security=security, max_request_body_size=MAX_REQUEST_BODY_BYTES, host=settings.host
        )
    else:
        app = server.streamable_http_app(
            transport_security=security, max_request_body_size=MAX_REQUEST_BODY_BYTES, host=settings.host
        )
    if settings.auth_token is not None:
        app = BearerTokenMiddleware(app, settings.auth_token.get_secret_value())
    return app


async def serve_http(server: MCPServer[Any], settings: Settings) -> None:
    config = uvicorn.Config(
        http_app(server, settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        # No logging config of uvicorn's own: its records then go through our handler and its
        # redacting filter like every other logger's.
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    await uvicorn.Server(config).serve()


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(server: MCPServer[Any], settings: Settings) -> None:
    if settings.transport == "stdio":
        anyio.run(server.run_stdio_async)
        return
    # uvicorn shuts down gracefully on SIGTERM and then re-raises the signal to the previous
    # handler; with the default one the process would die by the signal (status -15/143)
    # after a clean shutdown. A supervisor's SIGTERM is a normal stop: exit with status 0.
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_cleanly) if on_main_thread else None
    try:
        anyio.run(serve_http, server, settings)
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
