"""Searching and counting a large local runs folder: `search_tasks` and `task_stats` over 2,000 runs, warm.

Runs on the folder and server `local_runs.py` already built for the listing benchmark. A warm
scan lists the folder once and reads each run's digest from the server's cache (nothing is parsed
again), then matches or counts. The baseline is `list_tasks` of one page on the same server in the
same run: the folder scan every answer pays.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.harness import StdioSession
from benchmarks.report import Row, ratio

WARM_CALLS = 5
GOAL_WARM_MS = 1000.0
#: Cold scans until every run was read once (a cold scan may stop at the call deadline).
MAX_COLD_CALLS = 5

CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("search_tasks", {"error_contains": "site unavailable", "query": "order number", "limit": 20}),
    ("task_stats", {"group_by": "day"}),
)


async def _median_ms(session: StdioSession, name: str, args: dict[str, Any]) -> float:
    times = []
    for _ in range(WARM_CALLS):
        answer = await session.call_tool(name, args)
        assert not answer.is_error, answer.text
        times.append(answer.seconds)
    return sorted(times)[WARM_CALLS // 2] * 1000


async def _warm_up(session: StdioSession, name: str, args: dict[str, Any]) -> float:
    """Seconds the cold scans took until one saw every run."""
    started = time.perf_counter()
    for _ in range(MAX_COLD_CALLS):
        answer = await session.call_tool(name, args)
        assert not answer.is_error, answer.text
        if answer.result["structuredContent"]["scan"]["complete"]:
            break
    return time.perf_counter() - started


async def across_runs(session: StdioSession, count: int, results: list[Row]) -> None:
    """Rows for search_tasks and task_stats over the `count` runs the session's folder holds."""
    floor = await _median_ms(session, "list_tasks", {"page_size": 20})
    for name, args in CALLS:
        full = {**args, "scan_limit": count}
        cold = await _warm_up(session, name, full)
        warm = await _median_ms(session, name, full)
        results += [
            Row(
                "across runs",
                f"{name} over {count} local runs, warm (median)",
                warm,
                "ms",
                baseline=floor,
                ratio=ratio(warm, floor),
                goal=f"≤ {GOAL_WARM_MS:.0f} ms",
                met=warm <= GOAL_WARM_MS,
                note="baseline: list_tasks (one page) on the same server, the folder scan every call pays",
            ),
            Row(
                "across runs",
                f"{name} over {count} local runs, cold (reads each run once)",
                cold * 1000,
                "ms",
            ),
        ]
