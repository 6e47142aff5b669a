"""The shared cache against a real redis-server: values, scopes, coalescing, outages."""

from __future__ import annotations

import logging
import zlib

import anyio
import httpx2
import pytest

from browser_use_tasks_mcp.service import TaskService
from browser_use_tasks_mcp.shared_cache import MAX_VALUE_BYTES, SharedCache, scope_of, unpack
from browser_use_tasks_mcp.sources import make_source
from tests.emulator import FINISHED_TASK, Emulator
from tests.helpers import cloud_settings
from tests.team.conftest import RedisServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_a_scope_is_a_keyed_hash_never_the_key() -> None:
    key = "bu_live_0123456789abcdef"
    scope = scope_of(key)
    assert key not in scope and len(scope) == 32
    assert scope == scope_of(key)  # every worker files a key's values under the same scope
    assert scope != scope_of(key + "x") != scope_of(key, b"another secret")
    assert scope_of(None) == "nokey"


def test_a_stored_value_never_inflates_past_the_cap() -> None:
    bomb = zlib.compress(b"\0" * (MAX_VALUE_BYTES + 1), 9)
    assert unpack(bomb) is None
    assert unpack(b"not zlib at all") is None
    assert unpack(zlib.compress(b"fine")) == b"fine"


async def test_values_round_trip_under_a_namespaced_key(redis: RedisServer) -> None:
    cache = SharedCache(redis.url)
    try:
        await cache.put("scope:cloud-v2:task:1", b'{"id": "1"}', ttl_s=30)
        assert await cache.get("scope:cloud-v2:task:1") == b'{"id": "1"}'
        assert await cache.get("scope:cloud-v2:task:2") is None
        ttl = int(redis.command("PTTL", "bu-tasks-mcp:1:scope:cloud-v2:task:1").strip(b":\r\n"))
        assert 0 < ttl <= 30_000  # never kept longer than asked
        await cache.put("short", b"x", ttl_s=0.5)  # under a second is not worth sharing
        assert await cache.get("short") is None
    finally:
        await cache.aclose()


async def test_two_workers_asking_at_once_load_once(redis: RedisServer) -> None:
    """Two processes' caches (two connection pools), 40 concurrent misses: one load."""
    first, second = SharedCache(redis.url), SharedCache(redis.url)
    loads = 0

    async def load() -> bytes:
        nonlocal loads
        loads += 1
        await anyio.sleep(0.2)  # an upstream request in flight
        return b"the task"

    results: list[bytes] = []

    async def ask(cache: SharedCache) -> None:
        results.append(await cache.load_once("k", load, encode=lambda v: (v, 30.0), decode=lambda data: data))

    try:
        async with anyio.create_task_group() as tg:
            for n in range(40):
                tg.start_soon(ask, first if n % 2 else second)
        assert loads == 1
        assert results == [b"the task"] * 40
        assert first.counts["coalesced"] + second.counts["coalesced"] == 39
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_failed_load_is_not_shared_and_the_next_asker_loads(redis: RedisServer) -> None:
    cache = SharedCache(redis.url)
    calls = 0

    async def failing() -> bytes:
        nonlocal calls
        calls += 1
        raise RuntimeError("upstream said no")

    try:
        for _ in range(2):
            with pytest.raises(RuntimeError):
                await cache.load_once("k", failing, encode=lambda v: (v, 30.0), decode=lambda d: d)
        assert calls == 2
        assert not [k for k in redis.stored_keys() if "lock" in k]  # the lock was released each time
    finally:
        await cache.aclose()


async def test_redis_down_serves_from_the_source_logs_once_and_recovers(
    redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    cache = SharedCache(redis.url)
    caplog.set_level(logging.WARNING, logger="browser_use_tasks_mcp.shared_cache")

    async def load() -> bytes:
        return b"fresh"

    try:
        redis.stop()
        for _ in range(5):
            value = await cache.load_once("k", load, encode=lambda v: (v, 30.0), decode=lambda d: d)
            assert value == b"fresh"
        assert not cache.reachable
        down = [r for r in caplog.records if "unreachable" in r.getMessage()]
        assert len(down) == 1
        assert "serving from memory" in down[0].getMessage()
        redis.start()
        await anyio.sleep(1.1)  # past the pause after a failure
        await cache.put("k", b"stored", ttl_s=30)
        assert cache.reachable
        assert await cache.get("k") == b"stored"
        assert len([r for r in caplog.records if "reachable again" in r.getMessage()]) == 1
    finally:
        await cache.aclose()


async def test_a_task_read_by_one_service_is_served_to_another_without_upstream(
    fresh_emulator: Emulator, redis: RedisServer
) -> None:
    """Two services, as two workers hold them: the second reads the first's task from Redis."""
    settings = cloud_settings(fresh_emulator.v2_url)
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    async with httpx2.AsyncClient() as client_a, httpx2.AsyncClient() as client_b:
        shared_a, shared_b = SharedCache(redis.url), SharedCache(redis.url)
        a = TaskService(make_source(settings, client_a), shared=shared_a, scope=scope_of(key))
        b = TaskService(make_source(settings, client_b), shared=shared_b, scope=scope_of(key))
        try:
            first = await a.get_task(FINISHED_TASK)
            asked = fresh_emulator.count(f"/api/v2/tasks/{FINISHED_TASK}")
            second = await b.get_task(FINISHED_TASK)
            assert fresh_emulator.count(f"/api/v2/tasks/{FINISHED_TASK}") == asked == 1
            assert second == first
            assert all(key not in k for k in redis.stored_keys())
            assert any(FINISHED_TASK in k and scope_of(key) in k for k in redis.stored_keys())
        finally:
            await shared_a.aclose()
            await shared_b.aclose()
