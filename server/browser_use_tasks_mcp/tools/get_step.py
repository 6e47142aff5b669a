"""`get_step`: one step in full, optionally with its screenshot."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ContentBlock
from pydantic import Field

from .. import render, uris
from ..errors import NoScreenshotError, TasksError
from ..guard import run_tool
from ..models import Step, Task
from ..results import ImageAttachment, StepResult
from ..service import TaskService
from .common import Resolution, TaskId, ToolSpec, attachment, image_block, link, result

DESCRIPTION = (
    "Get the full record of one step of a task: evaluation of the previous goal, memory, thinking, next "
    "goal, every action with its parameters, extracted results, errors, URL, duration, and the "
    "screenshot. With `include_screenshot=true` the screenshot is attached as an image (a downscaled "
    'preview unless `resolution="full"`). Use it after `get_task` points at a failing step.\n'
    'Example: get_step(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", step=7, include_screenshot=true)'
)


async def get_step(
    task_id: TaskId,
    step: Annotated[int, Field(description="Step number as shown by `get_task` (1 is the first step).")],
    ctx: Context[Any, Any],
    include_screenshot: Annotated[
        bool, Field(description="Attach the step's screenshot as an image.")
    ] = False,
    resolution: Resolution = "preview",
    part: Annotated[
        int,
        Field(
            description="For a page much taller than wide (a full-page screenshot), which square part the "
            "preview shows: 1 is the top; the answer says how many there are.",
            ge=1,
            le=100,
        ),
    ] = 1,
) -> Annotated[CallToolResult, StepResult]:
    async def work(service: TaskService) -> CallToolResult:
        task, found = await service.get_step(task_id, step)
        text = render.render_step(task, found)
        blocks: list[ContentBlock] = []
        image: ImageAttachment | None = None
        if include_screenshot:
            note, image, blocks = await _screenshot(service, task, found, resolution, part)
            text += note
        elif found.screenshot is not None and found.screenshot.resource_uri:
            text += render.screenshot_pointer(task.id, found.number, found.screenshot.resource_uri)
            blocks.append(
                link(found.screenshot.resource_uri, f"screenshot step {found.number}", "image/webp")
            )
        page = uris.page_seen(task.id, found.number) if found.page_seen else None
        if page is not None:
            text += render.page_seen_pointer(page)
            blocks.append(link(page, f"page seen at step {found.number}", "text/plain"))
        structured = StepResult(
            task_id=task.id,
            task_status=task.status,
            step_count=len(task.steps),
            step=found,
            image=image,
            page_seen_uri=page,
        )
        return result(text, structured, *blocks)

    return await run_tool(ctx, "get_step", work)


async def _screenshot(
    service: TaskService, task: Task, step: Step, resolution: Resolution, part: int
) -> tuple[str, ImageAttachment | None, list[ContentBlock]]:
    # Looked up by step rather than on the step itself: some sources keep screenshots apart from steps.
    try:
        image = await service.image(task.id, step.number, resolution, part=part)
    except NoScreenshotError:
        return render.screenshot_not_attached(step.number, None), None, []
    except TasksError as exc:
        return render.screenshot_not_attached(step.number, exc.message), None, []
    shown = image.rendered
    note = render.screenshot_attached(step.number, resolution, shown.width, shown.height, len(shown.data))
    if shown.parts > 1:
        note += render.tall_page_parts(task.id, step.number, shown.part, shown.parts)
    return note, attachment(image.screenshot, shown, resolution), [image_block(shown)]


TOOL = ToolSpec(get_step, title="Get one step", description=DESCRIPTION)
