"""The task cache counts what a task really holds (it counted 1.5 KB a step; a step costs ~4 KB)."""

from __future__ import annotations

import gc
import json
import tracemalloc
import uuid

import pytest

from browser_use_tasks_mcp.service import task_bytes, with_resource_uris
from browser_use_tasks_mcp.sources.cloud_v2 import task_from_v2


def v2_body(steps: int, text: int) -> bytes:
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
                    ],
                    "duration": 1.5,
                }
                for n in range(1, steps + 1)
            ],
        }
    ).encode()


@pytest.mark.parametrize(("steps", "text"), [(10, 200), (100, 20), (100, 200), (100, 2000), (500, 200)])
def test_task_bytes_is_within_a_fifth_of_what_the_task_holds(steps: int, text: int) -> None:
    raw = v2_body(steps, text)
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
