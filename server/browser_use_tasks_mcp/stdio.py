"""Serving MCP over stdio with our own framing around the SDK's server loop.

Why not the SDK's `stdio_server`:

- it reads each line whole, so one 75 MB line costs about 2 GB before it is even parsed.
  Here stdin is read in 64 KiB chunks; a line longer than `MAX_MESSAGE_BYTES` is skipped as
  it arrives (only its first bytes are kept, to find its `id`) and answered with a JSON-RPC
  `-32600` error, and the next line is served as usual;
- its writer task dies on the first message it cannot encode (a lone UTF-16 surrogate from a
  history file, a run folder whose name is not UTF-8), and every later answer is lost while the
  process stays up. Here each message is encoded by `encode_message`, which never raises: lone
  surrogates become U+FFFD, and an answer that still cannot be encoded becomes an error
  response to its request;
- it reads on a worker thread and writes each message through another, two hand-overs between
  threads per message. A pipe or socket (what MCP clients give) is read and written here from
  the event loop, non-blocking; a terminal or a file keeps a reader thread.

While serving, fd 0 reads the null device and fd 1 writes to stderr (as in the SDK), so a
stray `print` or a child process cannot corrupt the protocol stream.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import SessionMessage

from .transports import valid_unicode

log = logging.getLogger(__name__)

#: The largest message accepted on stdin, in bytes (newline excluded).
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024
#: How much of an oversized line is kept to find its `id`.
_PREFIX_BYTES = 4 * 1024
#: Answers queued for the writer before a handler waits for it.
_OUTBOUND_QUEUE = 16


@dataclass(frozen=True)
class Oversized:
    """A line over the size limit: its first bytes and its full length."""

    prefix: bytes
    size: int


class LineFramer:
    """Split a byte stream into lines, never holding more than `limit` bytes of one line."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._line = bytearray()
        self._oversized: Oversized | None = None

    def feed(self, chunk: bytes) -> Iterator[bytes | Oversized]:
        start = 0
        while start <= len(chunk):
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            self._take(piece)
            if end < 0:
                return
            yield self._finish_line()
            start = end + 1

    def finish(self) -> Iterator[bytes | Oversized]:
        """The last line, if stdin ended without a newline."""
        if self._line or self._oversized is not None:
            yield self._finish_line()

    def _take(self, piece: bytes) -> None:
        if self._oversized is not None:
            self._oversized = Oversized(self._oversized.prefix, self._oversized.size + len(piece))
        elif len(self._line) + len(piece) > self.limit:
            head = bytes(self._line[:_PREFIX_BYTES]) + piece[: max(0, _PREFIX_BYTES - len(self._line))]
            self._oversized = Oversized(head, len(self._line) + len(piece))
            self._line = bytearray()
        else:
            self._line += piece

    def _finish_line(self) -> bytes | Oversized:
        if self._oversized is not None:
            item: bytes | Oversized = self._oversized
            self._oversized = None
            return item
        line = bytes(self._line)
        self._line = bytearray()
        return line


def leading_id(prefix: bytes) -> types.RequestId | None:
    """The `id` of a JSON-RPC object from the first bytes of it, if it comes before any member
    that runs past those bytes; else None (JSON-RPC's id for a request it could not read)."""
    text = prefix.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip(0)
    if text[i : i + 1] != "{":
        return None
    i = skip(i + 1)
    while i < len(text) and text[i] == '"':
        try:
            key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
            i = skip(i)
            if text[i : i + 1] != ":":
                return None
            value, i = decoder.raw_decode(text, skip(i + 1))
        except ValueError:
            return None
        i = skip(i)
        if text[i : i + 1] not in (",", "}"):  # the value may go on past the prefix
            return None
        if key == "id":
            ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
            return valid_unicode(value) if ok else None
        i = skip(i + 1)
    return None


def too_large(item: Oversized) -> types.JSONRPCError:
    return types.JSONRPCError(
        jsonrpc="2.0",
        id=leading_id(item.prefix),
        error=types.ErrorData(
            code=types.INVALID_REQUEST,
            message=f"Message too large: {item.size} bytes; this server accepts at most "
            f"{MAX_MESSAGE_BYTES} bytes per message. It was not processed.",
        ),
    )


def encode_message(message: types.JSONRPCMessage) -> bytes:
    """One protocol line for `message`; never raises.

    Fast path: the SDK's own encoding. If that fails (a lone surrogate), the message is
    re-encoded with every string made valid Unicode. An answer that still cannot be encoded
    becomes an error response to its request; anything else is dropped (and logged).
    """
    try:
        return message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
    except Exception:  # noqa: S110 - the fallback below handles it
        pass
    try:
        data = valid_unicode(message.model_dump(mode="json", by_alias=True, exclude_unset=True))
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
    except Exception:
        log.exception("could not encode an outgoing %s", type(message).__name__)
    if isinstance(message, types.JSONRPCResponse | types.JSONRPCError):
        error = types.JSONRPCError(
            jsonrpc="2.0",
            id=valid_unicode(message.id),
            error=types.ErrorData(
                code=types.INTERNAL_ERROR,
                message="Internal error: the server could not encode its answer to this request.",
            ),
        )
        return error.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n"
    return b""


@contextmanager
def _claimed_stdio() -> Iterator[tuple[int, int]]:
    """Private duplicates of fd 0 and fd 1 for the protocol; fd 0 → null device, fd 1 → stderr."""
    sys.stdout.flush()
    wire_in = os.dup(0)
    wire_out = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    try:
        yield wire_in, wire_out
    finally:
        sys.stdout.flush()
        os.dup2(wire_in, 0)
        os.dup2(wire_out, 1)
        # The duplicates stay open: the reader thread may still be blocked on `wire_in`, and a
        # closed descriptor number could be reused under it.


