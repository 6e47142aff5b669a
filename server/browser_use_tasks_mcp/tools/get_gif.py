"""`get_gif`: the run as an animated GIF resource, optionally with key frames as previews."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ContentBlock
from pydantic import Field

from .. import gif, render
from ..guard import run_tool
from ..results import GifResult
from ..service import TaskService
from .common import TaskId, ToolSpec, image_block, link, result

DESCRIPTION = (
    "Get an animated GIF of the run: the source's own GIF when it has one, otherwise one assembled from "
    "the step screenshots (in step order, each frame captioned with its step and goal). Returns its "
    "resource URI, frame count and size; the GIF itself is read from the resource. With "
    "`include_preview=true`, key frames (first, failing, last) are attached as image previews.\n"
    'Example: get_gif(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", include_preview=true)'
)


async def get_gif(
    task_id: TaskId,
    ctx: Context[Any, Any],
    include_preview: Annotated[bool, Field(description="Attach key frames as image previews.")] = False,
) -> Annotated[CallToolResult, GifResult]:
    async def work(service: TaskService) -> CallToolResult:
        blocks: list[ContentBlock] = []
        if include_preview:
            info, previews = await gif.key_frames(service, task_id)
            blocks = [image_block(rendered) for _, rendered in previews]
        else:
            info, _ = await gif.gif(service, task_id)
        gif_link = link(info.resource_uri, f"GIF of task {info.task_id}", "image/gif", info.size_bytes)
        return result(render.render_gif(info), info, *blocks, gif_link)

    return await run_tool(ctx, "get_gif", work)


TOOL = ToolSpec(get_gif, title="Get the GIF of a run", description=DESCRIPTION)
