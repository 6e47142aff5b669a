"""`wait_for_task` on every source: the bundled runs, Cloud v2 and legacy v1 on the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.emulator import FINISHED_TASK, RUNNING_TASK, V1_PAUSED_TASK
from tests.helpers import call_ok, text_of
from tests.tools.common import (
    FAILED_RUN,
    LOCAL_RUNS,
    MAX_STEPS_RUN,
    SUCCEEDED_RUN,
    Source,
    generation_of,
    snapshot_call,
)

pytestmark = pytest.mark.anyio
TOOL = "wait_for_task"

SNAPSHOT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("local", "succeeded", {"task_id": SUCCEEDED_RUN}),
    ("local", "failed", {"task_id": FAILED_RUN}),
    ("local", "max-steps", {"task_id": MAX_STEPS_RUN}),
    ("v2", "finished", {"task_id": FINISHED_TASK}),
    ("v2", "still-running", {"task_id": RUNNING_TASK, "timeout_s": 1}),
    ("v1", "finished", {"task_id": FINISHED_TASK}),
    ("v1", "still-running", {"task_id": RUNNING_TASK, "timeout_s": 1}),
    ("v1", "paused", {"task_id": V1_PAUSED_TASK, "timeout_s": 1}),
]


@pytest.mark.parametrize(
    ("src", "case", "args"), SNAPSHOT_CASES, ids=[f"{s}-{c}" for s, c, _ in SNAPSHOT_CASES]
)
async def test_snapshot(
    make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    await snapshot_call(make_source(src), TOOL, args, f"{TOOL}/{src}-{case}")


async def test_an_ended_task_returns_at_once_with_its_outcome(source: Source) -> None:
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": source.failed, "timeout_s": 30})
        task = await call_ok(client, "get_task", {"task_id": source.failed})
    data = result.structured_content
    assert data is not None
    assert data["finished"] is True and data["timed_out"] is False
    assert data["waited_s"] < 5
    assert data["status"] == "failed"
    # The same facts get_task gives. The Cloud APIs are polled on their light status
    # endpoints: v2's has the output and success flag but no steps, v1's and v4's only the status;
    # v3 has none, so its whole session is read.
    facts = task.structured_content
    assert facts is not None
    expected = {
        "output": facts["task"]["output"],
        "is_success": facts["task"]["is_success"],
        "step_count": facts["step_count"],
    }
    carried = {"local": set(expected), "v3": set(expected), "v2": {"output", "is_success"}}.get(
        generation_of(source, source.failed), set()
    )
    assert {k: data[k] for k in expected} == {k: (v if k in carried else None) for k, v in expected.items()}
    assert text_of(result).startswith(f"# Task {source.failed} ended: failed\n")
    assert f'Details: `get_task(task_id="{source.failed}")`.' in text_of(result)


@pytest.mark.parametrize("run", LOCAL_RUNS)
async def test_local_runs_have_all_ended(make_source: Callable[..., Source], run: str) -> None:
    async with make_source("local").client() as client:
        result = await call_ok(client, TOOL, {"task_id": run, "timeout_s": 30})
    assert result.structured_content["finished"] is True  # type: ignore[index]
    expected = "finished" if run == SUCCEEDED_RUN else "failed"
    assert text_of(result).startswith(f"# Task {run} ended: {expected}\n")


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_a_running_task_reports_progress_and_says_still_running(
    make_source: Callable[..., Source], version: str
) -> None:
    source = make_source(version)
    emu = source.emulator
    assert emu is not None
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with source.client() as client:
        result = await client.call_tool(
            TOOL, {"task_id": RUNNING_TASK, "timeout_s": 2}, progress_callback=on_progress
        )
    assert not result.is_error
    data = result.structured_content
    assert data is not None and data["finished"] is False and data["timed_out"] is True
    assert data["status"] == "running"
    assert data["output"] is None
    assert 1.5 <= data["waited_s"] <= 4
    text = text_of(result)
    assert "still running" in text
    assert f'wait_for_task(task_id="{RUNNING_TASK}"' in text
    assert progress and all(total == 2 for _, total, _ in progress)
    assert [value for value, _, _ in progress] == sorted(value for value, _, _ in progress)
    assert all(message and message.startswith("status running") for _, _, message in progress)
    polls = (
        emu.count(f"/api/v2/tasks/{RUNNING_TASK}/status") if version == "v2" else emu.count(prefix="/api/v1/")
    )
    assert polls >= 2
