"""Fault switches: make chosen requests fail in a chosen way.

From Python::

    emulator.faults.add(429, path="/api/v2/tasks", times=2, retry_after=1)
    emulator.faults.add("delay", regex=r"^/api/v2/tasks/[^/]+$", delay=3)
    emulator.faults.add("trickle", path="/media/screenshots/", chunk_size=4, interval=0.5)

Over HTTP (standalone emulator): ``POST /_emulator/faults`` with the same options as JSON,
e.g. ``{"kind": 503, "path": "/api/v1/task", "times": 1}`` or a list of such objects.

Matching: `path` is a prefix of the request path, `regex` is searched in the request path
(the query string is not part of either), `method` is compared case-insensitively; all
given conditions must hold. The first matching fault with uses left applies (in the order
they were added) and uses one of its `times` (None = unlimited). Every fault may also
carry a `delay` in seconds, spent before its effect.

Kinds:
- an HTTP status (int, or "status" with `status=`): JSON body ``{"detail": ...}`` (a
  sensible default per status; 402 carries ``{"code", "message", "cap", "spent"}``, 422 a
  FastAPI validation list), optional `retry_after` (seconds, a string, a datetime, or
  seconds rendered as an HTTP date with ``retry_after_as_date=True``), extra `headers`,
  or a raw `body`;
- "delay": wait `delay` seconds (cut short if the client disconnects), then answer normally;
- "malformed_json": 200, ``application/json``, body that is not valid JSON;
- "html_error": 502 (or `status`) with an HTML error page from a "proxy";
- "wrong_shape": 200 with valid JSON of the wrong shape (or `body`);
- "huge_body": 200 streaming `size` bytes (default 50 MiB) of valid JSON; no
  Content-Length unless ``declare_length=True``;
- "reset_mid_body": the normal response's headers and part of its body, then the
  connection is dropped;
- "trickle": the normal response, its body sent `chunk_size` bytes every `interval` seconds.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KINDS = frozenset(
    {
        "status",
        "delay",
        "malformed_json",
        "html_error",
        "wrong_shape",
        "huge_body",
        "reset_mid_body",
        "trickle",
    }
)

DEFAULT_DETAILS: dict[int, Any] = {
    400: "Bad request",
    401: "Invalid API key",
    402: {
        "code": "spend_cap_exceeded",
        "message": "Your project's spend cap has been reached. Raise the cap or wait for the next period.",
        "cap": 10.0,
        "spent": 10.02,
    },
    403: "Forbidden",
    404: "Task not found",
    408: "Request timeout",
    409: "Conflict",
    422: [{"type": "missing", "loc": ["query", "pageSize"], "msg": "Field required", "input": None}],
    429: "Too many concurrent active sessions. Please wait for one to finish, kill one, or upgrade your plan.",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service temporarily unavailable",
    504: "Gateway timeout",
}

HTML_ERROR_PAGE = (
    "<html>\r\n<head><title>{status} Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>{status} Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)
MALFORMED_JSON = (
    b'{"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a", "status": "finished", "steps": [{"number": 1, "mem'
)
WRONG_SHAPE: Any = {"ok": True, "result": {"unexpected": "shape"}, "items": "not-a-list", "status": 7}


class EmulatedConnectionReset(Exception):
    """Raised after a partial body so the server drops the connection."""


_ids = itertools.count(1)


@dataclass
class Fault:
    kind: str
    status: int | None = None
    path: str | None = None
    regex: str | None = None
    method: str | None = None
    times: int | None = None
    detail: Any = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | str | datetime | None = None
    retry_after_as_date: bool = False
    delay: float = 0.0
    size: int = 50 * 1024 * 1024
    declare_length: bool = False
    chunk_size: int = 4
    interval: float = 0.5
    id: int = field(default_factory=lambda: next(_ids))
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; use an HTTP status or one of {sorted(KINDS)}"
            )
        if self.kind == "status" and not self.status:
            raise ValueError("a status fault needs `status`")
        if self.regex is not None:
            re.compile(self.regex)
        if self.times is not None and self.times < 0:
            raise ValueError("`times` must be >= 0")

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(0, self.times - self.hits)

    @property
    def active(self) -> bool:
        return self.times is None or self.hits < self.times

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path is not None and not path.startswith(self.path):
            return False
        return not (self.regex is not None and re.search(self.regex, path) is None)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if isinstance(self.retry_after, datetime):
            data["retry_after"] = format_datetime(self.retry_after, usegmt=True)
        data["remaining"] = self.remaining
        return data


def make_fault(kind: int | str, **options: Any) -> Fault:
    """Build a Fault; `kind` may be an HTTP status (429 or "429")."""
    if isinstance(kind, bool):
        raise ValueError("fault kind must be a status code or a kind name")
    if isinstance(kind, int) or (isinstance(kind, str) and kind.isdigit()):
        options["status"] = int(kind)
        kind = "status"
    return Fault(kind=kind, **options)


class FaultSet:
    """The emulator's active faults; safe to use from the test thread while serving."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: int | str, /, **options: Any) -> Fault:
        """Add a fault (see the module docstring) and return it; `fault.hits` counts its uses."""
        fault = make_fault(kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_json(self, data: Any) -> list[Fault]:
        """Add one fault from a JSON object, or several from a list (the HTTP control API)."""
        items = data if isinstance(data, list) else [data]
        faults = []
        for item in items:
            if not isinstance(item, dict) or "kind" not in item:
                raise ValueError("each fault is an object with at least `kind`")
            options = {k: v for k, v in item.items() if k not in {"kind", "id", "hits", "remaining"}}
            faults.append(make_fault(item["kind"], **options))
        with self._lock:
            self._faults.extend(faults)
        return faults

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching active fault, with one use counted; None if none applies."""
        with self._lock:
            for fault in self._faults:
                if fault.active and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def remove(self, fault: Fault | int) -> None:
        fid = fault if isinstance(fault, int) else fault.id
        with self._lock:
            self._faults = [f for f in self._faults if f.id != fid]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)


# --------------------------------------------------------------------------------------
# Serving a fault (ASGI)
# --------------------------------------------------------------------------------------


async def sleep_unless_disconnected(seconds: float, disconnected: asyncio.Event) -> bool:
    """Sleep; return True if the client went away meanwhile."""
    if seconds <= 0:
        return disconnected.is_set()
    try:
        await asyncio.wait_for(disconnected.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


def _retry_after_value(fault: Fault) -> str | None:
    value = fault.retry_after
    if value is None:
        return None
    if isinstance(value, datetime):
        return format_datetime(value if value.tzinfo else value.replace(tzinfo=UTC), usegmt=True)
    if fault.retry_after_as_date:
        when = datetime.now(UTC) + timedelta(seconds=float(value))
        return format_datetime(when.replace(microsecond=0), usegmt=True)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


async def _send_simple(
    send: Send, status: int, body: bytes, content_type: str, headers: dict[str, str]
) -> None:
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    start: Message = {}
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return start, b"".join(chunks)


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() not in {b"content-length", b"transfer-encoding"}]
    return [*kept, (b"content-length", str(length).encode())]


async def serve_fault(
    fault: Fault,
    scope: Scope,
    receive: Receive,
    send: Send,
    app: ASGIApp,
    disconnected: asyncio.Event,
) -> None:
    """Answer one request according to `fault` (`app` is the normal application)."""
    if fault.delay and await sleep_unless_disconnected(fault.delay, disconnected):
        return
    kind = fault.kind
    headers = dict(fault.headers)

    if kind == "delay":
        await app(scope, receive, send)
        return

    if kind == "status":
        status = int(fault.status or 500)
        retry_after = _retry_after_value(fault)
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if fault.body is not None:
            body = _encode(fault.body)
        else:
            detail = (
                fault.detail if fault.detail is not None else DEFAULT_DETAILS.get(status, f"Error {status}")
            )
            body = json.dumps({"detail": detail}).encode()
        await _send_simple(send, status, body, "application/json", headers)
        return

    if kind == "html_error":
        status = int(fault.status or 502)
        body = (
            _encode(fault.body) if fault.body is not None else HTML_ERROR_PAGE.format(status=status).encode()
        )
        await _send_simple(send, status, body, "text/html", headers)
        return

    if kind == "malformed_json":
        body = _encode(fault.body) if fault.body is not None else MALFORMED_JSON
        await _send_simple(send, int(fault.status or 200), body, "application/json", headers)
        return

    if kind == "wrong_shape":
        body = json.dumps(fault.body if fault.body is not None else WRONG_SHAPE).encode()
        await _send_simple(send, int(fault.status or 200), body, "application/json", headers)
        return

    if kind == "huge_body":
        size = max(16, int(fault.size))
        prefix, suffix = b'{"padding":"', b'"}'
        raw = [(b"content-type", b"application/json")]
        if fault.declare_length:
            raw.append((b"content-length", str(size).encode()))
        await send({"type": "http.response.start", "status": int(fault.status or 200), "headers": raw})
        await send({"type": "http.response.body", "body": prefix, "more_body": True})
        remaining = size - len(prefix) - len(suffix)
        chunk = b"a" * 65536
        while remaining > 0:
            if disconnected.is_set():
                return
            piece = chunk if remaining >= len(chunk) else chunk[:remaining]
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            remaining -= len(piece)
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": suffix, "more_body": False})
        return

    if kind == "reset_mid_body":
        start, body = await _capture(app, scope, receive)
        if len(body) < 2:
            body = json.dumps({"detail": "x" * 64}).encode()
        start = dict(start)
        start["headers"] = _with_length(list(start.get("headers", [])), len(body))
        await send(start)
        await send({"type": "http.response.body", "body": body[: max(1, len(body) // 2)], "more_body": True})
        await asyncio.sleep(0.05)  # let the partial body reach the client
        raise EmulatedConnectionReset(scope.get("path"))

    if kind == "trickle":
        start, body = await _capture(app, scope, receive)
        start = dict(start)
        start["headers"] = _with_length(list(start.get("headers", [])), len(body))
        await send(start)
        step = max(1, int(fault.chunk_size))
        for offset in range(0, len(body), step):
            if offset and await sleep_unless_disconnected(fault.interval, disconnected):
                return
            last = offset + step >= len(body)
            await send(
                {"type": "http.response.body", "body": body[offset : offset + step], "more_body": not last}
            )
        if not body:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        return

    raise AssertionError(f"unhandled fault kind {kind}")  # pragma: no cover