def _read_loop(
    fd: int,
    inbound: MemoryObjectSendStream[SessionMessage | Exception],
    outbound: MemoryObjectSendStream[SessionMessage],
    token: anyio.lowlevel.EventLoopToken,
) -> None:
    """Read stdin on a daemon thread (a blocked read must never hold up exit) and hand each
    message to the server; an oversized one is answered directly."""
    framer = LineFramer(MAX_MESSAGE_BYTES)
    try:
        while True:
            try:
                chunk = os.read(fd, _CHUNK_BYTES)
            except OSError:
                chunk = b""
            for item in framer.feed(chunk) if chunk else framer.finish():
                if isinstance(item, Oversized):
                    log.warning("refused a %d-byte message on stdin (limit %d)", item.size, MAX_MESSAGE_BYTES)
                    anyio.from_thread.run(outbound.send, SessionMessage(too_large(item)), token=token)
                    continue
                if item.strip():
                    anyio.from_thread.run(inbound.send, _parsed(item), token=token)
            if not chunk:
                break
    except Exception:
        log.debug("stdin reader stopped", exc_info=True)
    finally:
        for stream in (outbound, inbound):
            with contextlib.suppress(Exception):  # the loop is gone: nothing left to close
                anyio.from_thread.run_sync(stream.close, token=token)


async def _read_async(
    fd: int,
    inbound: MemoryObjectSendStream[SessionMessage | Exception],
    outbound: MemoryObjectSendStream[SessionMessage],
) -> None:
    """Read a pipe or socket from the event loop: what `_read_loop` does without a thread, so a
    message costs no hand-over between threads (about half the transport's CPU per call)."""
    framer = LineFramer(MAX_MESSAGE_BYTES)
    async with inbound, outbound:
        try:
            while True:
                await anyio.wait_readable(fd)
                try:
                    chunk = os.read(fd, _CHUNK_BYTES)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                for item in framer.feed(chunk) if chunk else framer.finish():
                    if isinstance(item, Oversized):
                        log.warning(
                            "refused a %d-byte message on stdin (limit %d)", item.size, MAX_MESSAGE_BYTES
                        )
                        await outbound.send(SessionMessage(too_large(item)))
                    elif item.strip():
                        await inbound.send(_parsed(item))
                if not chunk:
                    return
        except Exception:  # the server side is gone (its streams closed): nothing left to read for
            log.debug("stdin reader stopped", exc_info=True)


def _parsed(line: bytes) -> SessionMessage | Exception:
    try:
        text = line.decode("utf-8", errors="replace")
        return SessionMessage(types.jsonrpc_message_adapter.validate_json(text, by_name=False))
    except Exception as exc:
        return exc


async def _write_loop(fd: int, outbound: MemoryObjectReceiveStream[SessionMessage], polled: bool) -> None:
    async with outbound:
        async for session_message in outbound:
            data = encode_message(session_message.message)
            try:
                if polled:
                    await _write_polled(fd, data)
                else:
                    await anyio.to_thread.run_sync(_write_all, fd, data)
            except OSError as exc:  # the client closed its end: nobody is listening any more
                log.info("stdout closed (%s); stopping", exc)
                return


async def _write_polled(fd: int, data: bytes) -> None:
    """Write to a non-blocking pipe or socket, waiting in the event loop while it is full."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            await anyio.wait_writable(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _pollable(fd: int) -> bool:
    """A pipe or socket, which the event loop can watch: what an MCP client gives its server.
    A terminal or a regular file keeps the threaded path (its blocking mode may be shared with
    other processes, and regular files cannot be polled)."""
    if sys.platform == "win32":
        return False
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@contextmanager
def _non_blocking(fd: int, wanted: bool) -> Iterator[None]:
    """The descriptor non-blocking while serving, as it was afterwards (its mode is shared with
    every descriptor of the same pipe end)."""
    before = os.get_blocking(fd)
    if wanted:
        os.set_blocking(fd, False)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.set_blocking(fd, before)


async def serve_stdio(server: MCPServer[Any]) -> None:
    """Serve `server` over stdin/stdout until stdin ends."""
    # MCPServer offers no public handle on its low-level server, which runs one connection.
    lowlevel = server._lowlevel_server
    with _claimed_stdio() as (wire_in, wire_out):
        poll_in, poll_out = _pollable(wire_in), _pollable(wire_out)
        inbound_send, inbound = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        # A few answers may wait for the writer: the SDK cancels every handler still sending when
        # stdin ends, and an answer already made should still go out (`cat requests | server`).
        outbound, outbound_receive = anyio.create_memory_object_stream[SessionMessage](_OUTBOUND_QUEUE)
        reading = anyio.CancelScope()

        async def read() -> None:
            with reading:
                await _read_async(wire_in, inbound_send, outbound.clone())

        with _non_blocking(wire_in, poll_in), _non_blocking(wire_out, poll_out):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_write_loop, wire_out, outbound_receive, poll_out)
                if poll_in:
                    tg.start_soon(read)
                else:
                    _start_reader(wire_in, inbound_send, outbound.clone())
                async with inbound:
                    await lowlevel.run(inbound, outbound, lowlevel.create_initialization_options())
                await outbound.aclose()
                reading.cancel()  # a reader still waiting keeps the writer's stream open


def _start_reader(
    fd: int,
    inbound: MemoryObjectSendStream[SessionMessage | Exception],
    outbound: MemoryObjectSendStream[SessionMessage],
) -> None:
    """stdin that the event loop cannot watch (a terminal, a file) is read on a daemon thread."""
    token = anyio.lowlevel.current_token()
    threading.Thread(
        target=_read_loop, args=(fd, inbound, outbound, token), name="mcp-stdin", daemon=True
    ).start()
