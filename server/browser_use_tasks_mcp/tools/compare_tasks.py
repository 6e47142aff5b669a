"""`compare_tasks`: where two runs of a task part, with both screenshots at that point."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ContentBlock
from pydantic import Field

from ..across.align import align, same_instruction
from ..errors import InvalidInputError, NoScreenshotError, TasksError
from ..guard import run_tool
from ..models import Task
from ..results import CompareResult, CompareSide, ImageAttachment, SkippedImage, step_summary
from ..service import TaskService
from ..state import AppState, app_state
from .common import ToolSpec, attachment, image_block, result

DESCRIPTION = (
    "Compare two runs step by step, e.g. one that worked with one that failed: aligns their steps by "
    "action and page (tolerant of inserted or skipped steps), names the first step where they part, "
    "shows what each did there and attaches both screenshots at that point as previews, then lists "
    "steps only in one run, where they meet again, and both final outputs. With a runs folder set "
    "beside a Cloud source, `local:<run id>` names a local run.\n"
    'Example: compare_tasks(task_a="order-blue-widget", task_b="blue-widget-order-timeout")'
)
MAX_SEGMENTS = 200
LOCAL_PREFIX = "local:"

TaskRef = Annotated[
    str,
    Field(
        description="A task id as listed by `list_tasks`; `local:<run id>` for a local run when the server "
        "reads the Cloud and a runs folder is set too.",
        max_length=210,
    ),
]


def _pick(state: AppState, service: TaskService, ref: str) -> tuple[TaskService, str]:
    """The service that holds `ref`, and the id to ask it for.

    `service` is the one this request is answered with (with per-user keys, the user's own), never
    simply the server's.
    """
    if not ref.startswith(LOCAL_PREFIX):
        return service, ref
    run_id = ref.removeprefix(LOCAL_PREFIX)
    if service.source.kind == "local":
        return service, run_id
    if state.local is None:
        raise InvalidInputError(
            "`local:` names a local run, but no runs folder is set beside the Cloud source. Set "
            "BROWSER_USE_RUNS_DIR and BROWSER_USE_SOURCE=cloud, then restart the server."
        )
    return state.local, run_id


async def _screenshot(
    service: TaskService, task: Task, step: int | None, label: str
) -> tuple[str, ImageAttachment | None, SkippedImage | None, list[ContentBlock]]:
    # The comparison's text loads with the first comparison, not at start-up.
    from ..render import across as shown_across

    if step is None:
        return "", None, None, []
    try:
        image = await service.image(task.id, step, "preview")
    except NoScreenshotError:
        note = shown_across.compare_screenshot_missing(label, step, None)
        return note, None, SkippedImage(step=step, reason="no screenshot"), []
    except TasksError as exc:
        note = shown_across.compare_screenshot_missing(label, step, exc.message)
        return note, None, SkippedImage(step=step, reason=exc.message), []
    shown = image.rendered
    note = shown_across.compare_screenshot_attached(label, step, shown.width, shown.height)
    return note, attachment(image.screenshot, shown, "preview"), None, [image_block(shown)]


def _side(task: Task, ref: str, step: int | None) -> CompareSide:
    return CompareSide(
        task_id=ref,
        source=task.source,
        status=task.status,
        is_success=task.is_success,
        judge_verdict=task.judgement.verdict if task.judgement else None,
        step_count=len(task.steps),
        output=task.output or task.last_action_result,
        parting_step=step_summary(found) if step is not None and (found := task.step(step)) else None,
    )


async def compare_tasks(
    task_a: TaskRef, task_b: TaskRef, ctx: Context[Any, Any]
) -> Annotated[CallToolResult, CompareResult]:
    async def work(service: TaskService) -> CallToolResult:
        # The comparison's text loads with the first comparison, not at start-up.
        from ..render.across import render_compare

        state = app_state(ctx)
        (service_a, id_a), (service_b, id_b) = _pick(state, service, task_a), _pick(state, service, task_b)
        a, b = await service_a.get_task(id_a), await service_b.get_task(id_b)
        alignment = align(a, b)
        parting = alignment.parting
        text = render_compare(a, b, alignment, same_instruction(a.task, b.task), refs=(task_a, task_b))
        images: list[ImageAttachment] = []
        skipped: list[SkippedImage] = []
        blocks: list[ContentBlock] = []
        for label, svc, task, step in (
            ("A", service_a, a, parting.screenshot_a if parting else None),
            ("B", service_b, b, parting.screenshot_b if parting else None),
        ):
            note, image, skip, shown = await _screenshot(svc, task, step, label)
            text += note
            images += [image] if image else []
            skipped += [skip] if skip else []
            blocks += shown
        structured = CompareResult(
            a=_side(a, task_a, parting.a_step if parting else None),
            b=_side(b, task_b, parting.b_step if parting else None),
            same_instruction=same_instruction(a.task, b.task),
            alignment=alignment.model_copy(update={"segments": alignment.segments[:MAX_SEGMENTS]}),
            segments_truncated=len(alignment.segments) > MAX_SEGMENTS,
            images=images,
            skipped=skipped,
        )
        return result(text, structured, *blocks)

    return await run_tool(ctx, "compare_tasks", work)


TOOL = ToolSpec(compare_tasks, title="Compare two tasks", description=DESCRIPTION)
