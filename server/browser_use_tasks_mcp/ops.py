"""What an operator's load balancer and Prometheus ask an HTTP server: `/healthz`, `/readyz`, `/metrics`.

`/healthz` says the process answers; `/readyz` that it has opened its source and can take calls
(a shared cache that is down does not make it unready: it serves from memory); `/metrics` is
`metrics.METRICS` in Prometheus' text format, behind the bearer token when one is set. This
wrapper also holds the process state for the server's whole life (see `app.ProcessState`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from .metrics import METRICS

PATHS = ("/healthz", "/readyz", "/metrics")


class OpsEndpoints:
    def __init__(self, app: ASGIApp, server: Any, *, guard: Any = None) -> None:
        self.app = app
        self.server = server
        #: Checks the bearer token of `/metrics` requests (`transports.BearerTokenMiddleware`), if any.
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.server.process is not None:
            async with self.server.process.use():
                await self.app(scope, receive, send)
            return
        if scope["type"] != "http" or scope["path"] not in PATHS:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, b"GET only\n", "text/plain", head=False)
        elif scope["path"] == "/metrics" and self.guard is not None and not self.guard.authorised(scope):
            await _answer(send, 401, b"Missing or wrong bearer token\n", "text/plain", head=False)
        else:
            status, body, kind = self._page(scope["path"])
            await _answer(send, status, body, kind, head=scope["method"] == "HEAD")

    def _page(self, path: str) -> tuple[int, bytes, str]:
        if path == "/healthz":
            return 200, b"ok\n", "text/plain"
        if path == "/metrics":
            return 200, METRICS.render().encode(), "text/plain; version=0.0.4; charset=utf-8"
        state = self.server.state
        ready = state is not None
        shared = None if state is None else state.service.shared
        report: dict[str, Any] = {
            "ready": ready,
            "shared_cache": "off" if shared is None else ("reachable" if shared.reachable else "unreachable"),
        }
        return (200 if ready else 503), json.dumps(report).encode() + b"\n", "application/json"


async def _answer(send: Send, status: int, body: bytes, kind: str, *, head: bool) -> None:
    headers = [(b"content-type", kind.encode()), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
