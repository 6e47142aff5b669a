"""Fault matrix: every tool against every upstream failure, for Cloud API v2 and legacy v1.

For each fault, each tool and each API version, one call is made with the fault switched on
for the upstream path that call depends on, and:

- the result is `isError` with the fault's sentence, and no raw upstream body (HTML, the
  error's detail text, the JSON) or the API key leaks into it;
- retries are bounded: retryable failures are retried at least once and at most
  `max_retries` times, everything else never (counted at the emulator);
- Retry-After is honoured (attempts spaced by at least its value) but never past the deadline;
- the call ends within its deadline (2 s here; wait_for_task: its wait plus that);
- with the fault switched off, the same call on the same server succeeds.

The whole matrix (336 calls) runs once per module, in a fixture, fast: a few emulators, each
hosting several faults at once on distinct paths (distinct task ids and files), so the counts
per call stay exact; calls sharing a path (list_tasks, one output file) run one after the
other. One test per fault then checks its rows. The measured matrix (retries made,
worst-case seconds, crashes) is printed in the terminal summary and, if FAULT_MATRIX_OUT
names a file, written there as markdown (docs/reliability.md carries one such run).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from mcp import Client

from browser_use_tasks_mcp.config import Settings
from browser_use_tasks_mcp.tools import TOOLS as REGISTERED_TOOLS
from tests.emulator import FILES_TASK, MANY_TASKS, Emulator, get_seed, run_emulator
from tests.helpers import TEST_KEY, client_for, cloud_settings, text_of

REQUEST_TIMEOUT_S = 0.5
CALL_DEADLINE_S = 2.0
WAIT_TIMEOUT_S = 1.0
MAX_RETRIES = 3
# Scheduling slack: up to PARALLEL calls at once on two cores, emulators in the same process.
SLACK_S = 0.75
PARALLEL = 40
EMULATORS = 6
DETAIL = "UPSTREAM-DETAIL-CANARY <b>do not echo</b>"
TOOLS = tuple(spec.name for spec in REGISTERED_TOOLS)  # every tool the server registers
VERSIONS = ("v2", "v1")
FILES = [f for f in get_seed().tasks[FILES_TASK].output_files if f.kind != "bigtext"]
# MANY_TASKS[i] has 3 + i % 4 steps: the 3-step ones make cheap GIFs.
THREE_STEP_TASKS = [t for i, t in enumerate(MANY_TASKS) if i % 4 == 0]
OTHER_TASKS = [t for i, t in enumerate(MANY_TASKS) if i % 4 != 0]


@dataclass(frozen=True)
class Case:
    name: str
    kind: int | str | None  # None: connection refused (no emulator involved)
    options: dict[str, Any]
    phrase: str  # regex the error text must match
    retryable: bool
    leaks: tuple[str, ...] = ()  # upstream text that must never reach the model
    min_gap_s: float = 0.0  # shortest wait between attempts (Retry-After)
    may_not_retry: bool = False  # a call deadline may end it before any retry


COMMON_LEAKS = (DETAIL, "do not echo", TEST_KEY)
CASES = [
    Case(
        "401",
        401,
        {"detail": DETAIL},
        r"rejected the API key \(401\)\. Check BROWSER_USE_API_KEY",
        False,
        COMMON_LEAKS,
    ),
    Case(
        "403",
        403,
        {"detail": DETAIL},
        r"refused access \(403\).*Check that BROWSER_USE_API_KEY belongs",
        False,
        COMMON_LEAKS,
    ),
    Case("404", 404, {"detail": DETAIL}, r"not found|no such resource \(404\)", False, COMMON_LEAKS),
    Case(
        "402",
        402,
        {},
        r"requires payment \(402\).*Add credits or raise the spend cap",
        False,
        (TEST_KEY, "spend_cap_exceeded", '{"'),
    ),
    Case(
        "402 echoing the key and a markdown image",
        402,
        {
            "body": json.dumps(
                {
                    "detail": {
                        "code": "cap",
                        "message": f"key {TEST_KEY} over cap ![x](https://evil.example/p.png)",
                    }
                }
            )
        },
        r"requires payment \(402\)",
        False,
        (TEST_KEY, "!["),
    ),
    Case(
        "422",
        422,
        {},
        r"rejected the request \(422\).*check for a newer browser-use-tasks-mcp",
        False,
        (TEST_KEY, '"loc"', '{"', "[{"),
    ),
    Case(
        "429",
        429,
        {"detail": DETAIL},
        r"rate limiting \(429.*Wait a few seconds and try again",
        True,
        COMMON_LEAKS,
    ),
    Case(
        "429 + Retry-After: 1",
        429,
        {"detail": DETAIL, "retry_after": 1},
        r"rate limiting \(429.*Wait a few seconds and try again",
        True,
        COMMON_LEAKS,
        min_gap_s=0.9,
    ),
    Case(
        "429 + Retry-After: HTTP date",
        429,
        {"detail": DETAIL, "retry_after": 1, "retry_after_as_date": True},
        r"rate limiting \(429.*Wait a few seconds and try again",
        True,
        COMMON_LEAKS,
    ),
    Case("500", 500, {"detail": DETAIL}, r"is failing \(500\).*try again later", True, COMMON_LEAKS),
    Case("502", 502, {"detail": DETAIL}, r"is failing \(502\).*try again later", True, COMMON_LEAKS),
    Case("503", 503, {"detail": DETAIL}, r"is failing \(503\).*try again later", True, COMMON_LEAKS),
    Case("504", 504, {"detail": DETAIL}, r"is failing \(504\).*try again later", True, COMMON_LEAKS),
    Case(
        "connection refused",
        None,
        {},
        r"Could not reach .*ConnectError.*Check the network",
        True,
        (TEST_KEY,),
    ),
    Case(
        "connection reset mid-body",
        "reset_mid_body",
        {},
        r"broke off mid-answer .*(RemoteProtocolError|ReadError).*Try again",
        True,
        (TEST_KEY,),
    ),
    Case(
        "read timeout",
        "delay",
        {"delay": 3 * CALL_DEADLINE_S},
        r"(did not answer in time|did not finish within).*Try again",
        True,
        (TEST_KEY,),
    ),
    Case(
        "slow trickle",
        "trickle",
        {"chunk_size": 1, "interval": 0.4},
        r"(did not finish within|did not answer in time).*Try again",
        True,
        (TEST_KEY,),
        may_not_retry=True,
    ),
    Case(
        "malformed JSON",
        "malformed_json",
        {},
        r"not JSON.*try again later",
        False,
        (TEST_KEY, "3c90c3cc", '"mem'),
    ),
    Case(
        "HTML error page (502)",
        "html_error",
        {},
        r"is failing \(502\).*try again later",
        True,
        (TEST_KEY, "<html", "cloudflare", "Bad Gateway", "<center>"),
    ),
    Case(
        "50 MB body",
        "huge_body",
        {},
        r"larger than 20 MB; refused\. .*try again later",
        False,
        (TEST_KEY, "padding", "aaaa"),
    ),
    Case(
        "50 MB body, length declared",
        "huge_body",
        {"declare_length": True},
        r"larger than 20 MB; refused\. .*try again later",
        False,
        (TEST_KEY, "padding", "aaaa"),
    ),
    Case(
        "JSON of the wrong shape",
        "wrong_shape",
        {},
        r"unexpected shape|without a valid id|gave no download link",
        False,
        (TEST_KEY, "not-a-list", '"unexpected"'),
    ),
]


@dataclass
class Row:
    fault: str
    tool: str
    version: str
    attempts: int | None = None
    seconds: float = 0.0
    crashed: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def retries(self) -> int | None:
        return None if self.attempts is None else self.attempts - 1


MATRIX: list[Row] = []


@dataclass
class Pair:
    """One (fault, tool, version) call: where it goes and what it depends on upstream."""

    case: Case
    tool: str
    version: str
    emu: Emulator | None  # None: connection refused
    args: dict[str, Any]
    regex: str  # the faulted upstream path (absolute; relative to the API base when refused)
    lane: tuple[Any, ...]  # pairs in one lane share a path and run one after the other
    row: Row
    client: Client | None = None


def _plan(case: Case, slot: int, version: str, emu: Emulator | None) -> list[Pair]:
    """The 8 calls of one fault; `slot` picks task ids and a file no other fault on `emu` uses."""
    api = f"/api/{version}"
    task_prefix = f"{api}/tasks/" if version == "v2" else f"{api}/task/"
    pairs = []
    for tool in TOOLS:
        lane: tuple[Any, ...] = (id(emu), version, case.name, tool)
        if tool in ("list_tasks", "search_tasks", "task_stats"):
            # The scans start with the same listing; a few runs keep their recovery calls cheap.
            args: dict[str, Any] = {"page_size": 5} if tool == "list_tasks" else {"scan_limit": 5}
            path = f"{api}/tasks"
            lane = (id(emu), version, "list")
        elif tool == "get_output_file":
            file = FILES[slot % len(FILES)]
            args = {"task_id": FILES_TASK, "file": file.name}
            if version == "v2":
                path = f"{api}/files/tasks/{FILES_TASK}/output-files/{file.id}"
            else:
                path = f"{api}/task/{FILES_TASK}/output-file/{file.name}"
            lane = (id(emu), version, "file", file.name)
        else:
            # get_task and wait_for_task share a task: one asks for it, the other for its status.
            task = {
                "get_task": OTHER_TASKS[4 * slot],
                "wait_for_task": OTHER_TASKS[4 * slot],
                "get_step": OTHER_TASKS[4 * slot + 1],
                "list_screenshots": OTHER_TASKS[4 * slot + 2],
                "get_media": OTHER_TASKS[4 * slot + 3],
                # One GIF task per server (its lane runs one fault after the other), so the
                # recovery calls assemble one GIF per server, not one per fault.
                "get_gif": THREE_STEP_TASKS[0],
                # Compared with itself: its first request is for the task, as get_task's is.
                "compare_tasks": THREE_STEP_TASKS[1 + slot],
            }[tool]
            if tool == "get_gif":
                lane = (id(emu), version, "gif")
            args = {"task_a": task, "task_b": task} if tool == "compare_tasks" else {"task_id": task}
            path = f"{task_prefix}{task}"
            if tool == "wait_for_task":
                args["timeout_s"] = WAIT_TIMEOUT_S
                path += "/status"
            elif tool == "get_step":
                args["step"] = 2
        if emu is None:
            # Connection refused: the first request of every tool is for the task (or the list).
            if tool == "get_output_file":
                path = f"{task_prefix}{FILES_TASK}"
            path = path.removeprefix(api)
        pairs.append(
            Pair(case, tool, version, emu, args, f"^{re.escape(path)}$", lane, Row(case.name, tool, version))
        )
    return pairs


def _deadline(tool: str) -> float:
    if tool == "wait_for_task":
        return WAIT_TIMEOUT_S + min(8.0, CALL_DEADLINE_S)
    return CALL_DEADLINE_S


def _settings(base_url: str, version: str) -> Settings:
    return cloud_settings(
        base_url,
        version=version,
        request_timeout_s=REQUEST_TIMEOUT_S,
        call_deadline_s=CALL_DEADLINE_S,
        max_retries=MAX_RETRIES,
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RetryLog(logging.Handler):
    """Counts the client's own 'retrying GET <path>' records (for the connection-refused case)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.paths: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("retrying GET "):
            self.paths.append(message.split()[2])


