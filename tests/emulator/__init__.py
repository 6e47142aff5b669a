"""A local emulator of the Browser Use Cloud API (v4, v3, v2 and legacy v1) for tests and benchmarks.

    from tests.emulator import run_emulator, FINISHED_TASK

    with run_emulator() as emu:
        httpx2.get(f"{emu.v2_url}/tasks/{FINISHED_TASK}", headers=emu.v2_headers)

Standalone: ``python -m tests.emulator --port 8765`` prints the base URL and serves.

Seed data: the named tasks (FINISHED_TASK, FAILED_TASK, ..., the V1_* tasks) and their
sessions are JSON files under ``tests/emulator/fixtures/`` (FINISHED_TASK is
``fixtures/tasks/finished.json``; see ``fixtures/README.md`` to add one); LONG_TASK,
HUNDRED_STEP_TASK, MANY_TASKS and BACKLOG_TASKS are generated in ``seed.py``. Cloud v3
sessions (``fixtures/v3-sessions/``) and v4 runs (``fixtures/v4-runs/``) replay named tasks
under the same ids (``emu.v3_url``, ``emu.v4_url``, with ``emu.v2_headers``).
"""

from .faults import Fault, FaultSet
from .requestlog import RequestLog, RequestRecord
from .seed import (
    ANCHOR,
    BACKLOG_TASKS,
    BIDI_CONTROLS,
    CREATED_TASK,
    EXPIRED_SCREENSHOT_TASK,
    FAILED_TASK,
    FILES_TASK,
    FINISHED_TASK,
    HUNDRED_STEP_TASK,
    INJECTION_TEXT,
    LONG_TASK,
    MANY_TASKS,
    NAMED_V2_TASKS,
    NO_SCREENSHOTS_TASK,
    RECORDED_SESSION,
    RUNNING_SESSION,
    RUNNING_TASK,
    SHARED_SESSION,
    STOPPED_TASK,
    UNKNOWN_ID,
    UNTRUSTED_CONTENT_TASK,
    V1_GIF_TASK,
    V1_NO_GIF_TASK,
    V1_NULL_GIF_TASK,
    V1_ONLY_TASKS,
    V1_PAUSED_TASK,
    V1_UNNUMBERED_SCREENSHOTS_TASK,
    ZERO_WIDTH,
    get_seed,
)
from .server import DEFAULT_API_KEY, Emulator, run_emulator

__all__ = [
    "ANCHOR",
    "BACKLOG_TASKS",
    "BIDI_CONTROLS",
    "CREATED_TASK",
    "DEFAULT_API_KEY",
    "EXPIRED_SCREENSHOT_TASK",
    "FAILED_TASK",
    "FILES_TASK",
    "FINISHED_TASK",
    "HUNDRED_STEP_TASK",
    "INJECTION_TEXT",
    "LONG_TASK",
    "MANY_TASKS",
    "NAMED_V2_TASKS",
    "NO_SCREENSHOTS_TASK",
    "RECORDED_SESSION",
    "RUNNING_SESSION",
    "RUNNING_TASK",
    "SHARED_SESSION",
    "STOPPED_TASK",
    "UNKNOWN_ID",
    "UNTRUSTED_CONTENT_TASK",
    "V1_GIF_TASK",
    "V1_NO_GIF_TASK",
    "V1_NULL_GIF_TASK",
    "V1_ONLY_TASKS",
    "V1_PAUSED_TASK",
    "V1_UNNUMBERED_SCREENSHOTS_TASK",
    "ZERO_WIDTH",
    "Emulator",
    "Fault",
    "FaultSet",
    "RequestLog",
    "RequestRecord",
    "get_seed",
    "run_emulator",
]
