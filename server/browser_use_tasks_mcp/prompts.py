"""Prompts: ready-made requests a user can pick in their client (debug a task, summarize it)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.prompts.base import Message, UserMessage
from mcp_types import ImageContent, TextContent
from pydantic import Field

from . import render
from .errors import TasksError
from .guard import run_prompt
from .models import Task
from .selection import focus_steps
from .service import TaskService
from .untrusted import clean_line

MAX_PROMPT_IMAGES = 3
#: Seconds `debug_task` spends looking for a successful run of the same instruction.
TWIN_BUDGET_S = 5.0

TaskIdArg = Annotated[str, Field(description="A task id, as listed by `list_tasks`.")]

DIAGNOSE = (
    "Diagnose the run: (1) what the agent was trying to do, (2) the first step where it went wrong "
    "and the evidence for that (quote the step and describe the screenshot), (3) the root cause "
    "(page, agent reasoning, task wording, or infrastructure), and (4) a concrete change to the "
    "task prompt or agent settings that would avoid it. Use the server's tools (get_step, "
    "list_screenshots, get_media) if you need more."
)
SUMMARIZE = (
    "Summarize this Browser Use run for a colleague in at most 8 bullet points: the goal, the main "
    "steps, anything that went wrong, and the final result. Say plainly whether it succeeded."
)


async def _screenshots(service: TaskService, task: Task, steps: list[int]) -> list[Message]:
    messages: list[Message] = []
    # Where screenshots are kept apart from steps, a step without one may still have one listed.
    apart = not service.capabilities.screenshots_on_steps
    for number in steps:
        step = task.step(number)
        if step is None or (step.screenshot is None and not apart) or len(messages) >= 2 * MAX_PROMPT_IMAGES:
            continue
        try:
            image = await service.image(task.id, number, "preview")
        except TasksError:
            continue
        data = base64.b64encode(image.rendered.data).decode("ascii")
        messages.append(UserMessage(TextContent(type="text", text=f"Screenshot of step {number}:")))
        messages.append(
            UserMessage(ImageContent(type="image", data=data, mime_type=image.rendered.mime_type))
        )
    return messages


async def _comparison(service: TaskService, task: Task) -> list[Message]:
    """For a failed run: where it parts from a recent successful run of the same instruction, if one exists."""
    if not (
        task.status == "failed"
        or task.is_success is False
        or (task.judgement and task.judgement.verdict is False)
    ):
        return []
    # The scan and the comparison's text load with the first failed run debugged, not at start-up.
    from .across.align import align
    from .across.scan import successful_twin
    from .render.across import render_compare

    try:
        twin = await successful_twin(service, task, TWIN_BUDGET_S)
        if twin is None:
            return []
        worked = await service.get_task(twin.id)
    except TasksError:
        return []  # the diagnosis stands without it
    alignment = align(worked, task)
    return [
        UserMessage(
            f"A recent run of the same instruction succeeded ({worked.id}). Here is how the two compare (A: the "
            "run that worked, B: this run); where they part is the first place to look. "
            f"For both screenshots there: {render.call('compare_tasks', task_a=worked.id, task_b=task.id)}."
        ),
        UserMessage(render_compare(worked, task, alignment, True, refs=(worked.id, task.id))),
    ]


async def debug_task(task_id: TaskIdArg, ctx: Context[Any, Any]) -> list[Message]:
    async def work(service: TaskService) -> list[Message]:
        task = await service.get_task(task_id)
        focus = focus_steps(task)
        messages: list[Message] = [
            UserMessage(
                "Debug this Browser Use agent run. Here is the task as the server reports it; the step details "
                "and screenshots around the first failure follow."
            ),
            UserMessage(render.render_task(task)),
        ]
        messages += [
            UserMessage(render.render_step(task, s)) for n in focus if (s := task.step(n)) is not None
        ]
        messages += await _screenshots(service, task, focus)
        messages += await _comparison(service, task)
        return [*messages, UserMessage(DIAGNOSE)]

    return await run_prompt(ctx, "debug_task", work, failed=_failed("debug", task_id))


async def summarize_task(task_id: TaskIdArg, ctx: Context[Any, Any]) -> list[Message]:
    async def work(service: TaskService) -> list[Message]:
        task = await service.get_task(task_id)
        return [UserMessage(render.render_task(task)), UserMessage(SUMMARIZE)]

    return await run_prompt(ctx, "summarize_task", work, failed=_failed("summarize", task_id))


def _failed(verb: str, task_id: str) -> Callable[[str], list[Message]]:
    def message(reason: str) -> list[Message]:
        return [UserMessage(f"I wanted to {verb} Browser Use task {clean_line(task_id, 80)}, but: {reason}")]

    return message


def register_prompts(server: MCPServer[Any]) -> None:
    server.prompt(
        title="Debug a Browser Use task",
        description="Gather a task, its failing steps and the screenshots around the failure (and, for a failed "
        "run, where it parts from a recent successful run of the same instruction), and ask for a diagnosis "
        "with a concrete fix.",
    )(debug_task)
    server.prompt(
        title="Summarize a Browser Use task",
        description="Summarize what the agent did, step by step, and whether it achieved the task.",
    )(summarize_task)
