"""Serving over stdio, SSE and streamable HTTP.

HTTP transports bind 127.0.0.1 by default, validate Host and Origin (DNS rebinding),
cap request bodies, and require a bearer token when one is configured (and refuse to
start on a non-loopback address without one; see `Settings.validate`).
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import logging
import re
import signal
import socket
import threading
from types import FrameType
from typing import Any

import anyio
import h11
import mcp_types as types
import pydantic_core
import uvicorn
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import ConfigError, Settings, is_loopback_host
from .ops import OpsEndpoints

log = logging.getLogger(__name__)

MAX_REQUEST_BODY_BYTES = 1024 * 1024
_LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(value: Any) -> Any:
    """`value` with every string (and key) made valid Unicode: UTF-16 surrogates that do not form
    a pair (JSON's `"\\ud800"`, or a file name that is not UTF-8) become U+FFFD."""
    if isinstance(value, str):
        if value.isascii() or not _SURROGATE.search(value):
            return value
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {valid_unicode(k): valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [valid_unicode(v) for v in value]
    return value


class OutboundGuard:
    """Server middleware: every answer leaves as valid Unicode, on every transport.

    The one place all three transports share (stdio, SSE, and streamable HTTP in both its
    session and per-request modes) is the server's request pipeline, so the answer of every
    request is made valid Unicode here, and one that still cannot be encoded to JSON becomes a
    JSON-RPC error instead of killing the transport's writer (which loses that answer and every
    later one on stdio, and the whole session on SSE).
    """

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        try:
            result = await call_next(ctx)
        except MCPError as exc:
            message, data = valid_unicode(exc.error.message), valid_unicode(exc.error.data)
            if message is exc.error.message and data is exc.error.data:
                raise
            raise MCPError(code=exc.error.code, message=message, data=data) from exc
        if ctx.request_id is None:  # a notification: nothing is sent back
            return result
        try:
            pydantic_core.to_json(result)  # encodes, so every string in it is valid Unicode
            return result  # the common case: one pass in Rust instead of a walk of the answer
        except Exception:  # noqa: S110 - made valid below, or refused with a logged error
            pass
        if isinstance(result, BaseModel):
            result = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        clean = valid_unicode(result)
        try:
            pydantic_core.to_json(clean)
        except Exception:
            log.exception("the answer to %s cannot be encoded as JSON", ctx.method)
            raise MCPError(
                code=types.INTERNAL_ERROR,
                message="Internal error: the server could not encode its answer to this request.",
            ) from None
        return clean  # type: ignore[no-any-return]


def guard_outbound(server: MCPServer[Any]) -> None:
    """Install `OutboundGuard` as the outermost middleware of `server` (once)."""
    if not any(isinstance(m, OutboundGuard) for m in server.middleware):
        server.middleware.insert(0, OutboundGuard())


class BearerTokenMiddleware:
    """Reject every HTTP request that lacks `Authorization: Bearer <token>`.

    The scheme is matched without regard to case (RFC 7235: `bearer`, `BEARER`); the token is
    compared in constant time.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = token.encode()

    def authorised(self, scope: Scope) -> bool:
        supplied = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, credentials = supplied.strip().partition(b" ")
        # Compare even when the scheme is wrong, so the time taken does not tell which part failed.
        matches = hmac.compare_digest(credentials.strip(), self._expected)
        return scheme.lower() == b"bearer" and matches

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.authorised(scope):
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
    guard_outbound(server)
    security = transport_security(settings)
    app: ASGIApp
    if settings.transport == "sse":
        app = server.sse_app(
            transport_security=security, max_request_body_size=MAX_REQUEST_BODY_BYTES, host=settings.host
        )
    else:
        # Stateless: no session to remember, so any worker behind a load balancer answers any request.
        # Requests of the 2026-07-28 protocol carry no session in either mode.
        app = server.streamable_http_app(
            transport_security=security,
            max_request_body_size=MAX_REQUEST_BODY_BYTES,
            host=settings.host,
            stateless_http=settings.stateless,
        )
    guard = None
    if settings.auth_token is not None:
        app = guard = BearerTokenMiddleware(app, settings.auth_token.get_secret_value())
    return OpsEndpoints(app, server, guard=guard)


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers.

    uvicorn closes a connection that stays idle after a response (`timeout_keep_alive`) but
    has no limit on the time a client may take to send a request line and headers: a
    connection that sends half a request, or a byte now and then, was held forever. Here the
    headers of each request must be complete within `header_timeout` seconds of the
    connection opening (or of the first byte of a later request on it), else the connection is
    closed. Before the headers end no application code runs, so the token check is covered.
    """

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm_header_timer()  # a request is under way and its headers are not complete
        else:
            self._cancel_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            log.info("closing a connection that did not send its request headers in time")
            self.transport.close()


def uvicorn_config(server: MCPServer[Any], settings: Settings) -> uvicorn.Config:
    protocol = type(
        "HeaderDeadlineProtocol",
        (HeaderDeadlineProtocol,),
        {"header_timeout": settings.http_header_timeout_s},
    )
    return uvicorn.Config(
        http_app(server, settings),
        host=settings.host,
        port=settings.port,
        http=protocol,
        # A connection idle after a response is closed after this many seconds.
        timeout_keep_alive=settings.http_idle_timeout_s,
        # Over this many open connections (or requests in progress), requests get 503.
        limit_concurrency=settings.http_max_connections,
        log_level=settings.log_level.lower(),
        # No logging config of uvicorn's own: its records then go through our handler and its
        # redacting filter like every other logger's.
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=1,
        lifespan="on",
    )


def listen_socket(settings: Settings) -> socket.socket:
    """The listening socket for the HTTP transports, bound before anything says "serving".

    Raises ConfigError (one plain line: what to change) when the address cannot be bound.
    """
    host = settings.host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f"Cannot listen on {settings.host}: the address does not resolve ({exc}). "
            "Use --host with an address of this machine, such as 127.0.0.1."
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = (
            "the port is already in use; choose another with --port, or stop the program using it"
            if exc.errno == errno.EADDRINUSE
            else f"{exc.strerror or exc}; use --host with an address of this machine and a free --port"
        )
        raise ConfigError(f"Cannot listen on {settings.host}:{settings.port}: {reason}.") from None
    sock.set_inheritable(True)
    return sock


async def serve_http(server: MCPServer[Any], settings: Settings, sock: socket.socket | None = None) -> None:
    sock = sock or listen_socket(settings)
    await uvicorn.Server(uvicorn_config(server, settings)).serve(sockets=[sock])


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(server: MCPServer[Any], settings: Settings, sock: socket.socket | None = None) -> None:
    """Serve until stopped; the HTTP transports on `sock` (see `listen_socket`) when given."""
    guard_outbound(server)
    if settings.transport == "stdio":
        from .stdio import serve_stdio  # imports this module

        anyio.run(serve_stdio, server)
        return
    # uvicorn shuts down gracefully on SIGTERM and then re-raises the signal to the previous
    # handler; with the default one the process would die by the signal (status -15/143)
    # after a clean shutdown. A supervisor's SIGTERM is a normal stop: exit with status 0.
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_cleanly) if on_main_thread else None
    try:
        anyio.run(serve_http, server, settings, sock)
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
