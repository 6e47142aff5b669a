"""`list_tasks`: tasks newest first, one page at a time, to find a task id."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from .. import render
from ..guard import run_tool
from ..results import TaskListResult
from ..service import TaskService
from .common import ToolSpec, result

DESCRIPTION = (
    "List tasks newest first, optionally only those with one status (created, running, paused, "
    "finished, failed, stopped), one page at a time. Use it to find a task id.\n"
    'Example: list_tasks(status="failed", page=1, page_size=10)'
)


async def list_tasks(
    ctx: Context[Any, Any],
    status: Annotated[
        Literal["created", "running", "paused", "finished", "failed", "stopped"] | None,
        Field(description="Only tasks with this status."),
    ] = None,
    page: Annotated[int, Field(description="Page number, from 1.", ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Field(description="Tasks per page, 1-100.", ge=1, le=100)] = 10,
) -> Annotated[CallToolResult, TaskListResult]:
    async def work(service: TaskService) -> CallToolResult:
        found = await service.list_tasks(status=status, page=page, page_size=page_size)
        structured = TaskListResult(
            page=found, has_more=found.has_more, next_page=found.page + 1 if found.has_more else None
        )
        return result(render.render_task_page(found, status), structured)

    return await run_tool(ctx, "list_tasks", work)


TOOL = ToolSpec(list_tasks, title="List tasks", description=DESCRIPTION)
