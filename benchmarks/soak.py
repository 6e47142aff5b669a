"""`python -m benchmarks soak [--calls N]`: many mixed calls through one stdio session (issue 5).

The server's resident memory is read from /proc at 10%, 50% and 100% of the calls
(1k, 5k and 10k by default). Its caches are bounded by bytes, so once they are full the
RSS should stop growing: the goal is < 5% growth over the second half.

The mix is fixed by a seeded random generator, so every run makes the same calls.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.emulator import FAILED_TASK, FILES_TASK, FINISHED_TASK, HUNDRED_STEP_TASK, MANY_TASKS, get_seed

from benchmarks.emulator_proc import add_distinct_copies, distinct_task_ids
from benchmarks.harness import (
    EmulatorProcess,
    RpcError,
    StdioSession,
    cpu_seconds,
    median,
    percentile,
    server_env,
    stdio_session,
)
from benchmarks.report import Row, ratio
from browser_use_tasks_mcp.across.digest import MAX_DIGEST_BYTES
from browser_use_tasks_mcp.service import TaskService

SEED = 20_251_122
TIME_LIMIT_S = 900.0
# (weight, operation): about a fifth are resource reads.
MIX: list[tuple[int, str]] = [
    (20, "get_task"),
    (8, "list_tasks"),
    (18, "get_step+screenshot"),
    (10, "list_screenshots"),
    (5, "get_gif"),
    (10, "get_media"),
    (10, "read steps log"),
    (7, "read step"),
    (7, "read screenshot"),
    (5, "read logs"),
]
#: Distinct tasks the calls spread over: MANY_TASKS and copies of them, served by the soak's own emulator.
DISTINCT_TASKS = 1_000
TASKS = [*distinct_task_ids(DISTINCT_TASKS), FINISHED_TASK, FAILED_TASK, FILES_TASK, HUNDRED_STEP_TASK]
# GIFs are assembled once per task and then cached; a dozen tasks keep the first pass short.
GIF_TASKS = [*MANY_TASKS[:11], FINISHED_TASK]


@dataclass
class Call:
    op: str
    method: str
    params: dict[str, Any]


def schedule(n: int, seed: int = SEED) -> list[Call]:
    rng = random.Random(seed)
    add_distinct_copies(DISTINCT_TASKS)  # the same copies the emulator serves, to pick their steps
    seeded = get_seed().tasks
    weights = [w for w, _ in MIX]
    ops = [op for _, op in MIX]
    calls: list[Call] = []
    for op in rng.choices(ops, weights=weights, k=n):
        task_id = rng.choice(GIF_TASKS if op == "get_gif" else TASKS)
        task = seeded[task_id]
        step = rng.choice([s.number for s in task.steps])
        shot = rng.choice([s.number for s in task.screenshot_steps])
        uri = f"browser-use://tasks/{task_id}"
        if op == "get_task":
            calls.append(Call(op, "tools/call", {"name": "get_task", "arguments": {"task_id": task_id}}))
        elif op == "list_tasks":
            arguments = {"page": rng.randint(1, 5), "page_size": rng.choice([10, 20, 50])}
            calls.append(Call(op, "tools/call", {"name": "list_tasks", "arguments": arguments}))
        elif op == "get_step+screenshot":
            arguments = {"task_id": task_id, "step": shot, "include_screenshot": True}
            calls.append(Call(op, "tools/call", {"name": "get_step", "arguments": arguments}))
        elif op == "list_screenshots":
            calls.append(
                Call(op, "tools/call", {"name": "list_screenshots", "arguments": {"task_id": task_id}})
            )
        elif op == "get_gif":
            calls.append(Call(op, "tools/call", {"name": "get_gif", "arguments": {"task_id": task_id}}))
        elif op == "get_media":
            calls.append(Call(op, "tools/call", {"name": "get_media", "arguments": {"task_id": task_id}}))
        elif op == "read steps log":
            calls.append(Call(op, "resources/read", {"uri": f"{uri}/steps"}))
        elif op == "read step":
            calls.append(Call(op, "resources/read", {"uri": f"{uri}/steps/{step}"}))
        elif op == "read screenshot":
            calls.append(Call(op, "resources/read", {"uri": f"{uri}/screenshots/{shot}"}))
        else:
            calls.append(Call(op, "resources/read", {"uri": f"{uri}/logs"}))
    return calls


@dataclass
class Checkpoint:
    calls: int
    elapsed_s: float
    rss_kib: int
    hwm_kib: int
    cpu_s: float


@dataclass
class SoakResult:
    rows: list[Row] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    text: str = ""


async def _drive(
    session: StdioSession,
    calls: list[Call],
    concurrency: int,
    marks: set[int],
    on_mark: Callable[[int], None],
    deadline: float,
) -> tuple[dict[str, list[float]], Counter[str], list[str], int]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    samples: list[str] = []
    done = 0
    position = 0

    async def worker() -> None:
        nonlocal done, position
        while position < len(calls) and time.monotonic() < deadline:
            call = calls[position]
            position += 1
            started = time.perf_counter()
            try:
                result = await session.request(call.method, call.params)
                failed = bool(result.get("isError"))
                detail = str(result.get("content", [{}])[0].get("text", ""))[:200] if failed else ""
            except RpcError as exc:
                failed, detail = True, str(exc)[:200]
            latencies[call.op].append(time.perf_counter() - started)
            if failed:
                errors[call.op] += 1
                if len(samples) < 5:
                    samples.append(f"{call.op} {call.params}: {detail}")
            done += 1
            if done in marks:
                on_mark(done)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, samples, done


async def run_soak(n: int, concurrency: int = 4, time_limit_s: float = TIME_LIMIT_S) -> SoakResult:
    calls = schedule(n)
    marks = sorted({max(1, n // 10), max(1, n // 2), n})
    checkpoints: list[Checkpoint] = []
    started = time.perf_counter()
    emulator = EmulatorProcess(prewarm=True, distinct=DISTINCT_TASKS)
    async with emulator as emu, stdio_session(server_env(emu.v2_url)) as session:
        at_start = session.memory()

        def on_mark(done: int) -> None:
            memory = session.memory()
            checkpoints.append(
                Checkpoint(
                    done,
                    time.perf_counter() - started,
                    memory.get("VmRSS", 0),
                    memory.get("VmHWM", 0),
                    cpu_seconds(session.pid),
                )
            )

        drive_started = time.perf_counter()
        latencies, errors, samples, done = await _drive(
            session, calls, concurrency, set(marks), on_mark, time.monotonic() + time_limit_s
        )
        drive_s = time.perf_counter() - drive_started
        cpu_total = cpu_seconds(session.pid)
        upstream = await emu.counts("/")
    result = SoakResult()
    by_calls = {c.calls: c for c in checkpoints}
    first, middle, last = (by_calls.get(m) for m in marks)
    start_rss = at_start.get("VmRSS", 0)
    for mark, point in zip(marks, (first, middle, last), strict=True):
        if point is None:
            continue
        result.rows.append(
            Row(
                "soak",
                f"server RSS after {mark:,} calls",
                point.rss_kib / 1024,
                "MiB",
                baseline=start_rss / 1024,
                ratio=ratio(point.rss_kib, start_rss),
                note="" if mark != marks[0] else "baseline: RSS right after start-up, before any call.",
            )
        )
    if middle and last:
        growth = (last.rss_kib - middle.rss_kib) / middle.rss_kib
        result.rows.append(
            Row(
                "soak",
                f"RSS growth from {marks[1]:,} to {marks[2]:,} calls",
                f"{growth:+.1%}",
                baseline=f"{middle.rss_kib / 1024:.0f} MiB",
                ratio=ratio(last.rss_kib, middle.rss_kib),
                goal="< 5%",
                met=growth < 0.05,
                note=f"peak RSS (VmHWM) {last.hwm_kib / 1024:.0f} MiB.",
            )
        )
    else:
        result.rows.append(
            Row(
                "soak",
                "RSS growth",
                "not measured",
                goal="< 5%",
                met=False,
                note=f"stopped after {done} calls",
            )
        )
    if last is not None:
        result.rows.append(_budget_row(last, len({t for c in calls[:done] if (t := _task_of(c))})))
    all_latencies = [x for values in latencies.values() for x in values]
    result.rows.append(
        Row(
            "soak",
            f"calls completed ({concurrency} in flight)",
            done,
            baseline=n,
            ratio=done / n,
            goal=f"all within {time_limit_s:.0f} s",
            met=done == n,
            note=f"{drive_s:.0f} s, {done / drive_s:.0f} calls/s, server CPU {cpu_total:.0f} s "
            f"({cpu_total / max(1, done) * 1000:.1f} ms per call including start-up); "
            f"{sum(upstream.values()):,} upstream requests.",
        )
    )
    failed = sum(errors.values())
    result.rows.append(
        Row(
            "soak",
            "calls answered with an error",
            failed,
            baseline=done,
            ratio=failed / max(1, done),
            goal="0",
            met=failed == 0,
            note="; ".join(samples) if samples else "",
        )
    )
    for op in [op for _, op in MIX]:
        values = latencies.get(op, [])
        if values:
            result.rows.append(
                Row(
                    "soak latency",
                    f"{op} ({len(values):,} calls): median / p95",
                    f"{median(values) * 1000:.1f} / {percentile(values, 95) * 1000:.1f} ms",
                )
            )
    result.payload = {
        "calls_requested": n,
        "calls_done": done,
        "concurrency": concurrency,
        "seconds": drive_s,
        "server_cpu_s": cpu_total,
        "rss_start_kib": start_rss,
        "checkpoints": [c.__dict__ for c in checkpoints],
        "errors": dict(errors),
        "latency_median_ms": {op: median(v) * 1000 for op, v in latencies.items()},
        "latency_all_median_ms": median(all_latencies) * 1000 if all_latencies else None,
        "upstream_requests": sum(upstream.values()),
        "durations_s": {"soak": drive_s},
    }
    result.text = "Checkpoints: " + "; ".join(
        f"{c.calls:,} calls at {c.elapsed_s:.0f} s: RSS {c.rss_kib / 1024:.1f} MiB, peak {c.hwm_kib / 1024:.1f} MiB, "
        f"server CPU {c.cpu_s:.0f} s"
        for c in checkpoints
    )
    return result


def configured_cache_budget_mib() -> float:
    """What the server's caches may hold by their configured sizes: tasks, media and renders, screenshot
    lists, listing pages, run digests (renderings are counted inside the task cache)."""
    defaults = inspect.signature(TaskService.__init__).parameters
    task = defaults["task_cache_bytes"].default
    media = defaults["media_cache_bytes"].default
    return (task + media + 4 * 2**20 + 2 * 2**20 + MAX_DIGEST_BYTES) / 2**20


def _budget_row(last: Checkpoint, distinct: int) -> Row:
    budget = configured_cache_budget_mib()
    peak = last.hwm_kib / 1024
    return Row(
        "soak",
        f"server peak RSS over {last.calls:,} mixed calls on {distinct:,} distinct tasks",
        peak,
        "MiB",
        baseline=budget,
        ratio=ratio(peak, budget),
        goal="≤ cache budget + 100 MiB",
        met=peak <= budget + 100,
        note=f"baseline: the caches' configured budget ({budget:.0f} MiB).",
    )


def _task_of(call: Call) -> str | None:
    """The task a call reads: its `task_id` argument, or the id in its resource URI."""
    task_id = call.params.get("arguments", {}).get("task_id")
    uri = str(call.params.get("uri", ""))
    return task_id or (uri.split("/")[3] if uri.startswith("browser-use://tasks/") else None)
