"""The fault matrix's failures on Cloud v3 and v4: every tool, every emulated fault.

`test_faults.py` measures the retry policy (attempts, Retry-After, deadlines) on v2 and v1;
the HTTP client that applies it is the same for every generation. Here every request to the
generation's API fails the same way while all eight tools are called at once, and each
answer must be an `isError` result with the fault's sentence, no upstream body or key, within
its deadline; with the fault switched off, each tool answers again on the same server.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.emulator import FILES_TASK, FINISHED_TASK, Emulator, run_emulator
from tests.helpers import client_for, cloud_settings, text_of
from tests.reliability.test_faults import CALL_DEADLINE_S, CASES, REQUEST_TIMEOUT_S, SLACK_S, TOOLS, Case

pytestmark = pytest.mark.anyio
WAIT_S = 1.0
EMULATED = [c for c in CASES if c.kind is not None]  # connection refused is the same socket error


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with run_emulator() as running:
        yield running


def arguments(tool: str) -> dict[str, Any]:
    return {
        "list_tasks": {"page_size": 5},
        "get_output_file": {"task_id": FILES_TASK, "file": "sales_q1_q4.csv"},
        "get_step": {"task_id": FINISHED_TASK, "step": 2},
        "wait_for_task": {"task_id": FINISHED_TASK, "timeout_s": WAIT_S},
        "search_tasks": {"scan_limit": 5},
        "task_stats": {"scan_limit": 5},
        "compare_tasks": {"task_a": FINISHED_TASK, "task_b": FINISHED_TASK},
    }.get(tool, {"task_id": FINISHED_TASK})


async def call(client: Client, tool: str) -> tuple[Any, float]:
    started = time.perf_counter()
    result = await client.call_tool(tool, arguments(tool))
    return result, time.perf_counter() - started


def problems_of(case: Case, tool: str, result: Any, seconds: float) -> list[str]:
    text = text_of(result)
    found = []
    if not result.is_error:
        found.append(f"{tool}: not an error: {text[:160]!r}")
    elif not re.search(case.phrase, text):
        found.append(f"{tool}: missing /{case.phrase}/ in {text[:240]!r}")
    found += [f"{tool}: leaked {leak!r}" for leak in case.leaks if leak in text]
    if "Internal error" in text or "Traceback" in text:
        found.append(f"{tool}: crashed")
    limit = CALL_DEADLINE_S + (WAIT_S if tool == "wait_for_task" else 0) + SLACK_S
    if seconds > limit:
        found.append(f"{tool}: took {seconds:.2f}s, limit {limit:.2f}s")
    return found


@pytest.mark.parametrize("version", ["v3", "v4"])
@pytest.mark.parametrize("case", EMULATED, ids=[c.name for c in EMULATED])
async def test_every_tool_fails_cleanly_and_recovers(emu: Emulator, version: str, case: Case) -> None:
    settings = cloud_settings(
        emu.v3_url if version == "v3" else emu.v4_url,
        version=version,
        request_timeout_s=REQUEST_TIMEOUT_S,
        call_deadline_s=CALL_DEADLINE_S,
        max_retries=1,
    )
    answers: dict[str, tuple[Any, float]] = {}
    async with client_for(settings) as client:
        emu.reset()
        fault = emu.faults.add(case.kind, path=f"/api/{version}/", **case.options)  # type: ignore[arg-type]
        try:
            async with anyio.create_task_group() as group:
                for tool in TOOLS:

                    async def one(name: str = tool) -> None:
                        answers[name] = await call(client, name)

                    group.start_soon(one)
        finally:
            emu.faults.remove(fault)
        problems = [p for tool, (r, s) in answers.items() for p in problems_of(case, tool, r, s)]
        for tool in TOOLS:
            again, _ = await call(client, tool)
            if again.is_error:
                problems.append(f"{tool}: no recovery: {text_of(again)[:200]}")
    assert not problems, "\n".join(problems)
