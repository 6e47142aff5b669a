"""`get_task`: one task at a glance, the starting point of every investigation."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult

from .. import apps, render
from ..guard import run_tool
from ..results import TaskResult, task_result
from ..service import TaskService
from .common import TaskId, ToolSpec, bounded, fitted

DESCRIPTION = (
    "Get one Browser Use task: status, whether it succeeded (agent and judge), the final output, cost, "
    "timings, LLM, a bounded step summary (first, failing and last steps), output files and where the "
    "media is. Use this first when asked about a task or why it failed; then `get_step` for one step "
    "in full, `list_screenshots`/`get_gif` to see pages, `get_media` for recordings, logs and files.\n"
    'Example: get_task(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6")'
)


async def get_task(task_id: TaskId, ctx: Context[Any, Any]) -> Annotated[CallToolResult, TaskResult]:
    async def work(service: TaskService) -> CallToolResult:
        task = await service.get_task(task_id)
        # A cached task is rendered once: repeated reads cost a lookup, not a re-render.
        text = service.memo(task, "get_task:text", lambda: render.render_task(task))
        structured, cut = service.memo(task, "get_task:structured", lambda: bounded(task_result(task)))
        result = fitted(text, structured, cut)
        if client_supports_apps(ctx):
            # Only for hosts that render the run viewer; `_meta` is for the viewer, never the model.
            result.meta = dict(service.memo(task, "get_task:viewer", lambda: apps.timeline_meta(task)))
        return result

    return await run_tool(ctx, "get_task", work)


TOOL = ToolSpec(get_task, title="Get task", description=DESCRIPTION, meta=apps.TOOL_META)
