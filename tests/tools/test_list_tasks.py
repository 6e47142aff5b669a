"""`list_tasks` on every source: the bundled runs, Cloud v2 and legacy v1 on the emulator."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import RUNNING_TASK, get_seed
from tests.helpers import call_error, call_ok, text_of
from tests.tools.common import FAILED_RUN, MAX_STEPS_RUN, SUCCEEDED_RUN, Source, local_source, snapshot_call

pytestmark = pytest.mark.anyio
TOOL = "list_tasks"
NEWEST_FIRST = [MAX_STEPS_RUN, FAILED_RUN, SUCCEEDED_RUN]  # by their first step's time

SNAPSHOT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("local", "default", {}),
    ("local", "page-2-of-size-2", {"page": 2, "page_size": 2}),
    ("local", "failed-only", {"status": "failed"}),
    ("local", "running-none", {"status": "running"}),
    ("v2", "page-1", {"page_size": 10}),
    ("v2", "page-3", {"page": 3, "page_size": 5}),
    ("v2", "running", {"status": "running"}),
    ("v2", "failed", {"status": "failed", "page_size": 5}),
    ("v1", "page-1", {"page_size": 10}),
    ("v1", "page-2", {"page": 2, "page_size": 10}),
]


@pytest.mark.parametrize(
    ("src", "case", "args"), SNAPSHOT_CASES, ids=[f"{s}-{c}" for s, c, _ in SNAPSHOT_CASES]
)
async def test_snapshot(
    make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    await snapshot_call(make_source(src), TOOL, args, f"{TOOL}/{src}-{case}")


async def test_local_lists_the_bundled_runs_newest_first(make_source: Callable[..., Source]) -> None:
    async with make_source("local").client() as client:
        result = await call_ok(client, TOOL, {})
        failed = await call_ok(client, TOOL, {"status": "failed"})
        second = await call_ok(client, TOOL, {"page": 2, "page_size": 2})
    page = result.structured_content["page"]  # type: ignore[index]
    assert [i["id"] for i in page["items"]] == NEWEST_FIRST
    assert [i["status"] for i in page["items"]] == ["failed", "failed", "finished"]
    assert [i["step_count"] for i in page["items"]] == [6, 7, 7]
    assert page["total_items"] == 3 and result.structured_content["has_more"] is False  # type: ignore[index]
    assert [i["id"] for i in failed.structured_content["page"]["items"]] == [MAX_STEPS_RUN, FAILED_RUN]  # type: ignore[index]
    assert [i["id"] for i in second.structured_content["page"]["items"]] == [SUCCEEDED_RUN]  # type: ignore[index]
    assert text_of(result).startswith("# Tasks: page 1")
    assert f'get_task(task_id="{MAX_STEPS_RUN}")' in text_of(result)


async def test_local_sees_a_run_added_while_serving(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_RUNS_DIR / SUCCEEDED_RUN, tmp_path / SUCCEEDED_RUN)
    async with local_source(tmp_path).client() as client:
        first = await call_ok(client, TOOL, {})
        assert [i["id"] for i in first.structured_content["page"]["items"]] == [SUCCEEDED_RUN]  # type: ignore[index]
        shutil.copytree(tmp_path / SUCCEEDED_RUN, tmp_path / "copy-of-run")
        second = await call_ok(client, TOOL, {"page_size": "5"})
    ids = {i["id"] for i in second.structured_content["page"]["items"]}  # type: ignore[index]
    assert ids == {SUCCEEDED_RUN, "copy-of-run"}


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_cloud_pages_newest_first_as_seeded(make_source: Callable[..., Source], version: str) -> None:
    seed = get_seed()
    seeded = [t.id for t in (seed.v2_tasks() if version == "v2" else seed.v1_tasks())]
    async with make_source(version).client() as client:
        first = await call_ok(client, TOOL, {"page_size": 10})
        second = await call_ok(client, TOOL, {"page": 2, "page_size": 10})
    page = first.structured_content["page"]  # type: ignore[index]
    assert [i["id"] for i in page["items"]] == seeded[:10]
    assert [i["id"] for i in second.structured_content["page"]["items"]] == seeded[10:20]  # type: ignore[index]
    assert first.structured_content["has_more"] is True  # type: ignore[index]
    assert first.structured_content["next_page"] == 2  # type: ignore[index]
    created = [i["created_at"] for i in page["items"]]
    assert created == sorted(created, reverse=True)
    assert "list_tasks(page=2, page_size=10)" in text_of(first)


async def test_v2_filters_by_status_upstream(make_source: Callable[..., Source]) -> None:
    source = make_source("v2")
    assert source.emulator is not None
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"status": "running"})
    items = result.structured_content["page"]["items"]  # type: ignore[index]
    assert [i["id"] for i in items] == [RUNNING_TASK]
    assert items[0]["raw_status"] == "started"
    assert "filterBy=started" in source.emulator.requests("/api/v2/tasks")[0].query


async def test_every_source_lists_its_failed_task(source: Source) -> None:
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"page_size": 100})
    items = {i["id"]: i for i in result.structured_content["page"]["items"]}  # type: ignore[index]
    assert items[source.failed]["status"] == "failed"
    assert items[source.finished]["status"] == "finished"


@pytest.mark.parametrize("args", [{"page": 0}, {"page_size": 101}, {"status": "exploded"}])
async def test_out_of_range_arguments_are_refused(source: Source, args: dict[str, Any]) -> None:
    async with source.client() as client:
        message = await call_error(client, TOOL, args)
        await call_ok(client, TOOL, {})
    assert next(iter(args)) in message


async def test_the_heading_counts_pages(make_source: Callable[..., Source]) -> None:
    async with make_source("local").client() as client:
        result = await call_ok(client, TOOL, {"page_size": 2})
    page = result.structured_content["page"]  # type: ignore[index]
    assert page["total_items"] == 3 and page["total_pages"] == 2
    assert text_of(result).splitlines()[0] == "# Tasks: page 1 of 2 (3 tasks)"
