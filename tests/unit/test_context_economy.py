"""Context economy (issue 6): `get_task` on a 500-step task is short yet keeps what a debugger needs.

Also a smoke test of the benchmark command in its quick form.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.emulator import LONG_TASK, Emulator
from tests.helpers import REPO, call_ok, client_for, cloud_settings, text_of

pytestmark = pytest.mark.anyio
MAX_SHARE = 0.03  # the text may be at most 3% of the raw API JSON, in characters


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def failing_steps(raw: dict[str, Any]) -> dict[int, str]:
    """Step number -> the evaluation that judged it, as the seed marks failures.

    v2 steps carry no error field: a step failed when the NEXT step's
    evaluationPreviousGoal starts with "Failed".
    """
    steps = raw["steps"]
    return {
        current["number"]: following["evaluationPreviousGoal"]
        for current, following in pairwise(steps)
        if following["evaluationPreviousGoal"].startswith("Failed")
    }


def step_lines(text: str) -> dict[int, str]:
    """The step summary lines of the rendered task, by step number (`  37. ✗ [click] ...`)."""
    lines: dict[int, str] = {}
    for line in text.splitlines():
        head, dot, _ = line.strip().partition(". ")
        if dot and head.isdigit() and line.strip()[len(head) + 2 : len(head) + 3] in ("✓", "✗"):
            lines[int(head)] = line
    return lines


async def test_get_task_on_a_500_step_task_is_short_and_has_the_facts(fresh_emulator: Emulator) -> None:
    response = httpx2.get(f"{fresh_emulator.v2_url}/tasks/{LONG_TASK}", headers=fresh_emulator.v2_headers)
    response.raise_for_status()
    raw = response.json()
    raw_chars = len(response.text)
    assert len(raw["steps"]) == 500

    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        result = await call_ok(client, "get_task", {"task_id": LONG_TASK})
        steps_log = await client.read_resource(f"browser-use://tasks/{LONG_TASK}/steps")
    text = text_of(result)

    # Short: at most 3% of the raw JSON.
    assert len(text) <= MAX_SHARE * raw_chars, (
        f"{len(text)} chars is {len(text) / raw_chars:.1%} of {raw_chars}"
    )

    # Status and the success verdict.
    assert raw["status"] == "finished" and raw["isSuccess"] is True
    assert f"# Task {LONG_TASK}: finished" in text
    assert "**Agent says success:** yes" in text

    # The final output, verbatim.
    assert raw["output"] in text

    # The last URL.
    last_url = raw["steps"][-1]["url"]
    assert f"**Last URL:** `{last_url}`" in text

    # Every failing step's number with its error, or a way to get the rest.
    failing = failing_steps(raw)
    assert len(failing) == 13  # the seed fails a click every 37 steps: 37, 74, ..., 481
    assert set(failing) == {n for n in range(37, 500, 37)}
    assert f"**Steps:** 500 ({len(failing)} with errors)" in text
    shown = step_lines(text)
    listed = [n for n in failing if n in shown]
    assert listed, "no failing step is listed at all"
    for number in listed:
        line = shown[number]
        assert "✗" in line, line
        assert "error:" in line, line
        # The error is the next step's judgement, cut to fit one line.
        assert failing[number][:60] in line, line
    assert listed == sorted(failing)[: len(listed)], "the listed failing steps are not the first ones"
    left_out = [n for n in failing if n not in shown]
    if left_out:
        # The text must say how to get the rest ...
        assert "failing ones" in text and "more not shown" in text
        assert f'get_step(task_id="{LONG_TASK}"' in text
        assert f"browser-use://tasks/{LONG_TASK}/steps" in text
        # ... and following it must work: the whole step log has every failing step's error.
        log = steps_log.contents[0].text  # type: ignore[union-attr]
        for number in left_out:
            assert failing[number][:60] in log, f"step {number}'s error is missing from the step log"
    # Passing steps are not marked as failing.
    assert all("✓" in line for n, line in shown.items() if n not in failing)


def test_benchmarks_quick_smoke(tmp_path: Path) -> None:
    """`python -m benchmarks --quick` runs end to end and prints the table (about 15-25 s on 2 cores)."""
    output = tmp_path / "quick.json"
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert completed.returncode == 0, completed.stderr[-3000:]
    out = completed.stdout
    assert "| section | metric | measured | baseline | ratio | goal | met? |" in out
    for metric in ("spawn → `tools/list` answered", "`get_task` 100 steps, uncached: median", "LONG_TASK"):
        assert metric in out, metric
    document = json.loads(output.read_text())
    assert document["mode"] == "quick"
    rows = document["rows"]
    assert len(rows) >= 20
    assert all({"metric", "measured", "baseline", "ratio", "goal", "met"} <= set(row) for row in rows)
    economy = next(r for r in rows if "LONG_TASK" in r["metric"])
    assert economy["met"] is True
    assert elapsed < 120
