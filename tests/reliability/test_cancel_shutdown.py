"""Cancellation and shutdown: an abandoned call stops its upstream work; the server ends promptly.

- A client that cancels a slow call (the SDK sends `notifications/cancelled` when the scope
  awaiting `call_tool` is cancelled) gets the upstream request aborted: the emulator sees the
  client go away long before its 5 s delay ends. In-process and over a stdio subprocess.
- Nothing leaks: twenty cancelled calls in a row leave no extra asyncio tasks and no extra
  upstream connections behind, and the next call works.
- A cancelled `wait_for_task` stops polling.
- Closing stdin with a slow call in flight ends a stdio server within 2 s, status 0.
- SIGTERM ends an HTTP server (with a slow call in flight) within 2 s, status 0, after the
  ASGI lifespan (which owns the HTTP pool) has shut down.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.emulator import MANY_TASKS, RUNNING_TASK, Emulator, RequestRecord
from tests.helpers import client_for, cloud_env, cloud_settings, server_process, text_of

pytestmark = pytest.mark.anyio
SLOW_S = 5.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def slow(emu: Emulator, task_id: str) -> str:
    path = f"/api/v2/tasks/{task_id}"
    emu.faults.add("delay", regex=f"^{path}$", delay=SLOW_S)
    return path


async def arrived(emu: Emulator, path: str, within: float = 10.0) -> RequestRecord:
    """The emulator's record of the first request to `path`, once it has arrived."""
    with anyio.fail_after(within):
        while True:
            for record in emu.requests():
                if record.path == path:
                    return record
            await anyio.sleep(0.01)


async def disconnected(record: RequestRecord, within: float = 3.0) -> float:
    """Seconds until the emulator saw the client go away from `record`'s request."""
    started = time.monotonic()
    with anyio.fail_after(within):
        # The emulator's thread sets the flag: poll it (an anyio.Event cannot cross threads).
        while not record.client_disconnected:  # noqa: ASYNC110
            await anyio.sleep(0.01)
    return time.monotonic() - started


