"""`search_tasks` on every source: local runs (the bundled ones and their recorded failing twin) and
every Cloud generation on the emulator; filters, the bounded scan, hostile input."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.emulator import FAILED_TASK, get_seed
from tests.helpers import call_error, call_ok, text_of
from tests.tools.common import (
    FAILED_RUN,
    SUCCEEDED_RUN,
    TIMEOUT_RUN,
    Source,
    across_runs_dir,
    assert_only_inside_fences,
    local_source,
    snapshot_call,
)

pytestmark = pytest.mark.anyio
TOOL = "search_tasks"

CLOUD_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (version, "failed", {"status": "failed", "scan_limit": 15})
    for version in ("v2", "v1", "v3", "v4", "auto")
]
LOCAL_CASES: list[tuple[str, dict[str, Any]]] = [
    ("query-order-number", {"query": "order number"}),
    ("error-gateway-timeout", {"error_contains": "504 gateway timeout"}),
    ("failed-on-confirmation-page", {"status": "failed", "url_contains": "confirmation.html"}),
    ("nothing-matches", {"query": "no run says this"}),
    ("scan-limit-1", {"scan_limit": 1}),
]


def across(tmp_path: Path) -> Source:
    return local_source(across_runs_dir(tmp_path))


@pytest.mark.parametrize(("case", "args"), LOCAL_CASES, ids=[c for c, _ in LOCAL_CASES])
async def test_local_snapshot(tmp_path: Path, case: str, args: dict[str, Any]) -> None:
    await snapshot_call(across(tmp_path), TOOL, args, f"{TOOL}/local-{case}")


@pytest.mark.parametrize(("src", "case", "args"), CLOUD_CASES, ids=[s for s, _, _ in CLOUD_CASES])
async def test_cloud_snapshot(
    make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    result = await snapshot_call(make_source(src), TOOL, args, f"{TOOL}/{src}-{case}")
    hits = result.structured_content["hits"]  # type: ignore[index]
    assert hits and all(h["status"] == "failed" for h in hits)
    if src != "v1":  # v1 has no judge; FAILED_TASK is among the newest failed runs of every generation
        assert FAILED_TASK in [h["task_id"] for h in hits]


async def test_each_hit_says_why_it_matched(tmp_path: Path) -> None:
    async with across(tmp_path).client() as client:
        result = await call_ok(client, TOOL, {"error_contains": "gateway TIMEOUT", "query": "ada lovelace"})
    hits = result.structured_content["hits"]  # type: ignore[index]
    assert [h["task_id"] for h in hits] == [TIMEOUT_RUN]
    reasons = {r["filter"]: r for r in hits[0]["reasons"]}
    assert reasons["error_contains"]["field"] == "error" and reasons["error_contains"]["step"] == 4
    assert "504 Gateway Timeout" in reasons["error_contains"]["excerpt"]
    assert reasons["query"]["field"] == "instruction"
    text = text_of(result)
    assert assert_only_inside_fences(text, "504 Gateway Timeout") >= 1
    assert f'get_task(task_id="{TIMEOUT_RUN}")' in text


async def test_filters_combine_and_newest_come_first(tmp_path: Path) -> None:
    async with across(tmp_path).client() as client:
        same_task = await call_ok(client, TOOL, {"query": "Blue Widget product, order 3 units"})
        only_failed = await call_ok(
            client, TOOL, {"query": "Blue Widget product, order 3 units", "status": "failed"}
        )
        by_url = await call_ok(client, TOOL, {"url_contains": "127.0.0.1:8766"})
        by_model = await call_ok(client, TOOL, {"model": "no-such-model"})
    ids = [h["task_id"] for h in same_task.structured_content["hits"]]  # type: ignore[index]
    assert ids == [TIMEOUT_RUN, SUCCEEDED_RUN]
    assert [h["task_id"] for h in only_failed.structured_content["hits"]] == [TIMEOUT_RUN]  # type: ignore[index]
    # The unreachable port: the cart (order-blue-widget) and promotions (red-gadget) pages.
    assert {h["task_id"] for h in by_url.structured_content["hits"]} == {SUCCEEDED_RUN, FAILED_RUN}  # type: ignore[index]
    assert by_model.structured_content["matches"] == 0  # type: ignore[index]


async def test_time_window(tmp_path: Path) -> None:
    async with across(tmp_path).client() as client:
        future = await call_ok(client, TOOL, {"since": "2999-01-01"})
        everything = await call_ok(client, TOOL, {"since": "2020-01-01T00:00:00Z", "until": "2999-01-01"})
        recent = await call_ok(client, TOOL, {"until": "2000-01-01"})
    assert future.structured_content["matches"] == 0  # type: ignore[index]
    assert everything.structured_content["matches"] == 4  # type: ignore[index]
    assert recent.structured_content["matches"] == 0  # type: ignore[index]


async def test_scan_limit_says_how_to_widen(tmp_path: Path) -> None:
    async with across(tmp_path).client() as client:
        result = await call_ok(client, TOOL, {"scan_limit": 2, "limit": 1})
    scan = result.structured_content["scan"]  # type: ignore[index]
    assert scan["listed"] == 2 and scan["stopped"] == "scan_limit" and not scan["complete"]
    assert "scan_limit=100" in scan["hint"] and "scan_limit=100" in text_of(result)
    assert result.structured_content["matches"] == 2 and len(result.structured_content["hits"]) == 1  # type: ignore[index]
    assert "search_tasks(limit=2)" in text_of(result)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"since": "last tuesday"}, "`since` must be an ISO 8601 date"),
        ({"until": "2026-13-45"}, "`until` must be an ISO 8601 date"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "`since` is after `until`"),
        ({"source": "cloud-v2"}, "it reads local"),
        ({"limit": 100_000}, "limit"),
        ({"scan_limit": 0}, "scan_limit"),
        ({"query": "x" * 5000}, "query"),
        ({"status": "exploded"}, "status"),
    ],
)
async def test_hostile_input_is_refused_and_the_next_call_answered(
    args: dict[str, Any], expected: str
) -> None:
    async with local_source().client() as client:
        message = await call_error(client, TOOL, args)
        assert expected in message
        await call_ok(client, TOOL, {})


async def test_cloud_status_uses_the_api_filter(make_source: Callable[..., Source]) -> None:
    source = make_source("v2")
    assert source.emulator is not None
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"status": "stopped", "scan_limit": 50})
    listings = source.emulator.log.records("/api/v2/tasks", method="GET")
    assert any("filterBy=stopped" in (r.query or "") for r in listings)
    stopped = [t.id for t in get_seed().v2_tasks() if t.v2_status == "stopped"]
    assert {h["task_id"] for h in result.structured_content["hits"]} == set(stopped)  # type: ignore[index]


async def test_cloud_scan_returns_partial_results_at_the_deadline(make_source: Callable[..., Source]) -> None:
    source = make_source("v2", call_deadline_s=2.0, request_timeout_s=5.0, max_retries=0)
    assert source.emulator is not None
    source.emulator.faults.add("delay", regex=r"^/api/v2/tasks/[^/]+$", delay=0.4)
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"scan_limit": 200})
    scan = result.structured_content["scan"]  # type: ignore[index]
    assert scan["stopped"] == "deadline" and not scan["complete"] and scan["unread"] > 0
    assert "partial" in text_of(result)


async def test_auto_searches_one_generation_when_asked(make_source: Callable[..., Source]) -> None:
    async with make_source("auto").client() as client:
        v4 = await call_ok(client, TOOL, {"source": "v4", "scan_limit": 40})
        refused = await call_error(client, TOOL, {"source": "cloud-v1"})
    hits = v4.structured_content["hits"]  # type: ignore[index]
    assert hits and {h["source"] for h in hits} == {"cloud-v4"}
    assert "cloud-v4" in refused and "cloud-v2" in refused


async def test_many_hits_stay_bounded(make_source: Callable[..., Source]) -> None:
    async with make_source("v2").client() as client:
        result = await call_ok(client, TOOL, {"limit": 100, "scan_limit": 150})
    hits = result.structured_content["hits"]  # type: ignore[index]
    assert len(hits) == 100 and result.structured_content["matches"] > 100  # type: ignore[index]
    text = text_of(result)
    # At the largest limit, the call for more asks for the runs older than the last hit.
    last = datetime.fromisoformat(hits[-1]["created_at"])
    until = re.search(r'search_tasks\(until="([^"]+)", limit=100\)', text)
    assert len(text) < 120_000 and until is not None
    assert last - timedelta(seconds=1) < datetime.fromisoformat(until.group(1)) < last


async def test_a_scan_read_never_stands_in_for_the_full_task(tmp_path: Path) -> None:
    async with across(tmp_path).client() as client:
        await call_ok(client, TOOL, {"query": "blue widget"})  # reads runs without their media
        task = await call_ok(client, "get_task", {"task_id": SUCCEEDED_RUN})
    steps = {s["number"]: s for s in task.structured_content["steps"]}  # type: ignore[index]
    assert steps[2]["screenshot_uri"] is not None and steps[1]["screenshot_uri"] is None


async def test_v2_dates_use_the_api_filter(make_source: Callable[..., Source]) -> None:
    source = make_source("v2")
    assert source.emulator is not None
    seeded = sorted((t.created_at for t in get_seed().v2_tasks()), reverse=True)
    since = seeded[4].isoformat()  # the five newest tasks
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"since": since})
    listings = source.emulator.log.records("/api/v2/tasks", method="GET")
    assert any("after=" in (r.query or "") for r in listings if r.path == "/api/v2/tasks")
    scan = result.structured_content["scan"]  # type: ignore[index]
    # The API narrowed the listing itself: only the dated window was listed, not all 120 tasks.
    assert scan["listed"] <= 6 and scan["complete"]
    assert result.structured_content["matches"] == 5  # type: ignore[index]
