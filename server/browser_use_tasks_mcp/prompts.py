"""Prompts: ready-made requests a user can pick in their client (debug a task, summarize it)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.prompts.base import Message, UserMessage
from mcp_types import ImageContent, TextContent
from pydantic import Field

from . import render
from .errors import TasksError
from .inspector import Inspector
from .models import Task
from .tools import app_state
from .untrusted import clean_line

MAX_PROMPT_IMAGES = 3

TaskIdArg = Annotated[str, Field(description="A task id, as listed by `list_tasks`.")]


def _failure_focus(task: Task) -> list[int]:
    """Steps worth looking at: the first failing one and its neighbours, else the last steps."""
    failing = [s.number for s in task.steps if s.errors]
    numbers = [s.number for s in task.steps]
    if failing:
        index = numbers.index(failing[0])
        return numbers[max(0, index - 1) : index + 2]
    return numbers[-2:]


async def _screenshots(inspector: Inspector, task: Task, steps: list[int]) -> list[Message]:
    messages: list[Message] = []
    for number in steps:
        step = task.step(number)
        if step is None or step.screenshot is None or len(messages) >= MAX_PROMPT_IMAGES:
            continue
        try:
            image = await inspector.image(task.id, number, "preview")
        except TasksError:
            continue
        data = base64.b64encode(image.rendered.data).decode("ascii")
        messages.append(UserMessage(TextContent(type="text", text=f"Screenshot of step {number}:")))
        messages.append(
            UserMessage(ImageContent(type="image", data=data, mime_type=image.rendered.mime_type))
        )
    return messages


async def _debug_messages(inspector: Inspector, task_id: str) -> list[Message]:
    task = await inspector.get_task(task_id)
    focus = _failure_focus(task)
    messages: list[Message] = [
        UserMessage(
            "Debug this Browser Use agent run. Here is the task as the server reports it; the step details "
            "and screenshots around the first failure follow."
        ),
        UserMessage(render.render_task(task)),
    ]
    for number in focus:
        step = task.step(number)
        if step is not None:
            messages.append(UserMessage(render.render_step(task, step)))
    messages += await _screenshots(inspector, task, focus)
    messages.append(
        UserMessage(
            "Diagnose the run: (1) what the agent was trying to do, (2) the first step where it went wrong "
            "and the evidence for that (quote the step and describe the screenshot), (3) the root cause "
            "(page, agent reasoning, task wording, or infrastructure), and (4) a concrete change to the "
            "task prompt or agent settings that would avoid it. Use the server's tools (get_step, "
            "list_screenshots, get_media) if you need more."
        )
    )
    return messages


def register_prompts(server: MCPServer[Any]) -> None:
    @server.prompt(
        title="Debug a Browser Use task",
        description="Gather a task, its failing steps and the screenshots around the failure, and ask for a "
        "diagnosis with a concrete fix.",
    )
    async def debug_task(task_id: TaskIdArg, ctx: Context[Any, Any]) -> list[Message]:
        state = app_state(ctx)
        try:
            with anyio.fail_after(state.call_deadline_s):
                return await _debug_messages(state.inspector, task_id)
        except TasksError as exc:
            return [
                UserMessage(
                    f"I wanted to debug Browser Use task {clean_line(task_id, 80)}, but: {exc.message}"
                )
            ]
        except TimeoutError:
            return [
                UserMessage(
                    f"I wanted to debug Browser Use task {clean_line(task_id, 80)}, but it timed out."
                )
            ]

    @server.prompt(
        title="Summarize a Browser Use task",
        description="Summarize what the agent did, step by step, and whether it achieved the task.",
    )
    async def summarize_task(task_id: TaskIdArg, ctx: Context[Any, Any]) -> list[Message]:
        state = app_state(ctx)
        try:
            with anyio.fail_after(state.call_deadline_s):
                task = await state.inspector.get_task(task_id)
        except TasksError as exc:
            return [
                UserMessage(
                    f"I wanted to summarize Browser Use task {clean_line(task_id, 80)}, but: {exc.message}"
                )
            ]
        except TimeoutError:
            return [
                UserMessage(
                    f"I wanted to summarize Browser Use task {clean_line(task_id, 80)}, but it timed out."
                )
            ]
        return [
            UserMessage(render.render_task(task)),
            UserMessage(
                "Summarize this Browser Use run for a colleague in at most 8 bullet points: the goal, the main "
                "steps, anything that went wrong, and the final result. Say plainly whether it succeeded."
            ),
        ]
