"""The real server as a subprocess: stdio (raw framing and a real client), streamable HTTP, SSE."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters

from tests.helpers import server_env, server_process, text_of

pytestmark = pytest.mark.anyio
RUN = "order-blue-widget"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_stdio_stdout_carries_only_json_rpc_messages() -> None:
    """Drive the console script by hand over stdio and check every stdout line is JSON-RPC."""
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "get_task", "arguments": {"task_id": RUN}},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "get_task", "arguments": {"task_id": ".."}},
        },
        {
            "jsonrpc": "2.0",
            "id": 5,
            "method": "resources/read",
            "params": {"uri": f"browser-use://tasks/{RUN}/steps/3"},
        },
    ]
    script = Path(sys.executable).with_name("browser-use-tasks-mcp")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "browser_use_tasks_mcp"]
    process = subprocess.Popen(
        [*command, "--log-level", "DEBUG"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server_env(),
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    lines: list[str] = []
    for request in requests:
        process.stdin.write((json.dumps(request) + "\n").encode())
        process.stdin.flush()
        if "id" in request:  # wait for the answer before sending more, as a careful client would
            lines.append(process.stdout.readline().decode())
    # Closing stdin is how a stdio client says goodbye: the server must exit promptly and cleanly.
    process.stdin.close()
    started = time.monotonic()
    returncode = process.wait(timeout=10)
    exit_seconds = time.monotonic() - started
    lines += process.stdout.read().decode().splitlines()
    stderr = process.stderr.read()
    assert returncode == 0, stderr.decode()[-2000:]
    assert exit_seconds < 2.0
    messages = [json.loads(line) for line in lines if line.strip()]  # any non-JSON line fails here
    assert all(m.get("jsonrpc") == "2.0" for m in messages)
    by_id = {m["id"]: m for m in messages if "id" in m}
    assert set(by_id) == {1, 2, 3, 4, 5}
    assert {t["name"] for t in by_id[2]["result"]["tools"]} >= {"get_task", "list_tasks", "get_gif"}
    assert by_id[3]["result"]["structuredContent"]["task"]["status"] == "finished"
    assert by_id[4]["result"]["isError"] is True
    assert json.loads(by_id[5]["result"]["contents"][0]["text"])["number"] == 3
    assert b"DEBUG" in stderr or b"INFO" in stderr  # logs went to stderr, not stdout


async def test_stdio_with_a_real_client() -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "browser_use_tasks_mcp"], env=server_env()
    )
    async with Client(params) as client:
        result = await client.call_tool("get_task", {"task_id": RUN})
    assert not result.is_error
    assert "ACME-1042" in text_of(result)


async def test_streamable_http_on_loopback() -> None:
    with server_process("--transport", "streamable-http") as (port, _):
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            listing = await client.call_tool("list_tasks", {})
            task = await client.call_tool("get_task", {"task_id": RUN})
    assert RUN in text_of(listing)
    assert task.structured_content["step_count"] == 7  # type: ignore[index]


async def test_sse_on_loopback() -> None:
    with server_process("--transport", "sse") as (port, _):
        async with Client(sse_client(f"http://127.0.0.1:{port}/sse")) as client:
            result = await client.call_tool("get_step", {"task_id": RUN, "step": 3})
    assert "Navigation failed" in text_of(result)


def test_http_bearer_token_is_required_when_set() -> None:
    token = "test-token-7f3a9c"
    with server_process("--transport", "streamable-http", "--auth-token", token) as (port, process):
        url = f"http://127.0.0.1:{port}/mcp"
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        missing = httpx2.post(url, json=body, headers=headers)
        wrong = httpx2.post(url, json=body, headers={**headers, "authorization": "Bearer nope"})
        assert missing.status_code == 401
        assert wrong.status_code == 401
        accepted = httpx2.post(url, json=body, headers={**headers, "authorization": f"Bearer {token}"})
        assert accepted.status_code != 401
        assert process.poll() is None


def test_http_refuses_bad_host_and_origin() -> None:
    with server_process("--transport", "streamable-http") as (port, _):
        url = f"http://127.0.0.1:{port}/mcp"
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        bad_host = httpx2.post(url, json=body, headers={**headers, "host": "evil.example:80"})
        bad_origin = httpx2.post(url, json=body, headers={**headers, "origin": "https://evil.example"})
        huge = httpx2.post(url, content=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers=headers)
    assert bad_host.status_code == 421
    assert bad_origin.status_code == 403
    assert huge.status_code == 413


def test_non_loopback_bind_without_token_refuses_to_start() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "browser_use_tasks_mcp",
            "--transport",
            "streamable-http",
            "--host",
            "0.0.0.0",
        ],
        capture_output=True,
        env=server_env(),
        timeout=30,
        check=False,
    )
    assert completed.returncode == 2
    assert b"without an auth token" in completed.stderr
    assert completed.stdout == b""
