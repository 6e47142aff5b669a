"""The task cache counts what a task really holds (it counted 1.5 KB a step; a step costs 3-4 KB), and
renderings kept for a task live and go with it."""

from __future__ import annotations

import contextlib
import gc
import json
import tracemalloc
import uuid
import weakref
from collections.abc import AsyncIterator

import httpx2
import pytest

from browser_use_tasks_mcp.models import Task
from browser_use_tasks_mcp.service import MEMO_ENTRY_SIZE, TaskService, task_bytes, with_resource_uris
from browser_use_tasks_mcp.sources.cloud_v2 import CloudV2Source, task_from_v2
from tests.emulator import HUNDRED_STEP_TASK, Emulator
from tests.helpers import cloud_settings


def v2_body(steps: int, text: int, actions: int = 2) -> bytes:
    signed = "?X-Amz-Expires=3600&X-Amz-Date=20260101T000000Z&X-Amz-Signature=" + "a" * 64
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "status": "finished",
            "task": "t" * 300,
            "createdAt": "2026-01-01T00:00:00Z",
            "steps": [
                {
                    "number": n,
                    "memory": "m" * text,
                    "evaluationPreviousGoal": "Success " + "e" * text,
                    "nextGoal": "g" * (text // 2),
                    "url": f"https://shop.example.com/p/{n}?q=1",
                    "screenshotUrl": f"https://cdn.example.com/s/{n}.png{signed}",
                    "actions": [
                        json.dumps({"click": {"index": n}}),
                        json.dumps({"input_text": {"text": "hi"}}),
                    ][:actions],
                    "duration": 1.5,
                }
                for n in range(1, steps + 1)
            ],
        }
    ).encode()


@pytest.mark.parametrize(
    ("steps", "text", "actions"),
    [(10, 200, 2), (100, 20, 2), (100, 200, 2), (100, 200, 1), (100, 2000, 2), (500, 200, 2), (500, 100, 1)],
)
def test_task_bytes_is_within_a_fifth_of_what_the_task_holds(steps: int, text: int, actions: int) -> None:
    raw = v2_body(steps, text, actions)
    gc.collect()
    tracemalloc.start()
    try:
        body = json.loads(raw)
        task = with_resource_uris(task_from_v2(body))
        del body
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    counted = task_bytes(task)
    assert 0.8 * held <= counted <= 1.2 * held, f"counted {counted} for {held} held"


# --- renderings kept with a task (service.memo) ------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextlib.asynccontextmanager
async def v2_service(emu: Emulator) -> AsyncIterator[TaskService]:
    async with httpx2.AsyncClient() as client:
        yield TaskService(CloudV2Source.open(cloud_settings(emu.v2_url), client))


async def _memoised_task_ref(service: TaskService, builds: list[str]) -> weakref.ref[Task]:
    task = await service.get_task(HUNDRED_STEP_TASK)
    for _ in range(2):
        service.memo(task, "text", lambda: builds.append("text") or "rendered")
    return weakref.ref(task)


@pytest.mark.anyio
async def test_a_task_the_cache_does_not_keep_is_not_kept_by_its_renderings(fresh_emulator: Emulator) -> None:
    fresh_emulator.url_expires = 1  # links expire at once: the task is never cached
    try:
        async with v2_service(fresh_emulator) as service:
            builds: list[str] = []
            ref = await _memoised_task_ref(service, builds)
            gc.collect()
            assert ref() is None, "an uncacheable task was kept alive after its call"
            assert builds == ["text", "text"]  # nothing memoised for it, so built on each call
    finally:
        fresh_emulator.url_expires = None


@pytest.mark.anyio
async def test_renderings_leave_with_their_task_and_are_counted_with_it(fresh_emulator: Emulator) -> None:
    async with v2_service(fresh_emulator) as service:
        builds: list[str] = []
        ref = await _memoised_task_ref(service, builds)
        assert builds == ["text"]  # the cached task's rendering is made once
        task = ref()
        assert task is not None
        assert service._tasks.size_bytes == task_bytes(task) + MEMO_ENTRY_SIZE
        del task
        service.forget(HUNDRED_STEP_TASK)
        gc.collect()
        assert ref() is None, "an evicted task was kept alive by its renderings"
        assert service._tasks.size_bytes == 0
