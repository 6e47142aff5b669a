"""Reading runs while browser-use writes them: a history being rewritten, a run without `done`
that is still going or was interrupted, and a step still in progress."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.sources.local import LocalRunsSource
from tests.helpers import call_ok, client_for, local_settings, text_of

pytestmark = pytest.mark.anyio

SAMPLE = BUNDLED_RUNS_DIR / "order-blue-widget"


def history(limit: int | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLE / "AgentHistory.json").read_text(encoding="utf-8"))
    if limit is not None:
        doc["history"] = doc["history"][:limit]
    return doc


def write(runs: Path, name: str, doc: dict[str, Any] | bytes) -> Path:
    folder = runs / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "AgentHistory.json"
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc, indent=2).encode())
    return path


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    for item in (path, path.parent):
        os.utime(item, (then, then))


async def test_run_without_done_is_running_then_interrupted(tmp_path: Path) -> None:
    path = write(tmp_path, "going", history(4))
    async with client_for(local_settings(tmp_path)) as client:
        task = await call_ok(client, "get_task", {"task_id": "going"})
        listing = await call_ok(client, "list_tasks", {"status": "running"})
    assert task.structured_content["task"]["status"] == "running"  # type: ignore[index]
    assert task.structured_content["task"]["finished_at"] is None  # type: ignore[index]
    assert "Finished" not in text_of(task)
    assert [i["id"] for i in listing.structured_content["page"]["items"]] == ["going"]  # type: ignore[index]

    age(path, 11 * 60)  # nothing changed for 11 minutes: the run was interrupted
    async with client_for(local_settings(tmp_path)) as client:
        task = await call_ok(client, "get_task", {"task_id": "going"})
        waited = await call_ok(client, "wait_for_task", {"task_id": "going", "timeout_s": 1})
    data = task.structured_content["task"]  # type: ignore[index]
    assert data["raw_status"] == "interrupted" and data["status"] != "failed"
    assert data["finished_at"] is None and "Finished" not in text_of(task)
    assert "interrupted" in text_of(task)
    assert waited.structured_content["status"] == data["status"]  # type: ignore[index]


async def test_max_steps_run_is_failed_even_while_fresh(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_RUNS_DIR / "trade-login-max-steps", tmp_path / "max")
    (tmp_path / "max" / "AgentHistory.json").touch()
    async with client_for(local_settings(tmp_path)) as client:
        task = await call_ok(client, "get_task", {"task_id": "max"})
    assert task.structured_content["task"]["status"] == "failed"  # type: ignore[index]


async def test_history_being_rewritten_shows_the_last_complete_copy(tmp_path: Path) -> None:
    # The server keeps a read task for a few seconds; the source is asked directly, as after that.
    full = json.dumps(history(), indent=2).encode()
    path = write(tmp_path, "rewrite", full)
    source = LocalRunsSource(tmp_path)
    assert (await source.get_task("rewrite")).status == "finished"
    path.write_bytes(full[: len(full) * 2 // 3])  # save_history() halfway through rewriting it
    during = await source.get_task("rewrite")
    listing = await source.list_tasks(status=None, page=1, page_size=10)
    assert during.status == "running" and during.finished_at is None and len(during.steps) == 7
    assert any("last complete copy" in n for n in during.notes), during.notes
    assert [(i.id, i.status) for i in listing.items] == [("rewrite", "running")]


async def test_cut_short_history_shows_the_steps_that_parse(tmp_path: Path) -> None:
    full = json.dumps(history(), indent=2).encode()
    write(tmp_path, "cut", full[: len(full) // 2])
    async with client_for(local_settings(tmp_path)) as client:
        task = await call_ok(client, "get_task", {"task_id": "cut"})
        step = await call_ok(client, "get_step", {"task_id": "cut", "step": 1})
    data = task.structured_content["task"]  # type: ignore[index]
    assert data["status"] == "running"
    assert 1 <= task.structured_content["step_count"] < 7  # type: ignore[index]
    assert any("steps that parse" in n for n in data["notes"])
    assert step.structured_content["step"]["number"] == 1  # type: ignore[index]


async def test_step_in_progress_is_not_marked_done(tmp_path: Path) -> None:
    doc = history(3)
    current = json.loads(json.dumps(doc["history"][2]))
    current["result"] = []
    current["metadata"] = {"step_number": 4, "step_start_time": current["metadata"]["step_start_time"] + 1}
    doc["history"].append(current)
    write(tmp_path, "mid-step", doc)
    async with client_for(local_settings(tmp_path)) as client:
        task = await call_ok(client, "get_task", {"task_id": "mid-step"})
    text = text_of(task)
    assert task.structured_content["step_count"] == 3  # type: ignore[index]
    assert "   4. ✓" not in text
    assert any("Step 4 is in progress" in n for n in task.structured_content["task"]["notes"])  # type: ignore[index]
