"""A team deployment as the compose file runs it: Redis, worker processes, the emulator as the Cloud.

Each worker is the console script serving stateless streamable HTTP on its own port, sharing one
real redis-server (compose puts a load balancer in front; here the test picks the worker).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.emulator import FAILED_TASK, FINISHED_TASK, Emulator
from tests.helpers import cloud_env, server_env, server_process, text_of
from tests.team.conftest import RedisServer

pytestmark = pytest.mark.anyio
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextmanager
def workers(count: int, env: dict[str, str], *args: str) -> Iterator[list[str]]:
    """`count` worker processes; yields their MCP endpoint URLs."""
    with ExitStack() as stack:
        urls = []
        for _ in range(count):
            port, _ = stack.enter_context(
                server_process("--transport", "streamable-http", "--stateless", *args, env=env)
            )
            urls.append(f"http://127.0.0.1:{port}/mcp")
        yield urls


@asynccontextmanager
async def client(url: str, *, mode: str = "auto", key: str | None = None) -> Any:
    headers = {"X-Browser-Use-API-Key": key} if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as session,  # type: ignore[arg-type]
    ):
        yield session


def team_env(emu: Emulator, redis: RedisServer, **extra: str) -> dict[str, str]:
    return cloud_env(emu, BROWSER_USE_MCP_CACHE_URL=redis.url, **extra)


def task_requests(emu: Emulator, task_id: str) -> int:
    return emu.count(f"/api/v2/tasks/{task_id}")


async def test_a_task_read_through_one_worker_is_served_by_another_without_upstream(
    fresh_emulator: Emulator, redis: RedisServer
) -> None:
    with workers(2, team_env(fresh_emulator, redis)) as (a, b):
        async with client(a) as first:
            read_a = await first.call_tool("get_task", {"task_id": FINISHED_TASK})
        assert task_requests(fresh_emulator, FINISHED_TASK) == 1
        async with client(b) as second:
            read_b = await second.call_tool("get_task", {"task_id": FINISHED_TASK})
    assert not read_a.is_error and not read_b.is_error
    assert text_of(read_b) == text_of(read_a)
    assert task_requests(fresh_emulator, FINISHED_TASK) == 1  # worker B asked Redis, not the API


async def test_fifty_concurrent_calls_across_two_workers_make_one_upstream_request(
    fresh_emulator: Emulator, redis: RedisServer
) -> None:
    # The one upstream answer takes a while, so all 50 calls are in flight before it lands.
    fresh_emulator.faults.add("delay", path=f"/api/v2/tasks/{FAILED_TASK}", delay=0.5)
    failures: list[str] = []
    with workers(2, team_env(fresh_emulator, redis)) as urls:
        async with client(urls[0]) as first, client(urls[1]) as second:

            async def call(n: int) -> None:
                result = await (first if n % 2 else second).call_tool("get_task", {"task_id": FAILED_TASK})
                if result.is_error:
                    failures.append(text_of(result))

            async with anyio.create_task_group() as tg:
                for n in range(50):
                    tg.start_soon(call, n)
    assert failures == []
    assert task_requests(fresh_emulator, FAILED_TASK) == 1


async def test_both_protocols_and_any_worker_answers_any_request(
    fresh_emulator: Emulator, redis: RedisServer
) -> None:
    with workers(2, team_env(fresh_emulator, redis)) as (a, b):
        async with client(a, mode="legacy") as legacy:
            old = await legacy.call_tool("get_task", {"task_id": FINISHED_TASK})
        async with client(b, mode="2026-07-28") as modern:
            new = await modern.call_tool("get_task", {"task_id": FINISHED_TASK})
        # Session-based protocol without a session: initialize at A, then call B with no handshake.
        async with httpx2.AsyncClient(timeout=30) as http:
            init = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
            started = await http.post(a, json=init, headers=ACCEPT)
            call = {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "get_task", "arguments": {"task_id": FINISHED_TASK}},
            }
            answered = await http.post(b, json=call, headers={**ACCEPT, "mcp-protocol-version": "2025-11-25"})
    assert not old.is_error and not new.is_error
    assert text_of(old) == text_of(new)
    assert started.status_code == 200 and "mcp-session-id" not in started.headers
    assert answered.status_code == 200
    assert FINISHED_TASK in answered.text and '"isError":true' not in answered.text.replace(" ", "")


async def test_each_user_key_sees_only_its_own_tasks(fresh_emulator: Emulator, redis: RedisServer) -> None:
    alice, bob = "alice-key-0001", "bob-key-0002"
    fresh_emulator.guest_keys.update({alice: frozenset({FINISHED_TASK}), bob: frozenset({FAILED_TASK})})
    env = server_env(
        BROWSER_USE_BASE_URL=fresh_emulator.v2_url,
        BROWSER_USE_SOURCE="cloud",
        BROWSER_USE_MCP_CACHE_URL=redis.url,
        BROWSER_USE_MCP_CLIENT_KEYS="1",
    )
    with workers(2, env) as (a, b):
        async with client(a, key=alice) as as_alice:
            mine = await as_alice.call_tool("get_task", {"task_id": FINISHED_TASK})
            listing = await as_alice.call_tool("list_tasks", {})
        async with client(b, key=bob) as as_bob:
            theirs = await as_bob.call_tool("get_task", {"task_id": FINISHED_TASK})
            own = await as_bob.call_tool("get_task", {"task_id": FAILED_TASK})
            crossed = await as_bob.call_tool(
                "compare_tasks", {"task_a": FAILED_TASK, "task_b": FINISHED_TASK}
            )
            found = await as_bob.call_tool("search_tasks", {})
        async with client(b) as anonymous:
            refused = await anonymous.call_tool("get_task", {"task_id": FINISHED_TASK})
        keys_in_redis = redis.stored_keys()
    assert not mine.is_error and not own.is_error
    assert theirs.is_error and "not found" in text_of(theirs).lower()  # Bob's key cannot read Alice's task
    listed = [item["id"] for item in listing.structured_content["page"]["items"]]  # type: ignore[index]
    assert listed == [FINISHED_TASK]
    assert refused.is_error and "X-Browser-Use-API-Key" in text_of(refused)
    assert (
        crossed.is_error and "not found" in text_of(crossed).lower()
    )  # every tool reads with the user's key
    assert FAILED_TASK in text_of(found) and FINISHED_TASK not in text_of(found)
    for result in (mine, listing, theirs, own, refused, crossed, found):
        dumped = json.dumps(result.model_dump(mode="json"))
        assert alice not in dumped and bob not in dumped
    assert keys_in_redis and not [k for k in keys_in_redis if alice in k or bob in k]


async def test_redis_killed_mid_run_and_restarted_fails_no_call(
    fresh_emulator: Emulator, redis: RedisServer
) -> None:
    failures: list[str] = []
    answered = 0
    with workers(2, team_env(fresh_emulator, redis)) as urls:
        async with client(urls[0]) as first, client(urls[1]) as second:

            async def calls(session: Any, rounds: int) -> None:
                nonlocal answered
                for n in range(rounds):
                    task = (FINISHED_TASK, FAILED_TASK)[n % 2]
                    result = await session.call_tool("get_task", {"task_id": task})
                    if result.is_error:
                        failures.append(text_of(result))
                    answered += 1
                    await anyio.sleep(0.02)

            async def outage() -> None:
                await anyio.sleep(0.3)
                redis.stop()
                await anyio.sleep(1.5)
                await anyio.to_thread.run_sync(redis.start)

            async with anyio.create_task_group() as tg:
                tg.start_soon(calls, first, 80)
                tg.start_soon(calls, second, 80)
                tg.start_soon(outage)
            after = await second.call_tool("get_task", {"task_id": FINISHED_TASK})
    assert failures == [] and answered == 160
    assert not after.is_error
    assert redis.ping()


async def test_health_readiness_and_metrics_are_scraped(fresh_emulator: Emulator, redis: RedisServer) -> None:
    with workers(1, team_env(fresh_emulator, redis)) as (url,):
        base = url.removesuffix("/mcp")
        async with client(url) as session:
            await session.call_tool("get_task", {"task_id": FINISHED_TASK})
            await session.call_tool("get_task", {"task_id": FINISHED_TASK})
            await session.call_tool("get_task", {"task_id": "not-a-task-id"})
        async with httpx2.AsyncClient() as http:
            health, ready, metrics = [
                await http.get(base + path) for path in ("/healthz", "/readyz", "/metrics")
            ]
            posted = await http.post(base + "/metrics")
    assert health.status_code == 200 and health.text == "ok\n"
    assert ready.status_code == 200 and ready.json() == {"ready": True, "shared_cache": "reachable"}
    assert posted.status_code == 405
    text = metrics.text
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert _sample(text, 'browser_use_mcp_tool_calls_total{tool="get_task"') == 3
    assert _sample(text, 'browser_use_mcp_tool_errors_total{tool="get_task"') == 1
    assert _sample(text, 'browser_use_mcp_cache_total{kind="task",result="hit"') >= 1
    assert _sample(text, "browser_use_mcp_upstream_seconds_count{") >= 1
    assert _sample(text, 'browser_use_mcp_shared_cache_total{result="misses"') >= 1
    assert "# TYPE browser_use_mcp_upstream_seconds histogram" in text


async def test_metrics_need_the_bearer_token_when_one_is_set(
    fresh_emulator: Emulator, redis: RedisServer
) -> None:
    token = "team-token-5e1d"
    with workers(1, team_env(fresh_emulator, redis, BROWSER_USE_MCP_AUTH_TOKEN=token)) as (url,):
        base = url.removesuffix("/mcp")
        async with httpx2.AsyncClient() as http:
            health = await http.get(base + "/healthz")
            anonymous = await http.get(base + "/metrics")
            allowed = await http.get(base + "/metrics", headers={"authorization": f"Bearer {token}"})
    assert health.status_code == 200  # a load balancer's probe carries no token
    assert anonymous.status_code == 401
    assert allowed.status_code == 200 and "browser_use_mcp_tool_calls_total" in allowed.text


async def test_workers_flag_serves_one_port_from_several_processes(
    fresh_emulator: Emulator, redis: RedisServer
) -> None:
    with server_process(
        "--transport", "streamable-http", "--workers", "2", env=team_env(fresh_emulator, redis)
    ) as (port, process):
        url = f"http://127.0.0.1:{port}/mcp"
        children = _children(process.pid)
        for _ in range(20):  # new connections each time: the kernel hands them to either worker
            async with client(url, mode="2026-07-28") as session:
                result = await session.call_tool("get_task", {"task_id": FINISHED_TASK})
                assert not result.is_error
    assert len(children) == 2
    assert task_requests(fresh_emulator, FINISHED_TASK) == 1


def _children(pid: int) -> list[int]:
    """The worker processes the supervisor forked (Linux: /proc lists a process's children)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    for _ in range(100):
        found = path.read_text().split() if path.exists() else []
        if len(found) >= 2:
            return [int(p) for p in found]
        time.sleep(0.05)
    return []


def _sample(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


async def test_sse_clients_share_one_cache_and_pool(fresh_emulator: Emulator) -> None:
    """The SDK runs the lifespan per SSE connection; the process state is opened once all the same."""
    from mcp.client.sse import sse_client

    with server_process("--transport", "sse", env=cloud_env(fresh_emulator)) as (port, _):
        for _ in range(3):
            async with Client(sse_client(f"http://127.0.0.1:{port}/sse")) as session:
                result = await session.call_tool("get_task", {"task_id": FINISHED_TASK})
                assert not result.is_error
    assert task_requests(fresh_emulator, FINISHED_TASK) == 1


def test_check_reports_the_shared_cache_and_never_its_password(redis: RedisServer) -> None:
    import subprocess
    import sys

    from tests.helpers import free_port

    def check(url: str) -> subprocess.CompletedProcess[str]:
        env = server_env(
            BROWSER_USE_MCP_CACHE_URL=url, BROWSER_USE_MCP_CLIENT_KEYS="1", BROWSER_USE_SOURCE="cloud"
        )
        return subprocess.run(
            [sys.executable, "-m", "browser_use_tasks_mcp", "check", "--transport", "streamable-http"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    good = check(redis.url)
    bad = check(f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0")
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"Shared cache redis://127.0.0.1:{redis.port}/0: OK" in good.stdout
    assert "X-Browser-Use-API-Key" in good.stdout
    assert bad.returncode == 1 and "FAIL: not reachable" in bad.stdout
    assert "hunter2" not in bad.stdout + bad.stderr
