"""`get_media`: everything downloadable for a task besides screenshots."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult

from .. import render, uris
from ..guard import run_tool
from ..results import MediaResult
from ..service import TaskService
from .common import TaskId, ToolSpec, result

DESCRIPTION = (
    "List everything downloadable for a task besides screenshots: session recordings (mp4/webm), the "
    "execution log, conversation logs (local runs), output files with download links, and the GIF "
    "resource. Links are presigned and expire; call again for fresh ones.\n"
    'Example: get_media(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6")'
)


async def get_media(task_id: TaskId, ctx: Context[Any, Any]) -> Annotated[CallToolResult, MediaResult]:
    async def work(service: TaskService) -> CallToolResult:
        task, bundle = await service.get_media(task_id)
        structured = MediaResult(
            task_id=task.id,
            task_status=task.status,
            recordings=bundle.recordings,
            logs=bundle.logs,
            conversations=bundle.conversations,
            output_files=bundle.output_files,
            gif_resource_uri=uris.gif(task.id),
            source_gif=bundle.gif,
            notes=bundle.notes,
        )
        text = render.render_media(task, bundle, links_expire=service.capabilities_for(task).links_expire)
        return result(text, structured)

    return await run_tool(ctx, "get_media", work)


TOOL = ToolSpec(get_media, title="Get media", description=DESCRIPTION)
