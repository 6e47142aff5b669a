"""Listing a large local runs folder: 2,000 runs, warm and cold (the hardening issue's item 5).

The server rescans the folder on every call (so a new run shows up at once) but keeps each
history's listing row by file identity, so a warm listing costs a directory scan and a stat per
run, never a parse. The baseline is that floor measured in this process: scanning the same
folder and stat-ing every history file.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.across_runs import across_runs
from benchmarks.harness import stdio_session
from benchmarks.report import Row, ratio
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR

RUNS = 2_000
WARM_CALLS = 7
GOAL_WARM_MS = 50.0


def make_runs(root: Path, count: int) -> None:
    """`count` run folders, each holding a real history (the bundled order-blue-widget run's)."""
    history = (BUNDLED_RUNS_DIR / "order-blue-widget" / "AgentHistory.json").read_text()
    data = json.loads(history)
    for n in range(count):
        folder = root / f"run-{n:05d}"
        folder.mkdir()
        data["history"][0]["metadata"]["step_start_time"] = 1_700_000_000 + n
        (folder / "AgentHistory.json").write_text(json.dumps(data))


def scan_floor(root: Path) -> float:
    started = time.perf_counter()
    for entry in os.scandir(root):
        os.stat(os.path.join(entry.path, "AgentHistory.json"))
    return time.perf_counter() - started


async def local_listing(results: list[Row], quick: bool) -> None:
    count = RUNS // 4 if quick else RUNS
    root = Path(tempfile.mkdtemp(prefix="bench-runs-"))
    try:
        make_runs(root, count)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BROWSER_USE_")}
        env["BROWSER_USE_RUNS_DIR"] = str(root)
        async with stdio_session(env) as session:
            started = time.perf_counter()
            await session.call_tool("list_tasks", {"page_size": 20})
            cold = time.perf_counter() - started
            warm = []
            for _ in range(WARM_CALLS):
                started = time.perf_counter()
                answer = await session.call_tool("list_tasks", {"page_size": 20})
                warm.append(time.perf_counter() - started)
            assert not answer.is_error, answer.text
            await across_runs(session, count, results)  # search_tasks and task_stats, same folder
        floor = sorted(scan_floor(root) for _ in range(WARM_CALLS))[WARM_CALLS // 2]
        warm_ms = sorted(warm)[WARM_CALLS // 2] * 1000
        results += [
            Row(
                "listing",
                f"list_tasks over {count} local runs, warm (median)",
                warm_ms,
                "ms",
                baseline=floor * 1000,
                ratio=ratio(warm_ms, floor * 1000),
                goal=f"≤ {GOAL_WARM_MS:.0f} ms",
                met=warm_ms <= GOAL_WARM_MS,
                note="baseline: scanning the folder and stat-ing every history file in this process",
            ),
            Row(
                "listing",
                f"list_tasks over {count} local runs, cold (parses each history once)",
                cold * 1000,
                "ms",
            ),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