def upstream_connections(port: int) -> int:
    """Established TCP connections from anyone to the emulator's port (Linux /proc)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                rows = handle.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01":  # 01 = ESTABLISHED
                count += 1
    return count


def emulator_port(emu: Emulator) -> int:
    assert emu.base_url is not None
    return int(emu.base_url.rsplit(":", 1)[1])


async def cancel_when_upstream(
    client: Client, emu: Emulator, tool: str, args: dict[str, Any], path: str
) -> RequestRecord:
    """Start a call, cancel it once its upstream request is in flight; the record of that request."""
    outcome: list[object] = []

    async def call() -> None:
        outcome.append(await client.call_tool(tool, args))

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        record = await arrived(emu, path)
        group.cancel_scope.cancel()
    assert outcome == [], "the call finished although it was cancelled"
    return record


# --------------------------------------------------------------------------------------
# Cancellation
# --------------------------------------------------------------------------------------


async def test_cancelled_call_aborts_its_upstream_request_in_process(fresh_emulator: Emulator) -> None:
    path = slow(fresh_emulator, MANY_TASKS[10])
    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        started = time.monotonic()
        record = await cancel_when_upstream(
            client, fresh_emulator, "get_task", {"task_id": MANY_TASKS[10]}, path
        )
        gone_after = await disconnected(record)
        assert time.monotonic() - started < SLOW_S / 2
        assert gone_after < 1.0
        assert not record.completed and record.status is None
        # The server is fine: the next call (another task) is answered normally.
        result = await client.call_tool("get_task", {"task_id": MANY_TASKS[11]})
        assert not result.is_error, text_of(result)


async def test_twenty_cancelled_calls_leak_no_task_and_no_connection(fresh_emulator: Emulator) -> None:
    port = emulator_port(fresh_emulator)
    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        # Warm up: the pool holds a keep-alive connection, validators are compiled.
        assert not (await client.call_tool("get_task", {"task_id": MANY_TASKS[20]})).is_error
        await anyio.sleep(0.1)
        tasks_before = len(asyncio.all_tasks())
        connections_before = upstream_connections(port)
        for task_id in MANY_TASKS[21:41]:
            path = slow(fresh_emulator, task_id)
            record = await cancel_when_upstream(
                client, fresh_emulator, "get_task", {"task_id": task_id}, path
            )
            assert await disconnected(record) < 1.0
        await anyio.sleep(0.2)
        assert len(asyncio.all_tasks()) <= tasks_before
        assert upstream_connections(port) <= connections_before
        result = await client.call_tool("list_tasks", {"page_size": 3})
        assert not result.is_error, text_of(result)
    # 20 slow requests, every one abandoned by the client; none was left to complete.
    aborted = [
        r for r in fresh_emulator.requests() if r.path.startswith("/api/v2/tasks/") and r.fault == "delay"
    ]
    assert len(aborted) == 20 and all(r.client_disconnected and not r.completed for r in aborted)


async def test_cancelled_wait_for_task_stops_polling(fresh_emulator: Emulator) -> None:
    status_path = f"/api/v2/tasks/{RUNNING_TASK}/status"
    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        async with anyio.create_task_group() as group:
            group.start_soon(client.call_tool, "wait_for_task", {"task_id": RUNNING_TASK, "timeout_s": 20})
            await arrived(fresh_emulator, status_path)
            group.cancel_scope.cancel()
        polls = fresh_emulator.count(status_path)
        await anyio.sleep(2.5)  # the wait polls every 1-2 s: any surviving loop would have polled by now
        assert fresh_emulator.count(status_path) == polls


async def test_cancelled_call_over_stdio_aborts_its_upstream_request(fresh_emulator: Emulator) -> None:
    path = slow(fresh_emulator, MANY_TASKS[50])
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "browser_use_tasks_mcp"], env=cloud_env(fresh_emulator)
    )
    with tempfile.TemporaryFile("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            started = time.monotonic()
            record = await cancel_when_upstream(
                client, fresh_emulator, "get_task", {"task_id": MANY_TASKS[50]}, path
            )
            assert await disconnected(record) < 1.0
            assert time.monotonic() - started < SLOW_S
            result = await client.call_tool("get_task", {"task_id": MANY_TASKS[51]})
            assert not result.is_error, text_of(result)
        errlog.seek(0)
        assert "Traceback" not in errlog.read()


# --------------------------------------------------------------------------------------
# Shutdown
# --------------------------------------------------------------------------------------


def stdio_process(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "browser_use_tasks_mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def rpc(process: subprocess.Popen[bytes], message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()


async def test_stdin_closed_with_a_slow_call_in_flight_ends_the_process(fresh_emulator: Emulator) -> None:
    path = slow(fresh_emulator, MANY_TASKS[60])
    process = stdio_process(cloud_env(fresh_emulator))
    try:
        assert process.stdout is not None and process.stdin is not None and process.stderr is not None
        rpc(
            process,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "shutdown-test", "version": "0"},
                },
            },
        )
        assert json.loads(process.stdout.readline())["id"] == 1
        rpc(process, {"jsonrpc": "2.0", "method": "notifications/initialized"})
        rpc(
            process,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "get_task", "arguments": {"task_id": MANY_TASKS[60]}},
            },
        )
        record = await arrived(fresh_emulator, path)
        process.stdin.close()
        started = time.monotonic()
        returncode = await anyio.to_thread.run_sync(lambda: process.wait(timeout=10))
        took = time.monotonic() - started
        stderr = process.stderr.read().decode()
        assert returncode == 0, stderr[-2000:]
        assert took < 2.0
        assert record.client_disconnected and not record.completed
        assert "Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_sigterm_stops_an_http_server_cleanly_with_a_call_in_flight(fresh_emulator: Emulator) -> None:
    path = slow(fresh_emulator, MANY_TASKS[70])
    with server_process(
        "--transport", "streamable-http", "--log-level", "DEBUG", env=cloud_env(fresh_emulator)
    ) as (
        port,
        process,
    ):
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            done = await client.call_tool("get_task", {"task_id": MANY_TASKS[71]})
            assert not done.is_error, text_of(done)
            async with anyio.create_task_group() as group:

                async def in_flight() -> None:
                    # The server goes away mid-call: the client sees an error, never a result.
                    with pytest.raises(Exception):  # noqa: B017 - transport-dependent error type
                        await client.call_tool("get_task", {"task_id": MANY_TASKS[70]})

                group.start_soon(in_flight)
                record = await arrived(fresh_emulator, path)
                process.send_signal(signal.SIGTERM)
                started = time.monotonic()
                returncode = await anyio.to_thread.run_sync(lambda: process.wait(timeout=10))
                took = time.monotonic() - started
        assert process.stderr is not None
        stderr = process.stderr.read().decode()
        assert returncode == 0, stderr[-2000:]
        assert took < 2.0
        # The ASGI lifespan, which owns the server lifespan and so the HTTP pool, shut down.
        assert "Application shutdown complete" in stderr
        assert record.client_disconnected and not record.completed
