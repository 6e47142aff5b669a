"""`wait_for_task`: poll a running task's cheap status until it ends or the wait runs out."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from .. import render
from ..guard import run_tool
from ..models import TaskStatusInfo, is_terminal
from ..results import StatusResult
from ..service import TaskService
from ..state import app_state
from .common import TaskId, ToolSpec, result

MAX_WAIT_S = 50.0
WAIT_SLACK_S = 8.0  # MAX_WAIT_S + WAIT_SLACK_S stays under the 60 s many clients wait
POLL_INTERVALS_S = (1.0, 1.0, 2.0, 3.0, 5.0)

DESCRIPTION = (
    "Wait until a running task finishes, polling its cheap status, and return its final status and "
    "output. Returns early when the task ends; after `timeout_s` (default 30, at most 50, so the call "
    "stays within client time limits) it answers 'still running, call again'. Sends progress "
    "notifications when the client asks for progress.\n"
    'Example: wait_for_task(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", timeout_s=30)'
)


async def wait_for_task(
    task_id: TaskId,
    ctx: Context[Any, Any],
    timeout_s: Annotated[
        float, Field(description="Longest wait in seconds (1-50).", ge=1, le=MAX_WAIT_S)
    ] = 30,
) -> Annotated[CallToolResult, StatusResult]:
    budget = float(timeout_s)  # 1-50, bounded by the schema

    async def work(service: TaskService) -> CallToolResult:
        started = anyio.current_time()
        polls = 0
        while True:
            status = await service.get_status(task_id)
            waited = anyio.current_time() - started
            polls += 1
            steps = f", {status.step_count} steps" if status.step_count is not None else ""
            await ctx.report_progress(min(waited, budget), budget, f"status {status.status}{steps}")
            remaining = budget - waited
            if is_terminal(status.status) or remaining <= 0:
                break
            # Poll fast at first, then every few seconds: status is cheap but not free.
            await anyio.sleep(min(remaining, POLL_INTERVALS_S[min(polls, len(POLL_INTERVALS_S)) - 1]))
        structured = _structured(status, waited)
        return result(render.render_wait(structured), structured)

    # The last poll may still be in flight when the budget runs out: give it the configured
    # call deadline, but never so much that the whole call outlives a 60 s client timeout.
    slack = min(WAIT_SLACK_S, app_state(ctx).call_deadline_s)
    return await run_tool(ctx, "wait_for_task", work, deadline_s=budget + slack)


def _structured(status: TaskStatusInfo, waited: float) -> StatusResult:
    finished = is_terminal(status.status)
    return StatusResult(
        task_id=status.id,
        status=status.status,
        raw_status=status.raw_status,
        is_success=status.is_success,
        finished=finished,
        output=status.output,
        step_count=status.step_count,
        waited_s=round(waited, 2),
        timed_out=not finished,
    )


TOOL = ToolSpec(wait_for_task, title="Wait for a task to finish", description=DESCRIPTION)