async def _call(client: Client, tool: str, args: dict[str, Any]) -> tuple[Any, float, str | None]:
    started = time.perf_counter()
    try:
        result = await client.call_tool(tool, args)
    except Exception as exc:  # a protocol error instead of an isError result counts as a crash
        return None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
    return result, time.perf_counter() - started, None


def _check_error(row: Row, case: Case, result: Any, crash: str | None) -> None:
    if crash is not None:
        row.crashed = True
        row.problems.append(f"raised {crash}")
        return
    text = text_of(result)
    if "Internal error" in text:
        row.crashed = True
    if not result.is_error:
        row.problems.append(f"not an error: {text[:200]!r}")
        return
    if not re.search(case.phrase, text):
        row.problems.append(f"missing /{case.phrase}/ in {text[:300]!r}")
    for leak in case.leaks:
        if leak in text:
            row.problems.append(f"leaked {leak!r}")
    if result.structured_content:
        row.problems.append("an error result carries structured content")


def _check_attempts(row: Row, case: Case, stamps: list[float]) -> None:
    attempts = row.attempts
    assert attempts is not None
    if case.retryable:
        low = 1 if case.may_not_retry else 2
        if not low <= attempts <= MAX_RETRIES + 1:
            row.problems.append(f"{attempts} attempts; expected {low}..{MAX_RETRIES + 1}")
    elif attempts != 1:
        row.problems.append(f"{attempts} attempts for a fault that must not be retried")
    gaps = [b - a for a, b in itertools.pairwise(sorted(stamps))]
    if case.min_gap_s and any(g < case.min_gap_s for g in gaps):
        row.problems.append(f"retried before Retry-After elapsed: gaps {gaps}")


