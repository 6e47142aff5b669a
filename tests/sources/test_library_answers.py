"""The local source agrees with the browser-use library itself on every bundled run.

`tests/fixtures/expected_library_answers.json` holds what `AgentHistoryList` answered for each
run (written by `scripts/record_example_runs.py answers`); the server must read the same facts.
"""

from __future__ import annotations

import itertools
import json
import re

import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.sources.local import LocalRunsSource
from tests.helpers import REPO

pytestmark = pytest.mark.anyio
ANSWERS = json.loads((REPO / "tests" / "fixtures" / "expected_library_answers.json").read_text())
#: How the server words a failure the next step judged (the library has no such error).
JUDGED = re.compile(r"^Step \d+ judged it: ")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_every_bundled_run_has_library_answers() -> None:
    runs = {p.name for p in BUNDLED_RUNS_DIR.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert runs == set(ANSWERS)


@pytest.mark.parametrize("run", sorted(ANSWERS))
async def test_local_source_matches_the_library(run: str) -> None:
    expected = ANSWERS[run]
    task = await LocalRunsSource(BUNDLED_RUNS_DIR).get_task(run)
    assert task.output == expected["final_result"]
    assert (task.raw_status == "done") is expected["is_done"]
    assert task.is_success == expected["is_successful"]
    assert len(task.steps) == expected["number_of_steps"]
    # The library's errors() are what actions reported; the server also counts a step the next one
    # judged failed (one rule on every source), after those.
    reported = [[e for e in s.errors if not JUDGED.match(e)] for s in task.steps]
    assert [r[0] if r else None for r in reported] == expected["errors"]
    judged = [s.number for s in task.steps if any(JUDGED.match(e) for e in s.errors)]
    assert judged == [
        s.number
        for s, after in itertools.pairwise(task.steps)
        if (after.evaluation_previous_goal or "").startswith("Failed")
    ]
    assert [s.url or "" for s in task.steps] == expected["urls"]
    total = sum(s.duration_s or 0.0 for s in task.steps)
    assert total == pytest.approx(expected["total_duration_seconds"], abs=0.05)
    # The run's own duration is the library's: the sum of step durations, not last end - first start.
    assert task.duration_s == pytest.approx(expected["total_duration_seconds"], abs=0.05)
    expected_shots = [p is not None for p in expected["screenshot_paths"]]
    assert [s.screenshot is not None for s in task.steps] == expected_shots
    assert [a.name for s in task.steps for a in s.actions] == expected["action_names"]
    if expected["is_judged"]:
        assert task.judgement is not None
        assert task.judgement.verdict == expected["judgement"]["verdict"]
    expected_status = (
        "finished" if expected["is_done"] and expected["is_successful"] is not False else "failed"
    )
    assert task.status == expected_status
