"""The emulator's ASGI application: v4, v3, v2 and v1 APIs, presigned media, control endpoints.

The outermost layer (`EmulatorMiddleware`) records every request, watches for the client
going away and applies fault switches before the Starlette app sees the request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import api_v1, api_v2, api_v3, api_v4, media
from .faults import ASGIApp, EmulatedConnectionReset, Message, Receive, Scope, Send, serve_fault

if TYPE_CHECKING:
    from .server import Emulator

CONTROL_PREFIX = "/_emulator"


# --------------------------------------------------------------------------------------
# Media
# --------------------------------------------------------------------------------------


def _xml(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="application/xml")


async def serve_media(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.decode("latin-1").split("?", 1)[0]
    query = dict(parse_qsl(request.url.query, keep_blank_values=True))
    verdict = media.verify(path, query)
    if not verdict.ok:
        return _xml(403, media.s3_error_xml(verdict.code, verdict.message, verdict.extra, path))
    entry = emulator.media.get(path)
    if entry is None:
        return _xml(
            404,
            media.s3_error_xml("NoSuchKey", "The specified key does not exist.", f"<Key>{path}</Key>", path),
        )
    body = await run_in_threadpool(entry.produce)
    return Response(
        body,
        media_type=entry.content_type,
        headers={
            "ETag": f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
            "Accept-Ranges": "none",
        },
    )


# --------------------------------------------------------------------------------------
# Control endpoints
# --------------------------------------------------------------------------------------


async def control_health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def control_faults(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    if request.method == "GET":
        return JSONResponse({"faults": [f.to_dict() for f in emulator.faults.list()]})
    if request.method == "DELETE":
        emulator.faults.clear()
        return JSONResponse({"faults": []})
    try:
        data = json.loads(await request.body())
        added = emulator.faults.add_json(data)
    except (ValueError, TypeError) as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    return JSONResponse({"faults": [f.to_dict() for f in added]}, status_code=201)


async def control_reset(request: Request) -> Response:
    request.app.state.emulator.reset()
    return JSONResponse({"ok": True})


async def control_requests(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    prefix = request.query_params.get("path_prefix")
    return JSONResponse(
        {
            "requests": [r.to_dict() for r in emulator.log.records(prefix)],
            "counts": emulator.log.counts(),
        }
    )


# --------------------------------------------------------------------------------------
# Errors as FastAPI renders them
# --------------------------------------------------------------------------------------


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


def create_app(emulator: Emulator) -> ASGIApp:
    routes = [
        *api_v2.routes,
        *api_v1.routes,
        *api_v3.routes,
        *api_v4.routes,
        Route("/media/{path:path}", serve_media, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/health", control_health, methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/faults", control_faults, methods=["GET", "POST", "DELETE"]),
        Route(f"{CONTROL_PREFIX}/reset", control_reset, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/requests", control_requests, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_exception, 500: server_error})
    app.state.emulator = emulator
    return EmulatorMiddleware(app, emulator)


# --------------------------------------------------------------------------------------
# Recording, disconnect watching, faults
# --------------------------------------------------------------------------------------


class EmulatorMiddleware:
    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return

        started = time.monotonic()
        record = self.emulator.log.start(
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            list(scope.get("headers", [])),
        )

        # Read the request body up front so that `receive` is free for disconnect watching.
        buffered: list[Message] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                record.client_disconnected = True
                record.duration = time.monotonic() - started
                return
            buffered.append(message)
            if not message.get("more_body", False):
                break

        disconnected = asyncio.Event()

        async def watch() -> None:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not record.completed:
                    record.client_disconnected = True
                disconnected.set()

        watcher = asyncio.create_task(watch())

        async def app_receive() -> Message:
            if buffered:
                return buffered.pop(0)
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def app_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record.completed = True
            await send(message)

        scope.setdefault("state", {})["emulator_disconnected"] = disconnected
        try:
            fault = self.emulator.faults.take(scope["method"], scope["path"])
            if fault is None:
                await self.app(scope, app_receive, app_send)
            else:
                record.fault = fault.kind if fault.kind != "status" else str(fault.status)
                await serve_fault(fault, scope, app_receive, app_send, self.app, disconnected)
        except EmulatedConnectionReset:
            record.reset_by_server = True
            raise
        finally:
            watcher.cancel()
            record.duration = time.monotonic() - started