def _check_time(row: Row) -> None:
    if row.seconds > _deadline(row.tool) + SLACK_S:
        row.problems.append(f"took {row.seconds:.2f}s, deadline {_deadline(row.tool)}s")


async def _faulted_call(pair: Pair, limiter: anyio.CapacityLimiter) -> None:
    row, emu, client = pair.row, pair.emu, pair.client
    assert emu is not None and client is not None
    async with limiter:
        earlier = {r.id for r in emu.requests() if re.search(pair.regex, r.path)}
        fault = emu.faults.add(pair.case.kind, regex=pair.regex, **pair.case.options)  # type: ignore[arg-type]
        try:
            result, row.seconds, crash = await _call(client, pair.tool, pair.args)
        finally:
            emu.faults.remove(fault)
    stamps = [r.timestamp for r in emu.requests() if re.search(pair.regex, r.path) and r.id not in earlier]
    row.attempts = len(stamps)
    _check_error(row, pair.case, result, crash)
    _check_attempts(row, pair.case, stamps)
    _check_time(row)


async def _recovery_call(pair: Pair, limiter: anyio.CapacityLimiter) -> None:
    assert pair.client is not None
    async with limiter:
        again, _, crash = await _call(pair.client, pair.tool, pair.args)
    if crash is not None or again.is_error:
        pair.row.problems.append(f"next call failed: {crash or text_of(again)[:200]}")


