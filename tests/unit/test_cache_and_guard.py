"""Cache eviction, request coalescing under failure and cancellation, and the internal-error path.

None of these could be reached through the bundled runs or the emulator: the cache needs a clock,
coalescing needs a leader that fails or is cancelled at a chosen moment, and an internal error
needs a bug. The guard is exercised through the real SDK with a tool whose work raises.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, TextContent

from browser_use_tasks_mcp.cache import ByteLRU, SingleFlight
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.guard import run_prompt, run_resource, run_tool
from browser_use_tasks_mcp.service import TaskService
from browser_use_tasks_mcp.sources.local import LocalRunsSource
from browser_use_tasks_mcp.state import AppState
from tests.helpers import text_of


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_lru_evicts_the_least_recently_used_by_bytes() -> None:
    cache: ByteLRU[str] = ByteLRU(100)
    cache.put("a", "A", size=40)
    cache.put("b", "B", size=40)
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.put("c", "C", size=40)  # 120 > 100: b goes
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    assert cache.size_bytes == 80
    cache.put("huge", "H", size=101)  # larger than the whole cache: not kept, nothing evicted for it
    assert cache.get("huge") is None and len(cache) == 2


def test_lru_entries_expire() -> None:
    clock = Clock()
    cache: ByteLRU[str] = ByteLRU(100, clock=clock)
    cache.put("link", "L", size=10, ttl_s=30)
    clock.now = 29.9
    assert cache.get("link") == "L"
    clock.now = 30.0
    assert cache.get("link") is None and cache.size_bytes == 0


@pytest.mark.anyio
async def test_a_coalesced_waiter_receives_the_leaders_error() -> None:
    flights = SingleFlight()
    runs = 0
    release = anyio.Event()

    async def failing() -> str:
        nonlocal runs
        runs += 1
        await release.wait()
        raise ValueError("upstream broke")

    errors: list[str] = []

    async def call() -> None:
        try:
            await flights.run("k", failing)
        except ValueError as exc:
            errors.append(str(exc))

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        group.start_soon(call)
        await anyio.sleep(0.05)
        release.set()
    assert runs == 1 and errors == ["upstream broke", "upstream broke"]


@pytest.mark.anyio
async def test_a_cancelled_leader_hands_the_work_to_a_waiter() -> None:
    flights = SingleFlight()
    runs = 0

    async def slow() -> str:
        nonlocal runs
        runs += 1
        await anyio.sleep(0.2)
        return f"run {runs}"

    results: list[str] = []
    leader = anyio.CancelScope()

    async def lead() -> None:
        with leader:
            await flights.run("k", slow)

    async def wait() -> None:
        results.append(await flights.run("k", slow))

    async with anyio.create_task_group() as group:
        group.start_soon(lead)
        await anyio.sleep(0.05)  # the leader is running the work
        group.start_soon(wait)
        await anyio.sleep(0.05)  # the waiter is waiting on it
        leader.cancel()
    assert runs == 2, "the waiter should have run the work itself after the leader was cancelled"
    assert results == ["run 2"]


def broken_server() -> MCPServer[AppState]:
    """A real MCP server whose handlers run work with a bug in it through the guard."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: MCPServer[AppState]) -> AsyncIterator[AppState]:
        yield AppState(service=TaskService(LocalRunsSource(BUNDLED_RUNS_DIR)), call_deadline_s=5.0)

    server: MCPServer[AppState] = MCPServer("broken", lifespan=lifespan)
    calls = {"n": 0}

    @server.tool()
    async def flaky(ctx: Context[Any, Any]) -> str:
        async def work(service: TaskService) -> Any:
            calls["n"] += 1
            if calls["n"] == 1:
                return {}["missing"]  # a bug: KeyError
            task = await service.get_task("order-blue-widget")
            return CallToolResult(content=[TextContent(type="text", text=f"fine: {task.id}")])

        result = await run_tool(ctx, "flaky", work)
        return text_of(result)

    @server.resource("broken://thing/{name}")
    async def thing(name: str, ctx: Context[Any, Any]) -> str:
        async def work(service: TaskService) -> str:
            raise RuntimeError("bug")

        return await run_resource(ctx, "thing", work)

    @server.prompt()
    async def ask(ctx: Context[Any, Any]) -> str:
        async def work(service: TaskService) -> str:
            raise RuntimeError("bug")

        return await run_prompt(ctx, "ask", work, failed=lambda reason: f"could not: {reason}")

    return server


@pytest.mark.anyio
async def test_a_bug_becomes_an_internal_error_and_the_next_call_is_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="browser_use_tasks_mcp.guard")
    async with Client(broken_server()) as client:
        first = await client.call_tool("flaky", {})
        second = await client.call_tool("flaky", {})
        prompt = await client.get_prompt("ask", {})
        with pytest.raises(Exception, match="Internal error"):
            await client.read_resource("broken://thing/x")
    assert "**Internal error** in `flaky` (KeyError)" in text_of(first)
    assert text_of(second) == "fine: order-blue-widget"
    assert "Internal error" in prompt.messages[0].content.text  # type: ignore[union-attr]
    assert any(record.exc_info for record in caplog.records), "the traceback is logged"
