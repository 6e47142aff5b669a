"""Load: 200 concurrent calls over one streamable HTTP session and over one stdio session.

The server is a subprocess on Cloud API v2 (the emulator). Every task endpoint answers after
0.2 s, so calls pile up. Checked:

- all 200 calls are answered, none with an error;
- none crossed: each answer belongs to its request (get_task on 100 distinct task ids,
  get_step on the same tasks with varying step numbers: task id and step number match);
- the server never had more than 32 requests in flight at the emulator (its HTTP pool
  limit, `app.HTTP_LIMITS`), and did run many at once (the limit is what bounds it).

Latency figures are printed (run with -s to see them).
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from browser_use_tasks_mcp.app import HTTP_LIMITS
from tests.emulator import MANY_TASKS, Emulator
from tests.helpers import cloud_env, server_process, text_of

pytestmark = pytest.mark.anyio
CALLS = 200
UPSTREAM_DELAY_S = 0.2


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def requests_for_load() -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    for i in range(CALLS):
        task_id = MANY_TASKS[i % len(MANY_TASKS)]
        if i < len(MANY_TASKS):
            calls.append(("get_task", {"task_id": task_id}))
        else:
            calls.append(("get_step", {"task_id": task_id, "step": 1 + i % 3}))
    return calls


def most_in_flight(emu: Emulator, prefix: str) -> int:
    """Largest number of requests under `prefix` the emulator was handling at once."""
    events: list[tuple[float, int]] = []
    for record in emu.requests(prefix):
        assert record.duration is not None
        events += [(record.timestamp, 1), (record.timestamp + record.duration, -1)]
    current = peak = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts at a tie
        current += delta
        peak = max(peak, current)
    return peak


async def run_load(client: Client) -> tuple[float, list[float]]:
    calls = requests_for_load()
    answers: dict[int, Any] = {}
    latencies: list[float] = []

    async def one(index: int, tool: str, args: dict[str, Any]) -> None:
        started = time.perf_counter()
        answers[index] = await client.call_tool(tool, args)
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for index, (tool, args) in enumerate(calls):
                group.start_soon(one, index, tool, args)
    wall = time.perf_counter() - started
    assert len(answers) == CALLS
    for index, (tool, args) in enumerate(calls):
        result = answers[index]
        assert not result.is_error, text_of(result)
        data = result.structured_content
        assert data is not None
        if tool == "get_task":
            assert data["task"]["id"] == args["task_id"], f"answer {index} crossed"
            assert text_of(result).startswith(f"# Task {args['task_id']}:")
        else:
            assert data["task_id"] == args["task_id"] and data["step"]["number"] == args["step"], (
                f"answer {index} crossed"
            )
            assert text_of(result).startswith(f"# Step {args['step']} of task {args['task_id']}")
    return wall, latencies


def report(name: str, wall: float, latencies: list[float], peak: int) -> None:
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(
        f"\n{name}: {CALLS} concurrent calls in {wall:.2f}s; latency p50 {statistics.median(ordered):.2f}s, "
        f"p95 {p95:.2f}s, max {ordered[-1]:.2f}s; upstream in flight at most {peak} "
        f"(pool limit {HTTP_LIMITS.max_connections})"
    )


def slow_task_endpoints(emu: Emulator) -> None:
    emu.faults.add("delay", regex=r"^/api/v2/tasks/[^/]+$", delay=UPSTREAM_DELAY_S)


async def test_200_concurrent_calls_over_one_streamable_http_session(fresh_emulator: Emulator) -> None:
    slow_task_endpoints(fresh_emulator)
    with server_process("--transport", "streamable-http", env=cloud_env(fresh_emulator)) as (port, _):
        url = f"http://127.0.0.1:{port}/mcp"
        async with Client(url) as client:
            wall, latencies = await run_load(client)
    peak = most_in_flight(fresh_emulator, "/api/v2/tasks/")
    report("streamable HTTP", wall, latencies, peak)
    assert HTTP_LIMITS.max_connections == 32
    assert 8 <= peak <= HTTP_LIMITS.max_connections
    # Each distinct task was fetched about once: the cache and single flight hold under load.
    assert fresh_emulator.count(prefix="/api/v2/tasks/") <= len(MANY_TASKS) + 5


async def test_200_concurrent_calls_over_stdio(fresh_emulator: Emulator) -> None:
    slow_task_endpoints(fresh_emulator)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "browser_use_tasks_mcp"], env=cloud_env(fresh_emulator)
    )
    async with Client(params) as client:
        wall, latencies = await run_load(client)
    peak = most_in_flight(fresh_emulator, "/api/v2/tasks/")
    report("stdio", wall, latencies, peak)
    assert 8 <= peak <= HTTP_LIMITS.max_connections
    assert fresh_emulator.count(prefix="/api/v2/tasks/") <= len(MANY_TASKS) + 5