async def _refused_calls(pair: Pair, log: RetryLog) -> None:
    row, client = pair.row, pair.client
    assert client is not None
    # Only this call's retries: the listing scans share their path, and their lane, with list_tasks.
    start = len(log.paths)
    result, row.seconds, crash = await _call(client, pair.tool, pair.args)
    row.attempts = 1 + sum(1 for p in log.paths[start:] if re.search(pair.regex, p))
    _check_error(row, pair.case, result, crash)
    _check_attempts(row, pair.case, [])
    _check_time(row)
    # Nothing listens there, so the next call fails the same way: promptly, as an error result.
    again, seconds, crash = await _call(client, pair.tool, pair.args)
    if crash is not None or not again.is_error or seconds > _deadline(pair.tool) + SLACK_S:
        row.problems.append(f"next call misbehaved: {crash or text_of(again)[:200]}")


async def _in_lanes(pairs: list[Pair], work: Callable[[Pair], Awaitable[None]]) -> None:
    """Lanes at once; the pairs of one lane one after the other."""
    lanes: dict[tuple[Any, ...], list[Pair]] = {}
    for pair in pairs:
        lanes.setdefault(pair.lane, []).append(pair)

    async def run_lane(lane: list[Pair]) -> None:
        for pair in lane:
            await work(pair)

    async with anyio.create_task_group() as group:
        for lane in lanes.values():
            group.start_soon(run_lane, lane)


