"""Transport hardening, through the real server as a subprocess: messages that are not valid
Unicode, oversized stdio messages, HTTP connections that never finish their headers."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters

from browser_use_tasks_mcp.stdio import encode_message
from tests.helpers import server_env, server_process, text_of

from .helpers import SURROGATE_RUN, RawStdio, hostile_runs, peak_rss_kib

pytestmark = pytest.mark.anyio

#: The calls that carry the hostile strings, each followed by another call that must be answered.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_tasks", {}),
    ("get_task", {"task_id": SURROGATE_RUN}),
    ("get_step", {"task_id": SURROGATE_RUN, "step": 1}),
    ("list_tasks", {}),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return hostile_runs(tmp_path)


def _check_answers(texts: list[str]) -> None:
    """Every call was answered, the lone surrogates arrived as U+FFFD."""
    listing, task, step, again = texts
    assert SURROGATE_RUN in listing and SURROGATE_RUN in again
    assert "bad-\ufffd-name" in listing  # the non-UTF-8 folder name, readable
    assert "Task lone-surrogate" in task
    assert "\ufffd" in step and "goal \ufffd end" in step


# --- 1. lone surrogates and non-UTF-8 names -------------------------------------------------


def test_stdio_raw_lone_surrogates_are_answered_and_so_is_the_next_call(runs: Path) -> None:
    session = RawStdio(server_env(BROWSER_USE_RUNS_DIR=str(runs)))
    session.initialize()
    texts = []
    for name, arguments in CALLS:
        result = session.call_tool(name, arguments)
        assert result.get("isError") is not True, result
        texts.append(result["content"][0]["text"])
    assert session.request("ping")["result"] == {}
    code, stderr = session.close()
    _check_answers(texts)
    assert code == 0, stderr
    assert "Traceback" not in stderr


async def test_stdio_sdk_client_lone_surrogates(runs: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "browser_use_tasks_mcp"],
        env=server_env(BROWSER_USE_RUNS_DIR=str(runs)),
    )
    async with Client(params) as client:
        with anyio.fail_after(30):  # before the fix the answer never came
            texts = [text_of(await client.call_tool(name, arguments)) for name, arguments in CALLS]
            assert (await client.list_tools()).tools
    _check_answers(texts)


async def test_streamable_http_lone_surrogates(runs: Path) -> None:
    env = server_env(BROWSER_USE_RUNS_DIR=str(runs))
    with server_process("--transport", "streamable-http", env=env) as (port, process):
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            with anyio.fail_after(30):
                texts = [text_of(await client.call_tool(name, arguments)) for name, arguments in CALLS]
                assert (await client.list_tools()).tools
        assert process.poll() is None
    _check_answers(texts)


async def test_sse_lone_surrogates_keep_the_session(runs: Path) -> None:
    env = server_env(BROWSER_USE_RUNS_DIR=str(runs))
    with server_process("--transport", "sse", env=env) as (port, process):
        async with Client(sse_client(f"http://127.0.0.1:{port}/sse")) as client:
            with anyio.fail_after(30):
                texts = [text_of(await client.call_tool(name, arguments)) for name, arguments in CALLS]
                assert (await client.list_tools()).tools
        assert process.poll() is None
    _check_answers(texts)


def test_stdio_line_with_a_lone_surrogate_escape_does_not_stop_the_server() -> None:
    """The SDK's JSON parser refuses `"\\ud800"` in a request; the next request is answered."""
    session = RawStdio()
    session.initialize()
    session.send_line(b'{"jsonrpc": "2.0", "id": "x\\ud800", "method": "ping"}')
    assert "tools" in session.request("tools/list")["result"]
    code, stderr = session.close()
    assert code == 0, stderr


def test_stdio_writer_never_raises() -> None:
    """The stdio writer's last line of defence, for messages that bypass the request pipeline
    (notifications): surrogates become U+FFFD; an answer that cannot be encoded becomes an error."""
    note = types.JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"m": "a\ud800b"})
    assert json.loads(encode_message(note))["params"]["m"] == "a\ufffdb"
    answer = types.JSONRPCResponse(jsonrpc="2.0", id=5, result={"bad": object()})
    encoded = json.loads(encode_message(answer))
    assert encoded["id"] == 5 and encoded["error"]["code"] == types.INTERNAL_ERROR
    assert encode_message(types.JSONRPCNotification(jsonrpc="2.0", method="x", params={"o": object()})) == b""


# --- 2. oversized stdio messages --------------------------------------------------------------


