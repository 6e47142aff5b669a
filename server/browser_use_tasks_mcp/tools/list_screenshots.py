"""`list_screenshots`: the screenshots of a task by step, optionally some attached as previews."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ContentBlock
from pydantic import Field

from .. import render, uris
from ..errors import TasksError
from ..guard import run_tool
from ..ids import coerce_int
from ..models import Screenshot
from ..results import MAX_STRUCTURED_SCREENSHOTS, ImageAttachment, ScreenshotsResult, SkippedImage
from ..service import TaskService
from .common import Resolution, TaskId, ToolSpec, attachment, image_block, link, result

DEFAULT_MAX_IMAGES = 4
MAX_IMAGES = 10
MAX_LINKS = 10

DESCRIPTION = (
    "List the screenshots of a task with their step numbers and resource URIs (steps without one are "
    "counted). Optionally attach some as images: `steps=[3, 7]` with `include_images=true` attaches "
    "previews of those steps (at most `max_images`, default 4). Use it to see what the page looked like.\n"
    'Example: list_screenshots(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", steps=[6, 7], '
    "include_images=true)"
)


async def list_screenshots(
    task_id: TaskId,
    ctx: Context[Any, Any],
    steps: Annotated[
        list[int] | None, Field(description="Only these step numbers (default: all).", max_length=200)
    ] = None,
    include_images: Annotated[bool, Field(description="Attach the chosen screenshots as images.")] = False,
    resolution: Resolution = "preview",
    max_images: Annotated[
        int, Field(description="Most images to attach (1-10).", ge=1, le=MAX_IMAGES)
    ] = DEFAULT_MAX_IMAGES,
) -> Annotated[CallToolResult, ScreenshotsResult]:
    async def work(service: TaskService) -> CallToolResult:
        # Refuse bad step numbers before any request.
        numbers = {coerce_int(s, what="steps[]", minimum=0, maximum=1_000_000) for s in steps or []}
        task, shots = await service.list_screenshots(task_id)
        wanted = [s for s in shots if s.step in numbers] if steps else shots
        missing = sorted(numbers - {s.step for s in wanted if s.step is not None})
        skipped = [SkippedImage(step=n, reason="no screenshot for this step") for n in missing]
        attached: list[ImageAttachment] = []
        blocks: list[ContentBlock] = []
        if include_images:
            attached, not_attached, blocks = await _attach(
                service, task.id, shots, wanted[:max_images], resolution
            )
            skipped += not_attached
            skipped += [
                SkippedImage(step=s.step, reason=f"over the limit of {max_images} images per call")
                for s in wanted[max_images:]
            ]
        else:
            blocks = [
                link(s.resource_uri, f"screenshot step {s.step}", "image/webp")
                for s in wanted[:MAX_LINKS]
                if s.resource_uri
            ]
        without = service.steps_without_screenshot(task)
        text = render.render_screenshots(
            task,
            wanted,
            without=without,
            attached=[render.image_label(a.step, a.width, a.height, a.size_bytes, a.parts) for a in attached],
            skipped=[f"step {s.step}: {s.reason}" for s in skipped],
            links_expire=service.capabilities_for(task).links_expire,
        )
        structured = ScreenshotsResult(
            task_id=task.id,
            total=len(shots),
            screenshots=wanted[:MAX_STRUCTURED_SCREENSHOTS],
            screenshots_truncated=len(wanted) > MAX_STRUCTURED_SCREENSHOTS,
            steps_without_screenshot=without,
            attached=attached,
            skipped=skipped,
        )
        return result(text, structured, *blocks)

    return await run_tool(ctx, "list_screenshots", work)


async def _attach(
    service: TaskService,
    task_id: str,
    shots: list[Screenshot],
    chosen: list[Screenshot],
    resolution: Resolution,
) -> tuple[list[ImageAttachment], list[SkippedImage], list[ContentBlock]]:
    """Previews of the chosen screenshots, and why each one that could not be had was skipped."""
    attached: list[ImageAttachment] = []
    skipped: list[SkippedImage] = []
    blocks: list[ContentBlock] = []
    for shot in chosen:
        try:
            image = await service.image(task_id, uris.screenshot_ref(shot, shots.index(shot)), resolution)
        except TasksError as exc:
            skipped.append(SkippedImage(step=shot.step, reason=exc.message))
            continue
        attached.append(attachment(shot, image.rendered, resolution))
        blocks.append(image_block(image.rendered))
    return attached, skipped, blocks


TOOL = ToolSpec(list_screenshots, title="List screenshots", description=DESCRIPTION)