async def _run_matrix(emulators: list[Emulator], log: RetryLog) -> list[Row]:
    """Phases, so that unrelated CPU work does not distort the timings being measured:
    open the clients; every emulated fault except the 50 MB bodies (at most PARALLEL calls
    at once); the 50 MB bodies (CPU-heavy: 8 at once); then connection refused, one API
    version at a time (the retry log names only the relative path), alongside every
    recovery call.
    """
    pairs: list[Pair] = []
    slots = itertools.count()
    for case in CASES:
        slot = next(slots) if case.kind is not None else 0
        emu = emulators[slot % len(emulators)] if case.kind is not None else None
        for version in VERSIONS:
            pairs += _plan(case, slot // len(emulators), version, emu)
    refused_base = f"http://127.0.0.1:{_closed_port()}/api"
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[tuple[int, str], Client] = {}
        for pair in pairs:
            key = (id(pair.emu), pair.version)
            if key not in clients:
                if pair.emu is None:
                    base = f"{refused_base}/{pair.version}"
                else:
                    base = pair.emu.v2_url if pair.version == "v2" else pair.emu.v1_url
                clients[key] = await stack.enter_async_context(client_for(_settings(base, pair.version)))
            pair.client = clients[key]
        emulated = [p for p in pairs if p.emu is not None]
        heavy = [p for p in emulated if p.case.kind == "huge_body"]
        many, few = anyio.CapacityLimiter(PARALLEL), anyio.CapacityLimiter(8)
        await _in_lanes([p for p in emulated if p not in heavy], lambda p: _faulted_call(p, many))
        await _in_lanes(heavy, lambda p: _faulted_call(p, few))

        async def refused() -> None:
            for version in VERSIONS:
                log.paths.clear()
                mine = [p for p in pairs if p.emu is None and p.version == version]
                await _in_lanes(mine, lambda p: _refused_calls(p, log))

        # Recovery calls succeed without retrying, so they leave the retry log to the refused ones.
        recovering = anyio.CapacityLimiter(8)
        async with anyio.create_task_group() as group:
            group.start_soon(refused)
            group.start_soon(_in_lanes, emulated, lambda p: _recovery_call(p, recovering))
    return [p.row for p in pairs]


@pytest.fixture(scope="module")
def matrix() -> Iterator[dict[str, list[Row]]]:
    logger = logging.getLogger("browser_use_tasks_mcp.http")
    handler = RetryLog()
    old_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        with contextlib.ExitStack() as stack:
            emulators = [stack.enter_context(run_emulator()) for _ in range(EMULATORS)]
            rows = anyio.run(_run_matrix, emulators, handler)
            # Stop the emulators in parallel: each takes a moment to close its connections.
            with ThreadPoolExecutor(len(emulators)) as pool:
                list(pool.map(lambda e: e.stop(), emulators))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    MATRIX.extend(rows)
    by_fault: dict[str, list[Row]] = {}
    for row in rows:
        by_fault.setdefault(row.fault, []).append(row)
    yield by_fault


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault(case: Case, matrix: dict[str, list[Row]]) -> None:
    rows = matrix[case.name]
    assert len(rows) == len(TOOLS) * len(VERSIONS)
    problems = [f"{r.tool} {r.version}: {p}" for r in rows for p in r.problems]
    assert not problems, "\n".join(problems)


def test_no_crashes_and_every_call_within_its_deadline(matrix: dict[str, list[Row]]) -> None:
    rows = [r for fault_rows in matrix.values() for r in fault_rows]
    assert len(rows) == len(CASES) * len(TOOLS) * len(VERSIONS)
    assert sum(r.crashed for r in rows) == 0
    assert all(r.seconds <= _deadline(r.tool) + SLACK_S for r in rows)


# --------------------------------------------------------------------------------------
# The matrix as markdown, printed at the end of the module (and written to FAULT_MATRIX_OUT)
# --------------------------------------------------------------------------------------


def matrix_markdown(rows: list[Row]) -> str:
    by_key = {(r.fault, r.tool, r.version): r for r in rows}
    faults = [c.name for c in CASES if any(r.fault == c.name for r in rows)]
    lines = [
        "| fault | " + " | ".join(f"`{t}`" for t in TOOLS) + " | retries | worst s | crashes |",
        "|---|" + "---|" * len(TOOLS) + "---|---|---|",
    ]
    for fault in faults:
        cells = []
        mine = [r for r in rows if r.fault == fault]
        for tool in TOOLS:
            parts = []
            for version in VERSIONS:
                r = by_key.get((fault, tool, version))
                if r is not None:
                    mark = "" if not r.problems else " ✗"
                    parts.append(f"{r.retries}r {r.seconds:.1f}s{mark}")
            cells.append(" / ".join(parts))
        retries = sorted({r.retries for r in mine if r.retries is not None})
        span = f"{retries[0]}–{retries[-1]}" if len(retries) > 1 else str(retries[0]) if retries else "-"
        worst = max(r.seconds for r in mine)
        crashes = sum(r.crashed for r in mine)
        lines.append(f"| {fault} | " + " | ".join(cells) + f" | {span} | {worst:.2f} | {crashes} |")
    total = len(rows)
    crashes = sum(r.crashed for r in rows)
    failed = sum(bool(r.problems) for r in rows)
    lines.append("")
    lines.append(
        f"{total} calls (cells: v2 / v1, retries made and seconds); {crashes} crashes; {failed} with problems; "
        f"worst {max((r.seconds for r in rows), default=0):.2f}s (call deadline {CALL_DEADLINE_S}s, "
        f"wait_for_task {_deadline('wait_for_task')}s)."
    )
    return "\n".join(lines)


class _MatrixReport:
    """Prints the matrix in pytest's terminal summary (not subject to output capture)."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not MATRIX:
            return
        table = matrix_markdown(MATRIX)
        terminalreporter.section("fault matrix (tests/reliability/test_faults.py)")
        for line in table.splitlines():
            terminalreporter.write_line(line)
        out = os.environ.get("FAULT_MATRIX_OUT")
        if out:
            with open(out, "w", encoding="utf-8") as handle:
                handle.write(table + "\n")


@pytest.fixture(scope="module", autouse=True)
def _report_matrix(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    if not manager.has_plugin("fault-matrix-report"):
        manager.register(_MatrixReport(), "fault-matrix-report")