def test_stdio_refuses_an_oversized_message_without_reading_it_whole() -> None:
    session = RawStdio()
    session.initialize()
    baseline = peak_rss_kib(session.process.pid)
    filler = "x" * (20 * 1024 * 1024)
    huge = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "get_task", "arguments": {"task_id": filler}},
    }
    started = time.monotonic()
    session.send(huge)
    answer = session.read(timeout=30)
    elapsed = time.monotonic() - started
    peak = peak_rss_kib(session.process.pid)
    assert answer is not None, session.stderr_tail()
    assert answer["id"] == 7
    assert answer["error"]["code"] == -32600
    assert "too large" in answer["error"]["message"]
    # The next messages are served as usual.
    assert session.request("ping")["result"] == {}
    assert "tools" in session.request("tools/list")["result"]
    code, stderr = session.close()
    print(f"peak RSS {baseline / 1024:.0f} MiB -> {peak / 1024:.0f} MiB; answered in {elapsed:.2f}s")
    assert peak < 300 * 1024, f"peak RSS {peak} KiB"
    assert peak - baseline < 40 * 1024, f"peak RSS grew by {(peak - baseline) / 1024:.0f} MiB"
    assert code == 0, stderr


def test_stdio_oversized_message_without_a_readable_id_gets_a_null_id() -> None:
    session = RawStdio()
    session.initialize()
    session.send_line(b'{"params": "' + b"y" * (5 * 1024 * 1024) + b'", "jsonrpc": "2.0", "id": 9}')
    answer = session.read(timeout=30)
    assert answer is not None and answer["id"] is None and answer["error"]["code"] == -32600
    assert session.request("ping")["result"] == {}
    session.close()


def test_stdio_message_just_under_the_limit_is_served() -> None:
    session = RawStdio()
    session.initialize()
    session.request("tools/list")
    padding = " " * (4 * 1024 * 1024 - 200)
    line = json.dumps({"jsonrpc": "2.0", "id": 11, "method": "ping"})[:-1] + padding + "}"
    session.send_line(line.encode())
    answer = session.read(timeout=30)
    assert answer is not None and answer == {"jsonrpc": "2.0", "id": 11, "result": {}}
    session.close()


# --- 3. HTTP connections that never finish their headers ---------------------------------------

HEADER_TIMEOUT_S = 1.0


def _seconds_until_closed(sock: socket.socket, limit: float) -> float | None:
    """Seconds until the server closes `sock` (reads EOF or a reset), or None past `limit`."""
    started = time.monotonic()
    sock.settimeout(0.1)
    while time.monotonic() - started < limit:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_http_closes_connections_that_never_finish_their_headers(transport: str) -> None:
    token = "tok-123456"
    env = server_env(BROWSER_USE_MCP_HEADER_TIMEOUT=str(HEADER_TIMEOUT_S))
    with server_process("--transport", transport, "--auth-token", token, env=env) as (port, process):
        started = time.monotonic()
        silent = socket.create_connection(("127.0.0.1", port))
        partial = socket.create_connection(("127.0.0.1", port))
        partial.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: app")
        trickle = socket.create_connection(("127.0.0.1", port))
        trickle.sendall(b"GET /sse HTTP/1.1\r\n")
        # Meanwhile a normal client gets answers; a client that sends a byte now and then does
        # not extend the deadline.
        answered = 0
        while time.monotonic() - started < HEADER_TIMEOUT_S * 0.8:
            trickle.sendall(b"X")
            answered += _normal_request(port, transport, token)
            time.sleep(0.1)
        closed = [_seconds_until_closed(s, HEADER_TIMEOUT_S + 3) for s in (silent, partial, trickle)]
        since_open = time.monotonic() - started
        answered += _normal_request(port, transport, token)
        for sock in (silent, partial, trickle):
            sock.close()
        assert process.poll() is None
    print(f"stalled connections closed {since_open:.2f}s after opening (deadline {HEADER_TIMEOUT_S}s)")
    assert all(c is not None for c in closed), closed
    assert since_open < HEADER_TIMEOUT_S + 1.0
    assert answered >= 3


def _normal_request(port: int, transport: str, token: str) -> int:
    """One authorised request over a fresh connection; 1 if it was answered."""
    auth = {"authorization": f"Bearer {token}"}
    if transport == "sse":
        with httpx2.stream("GET", f"http://127.0.0.1:{port}/sse", headers=auth, timeout=5) as response:
            first = next(response.iter_lines())
            return int(response.status_code == 200 and first.startswith("event: endpoint"))
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"},
        },
    }
    headers = {**auth, "accept": "application/json, text/event-stream", "content-type": "application/json"}
    response = httpx2.post(f"http://127.0.0.1:{port}/mcp", json=body, headers=headers, timeout=5)
    return int(response.status_code == 200)
