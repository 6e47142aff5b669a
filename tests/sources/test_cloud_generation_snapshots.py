"""What every tool answers on Cloud v3 (sessions), v4 (runs) and `auto` (v4, v3 and v2 with one
key), as reviewed snapshots.

The per-tool files under tests/tools/ snapshot local, v2 and v1; these cases add v3, v4 and auto
under the same names (`tests/snapshots/<tool>/<version>-<case>.md` and `.json`). Regenerate
with `UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/sources/test_cloud_generation_snapshots.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator import (
    EXPIRED_SCREENSHOT_TASK,
    FAILED_TASK,
    FILES_TASK,
    FINISHED_TASK,
    NO_SCREENSHOTS_TASK,
    RUNNING_TASK,
    UNKNOWN_ID,
    Emulator,
)
from tests.tools.common import FAILING_STEP, cloud_source, snapshot_call

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _cases() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for version in ("v3", "v4"):
        failing = FAILING_STEP[version]
        yield version, "list_tasks", "page-1", {"page_size": 5}
        yield version, "list_tasks", "page-2", {"page": 2, "page_size": 5}
        yield version, "list_tasks", "failed", {"status": "failed"}
        yield version, "get_task", "finished", {"task_id": FINISHED_TASK}
        yield version, "get_task", "failed", {"task_id": FAILED_TASK}
        yield version, "get_task", "running", {"task_id": RUNNING_TASK}
        yield version, "get_task", "not-found", {"task_id": UNKNOWN_ID}
        yield version, "get_step", "failed-step", {"task_id": FAILED_TASK, "step": failing}
        yield version, "get_step", "unknown-type", {"task_id": RUNNING_TASK, "step": 6}
        yield (
            version,
            "get_step",
            "expired-screenshot",
            {"task_id": EXPIRED_SCREENSHOT_TASK, "step": failing - 1, "include_screenshot": True},
        )
        yield version, "list_screenshots", "finished", {"task_id": FINISHED_TASK}
        yield version, "list_screenshots", "no-screenshots", {"task_id": NO_SCREENSHOTS_TASK}
        yield version, "get_gif", "finished", {"task_id": FINISHED_TASK}
        yield version, "get_media", "files", {"task_id": FILES_TASK}
        yield version, "get_media", "finished", {"task_id": FINISHED_TASK}
        yield version, "get_output_file", "csv", {"task_id": FILES_TASK, "file": "sales_q1_q4.csv"}
        yield version, "get_output_file", "missing", {"task_id": FILES_TASK, "file": "nope.csv"}
        yield version, "wait_for_task", "finished", {"task_id": FINISHED_TASK}
    # auto: each task lives in one generation (tests.tools.common.AUTO_OWNERS): FINISHED_TASK in
    # v3, FAILED_TASK in v4, FILES_TASK and RUNNING_TASK in v2; the listing merges all three.
    yield "auto", "list_tasks", "page-1", {"page_size": 8}
    yield "auto", "list_tasks", "page-2", {"page": 2, "page_size": 8}
    yield "auto", "list_tasks", "failed", {"status": "failed"}
    yield "auto", "get_task", "finished-in-v3", {"task_id": FINISHED_TASK}
    yield "auto", "get_task", "failed-in-v4", {"task_id": FAILED_TASK}
    yield "auto", "get_task", "running-in-v2", {"task_id": RUNNING_TASK}
    yield "auto", "get_task", "not-found", {"task_id": UNKNOWN_ID}
    yield "auto", "get_step", "failed-step-in-v4", {"task_id": FAILED_TASK, "step": FAILING_STEP["v4"]}
    yield "auto", "list_screenshots", "finished-in-v3", {"task_id": FINISHED_TASK}
    yield "auto", "get_gif", "finished-in-v3", {"task_id": FINISHED_TASK}
    yield "auto", "get_media", "files-in-v2", {"task_id": FILES_TASK}
    yield "auto", "get_output_file", "csv-in-v2", {"task_id": FILES_TASK, "file": "sales_q1_q4.csv"}
    yield "auto", "wait_for_task", "finished-in-v3", {"task_id": FINISHED_TASK}


CASES = list(_cases())


@pytest.mark.parametrize(
    ("version", "tool", "case", "args"), CASES, ids=[f"{t}-{v}-{c}" for v, t, c, _ in CASES]
)
async def test_snapshot(
    fresh_emulator: Emulator, version: str, tool: str, case: str, args: dict[str, Any]
) -> None:
    await snapshot_call(cloud_source(fresh_emulator, version), tool, args, f"{tool}/{version}-{case}")
