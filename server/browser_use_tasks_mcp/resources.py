"""MCP resources: step logs, single steps, screenshots, the GIF, the execution log, files.

Resource reads that fail raise `ResourceError` with the same model-facing sentence a
tool would give; the SDK turns it into a JSON-RPC error and keeps serving.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from . import render
from .errors import NotAvailableError, TasksError
from .inspector import MAX_IMAGE_BYTES, Inspector
from .tools import app_state
from .untrusted import sanitize

T = TypeVar("T")


async def _read(ctx: Context[Any, Any], work: Callable[[Inspector], Awaitable[T]]) -> T:
    state = app_state(ctx)
    try:
        with anyio.fail_after(state.call_deadline_s):
            return await work(state.inspector)
    except TasksError as exc:
        raise ResourceError(f"{exc.title}: {exc.message}") from None
    except TimeoutError:
        raise ResourceError(f"Timed out after {state.call_deadline_s:.0f}s; try again in a moment.") from None


def register_resources(server: MCPServer[Any]) -> None:
    @server.resource(
        "browser-use://tasks/{task_id}/steps",
        name="step-log",
        title="Step log of a task",
        description="Every step of a task as markdown, one section per step (goals, actions, URL, errors).",
        mime_type="text/markdown",
    )
    async def steps_log(task_id: str, ctx: Context[Any, Any]) -> str:
        async def work(inspector: Inspector) -> str:
            return render.render_steps_log(await inspector.get_task(task_id))

        return await _read(ctx, work)

    @server.resource(
        "browser-use://tasks/{task_id}/steps/{step}",
        name="step",
        title="One step of a task",
        description="One step as JSON: goals, memory, actions with parameters, URL, errors, duration, screenshot.",
        mime_type="application/json",
    )
    async def one_step(task_id: str, step: str, ctx: Context[Any, Any]) -> str:
        async def work(inspector: Inspector) -> str:
            task, found = await inspector.get_step(task_id, step)
            return json.dumps(
                # ASCII escapes keep invisible and bidi characters of untrusted text visible as \uXXXX.
                {"task_id": task.id, **found.model_dump(mode="json")},
                ensure_ascii=True,
                indent=1,
            )

        return await _read(ctx, work)

    @server.resource(
        "browser-use://tasks/{task_id}/gif",
        name="gif",
        title="Animated GIF of a run",
        description="The run as an animated GIF: the source's own, or assembled from the step screenshots.",
        mime_type="image/gif",
    )
    async def gif(task_id: str, ctx: Context[Any, Any]) -> bytes:
        async def work(inspector: Inspector) -> bytes:
            _, data = await inspector.gif(task_id)
            return data

        return await _read(ctx, work)

    @server.resource(
        "browser-use://tasks/{task_id}/logs",
        name="execution-log",
        title="Execution log of a task",
        description="The tail of the task's execution log as text (Cloud v2).",
        mime_type="text/plain",
    )
    async def logs(task_id: str, ctx: Context[Any, Any]) -> str:
        async def work(inspector: Inspector) -> str:
            text, cut = await inspector.log_text(task_id)
            # Logs quote pages and the agent: untrusted text, stripped like every tool's text.
            return (f"[log cut: showing the last {len(text)} characters]\n" if cut else "") + sanitize(text)

        return await _read(ctx, work)

    @server.resource(
        "browser-use://tasks/{task_id}/conversations/{step}",
        name="conversation-log",
        title="LLM conversation of one step",
        description="What the agent's LLM was sent and answered at one step, as text (local runs saved with "
        "save_conversation_path; tail-capped).",
        mime_type="text/plain",
    )
    async def conversation(task_id: str, step: str, ctx: Context[Any, Any]) -> str:
        async def work(inspector: Inspector) -> str:
            text, cut = await inspector.conversation_text(task_id, step)
            return (
                f"[conversation cut: showing the last {len(text)} characters]\n" if cut else ""
            ) + sanitize(text)

        return await _read(ctx, work)

    @server.resource(
        "browser-use://tasks/{task_id}/screenshots/{ref}",
        name="screenshot-preview",
        title="Screenshot preview",
        description="A step's screenshot as a WebP preview (long side ≤ 1024 px). `ref` is the step number, or "
        "capture-N for screenshots without one. Append /full for full resolution.",
        mime_type="image/webp",
    )
    async def screenshot_preview(task_id: str, ref: str, ctx: Context[Any, Any]) -> bytes:
        async def work(inspector: Inspector) -> bytes:
            return (await inspector.image(task_id, ref, "preview")).rendered.data

        return await _read(ctx, work)

    @server.resource(
        "browser-use://tasks/{task_id}/screenshots/{ref}/full",
        name="screenshot-full",
        title="Screenshot at full resolution",
        description="A step's screenshot at full resolution as PNG, metadata stripped.",
        mime_type="image/png",
    )
    async def screenshot_full(task_id: str, ref: str, ctx: Context[Any, Any]) -> bytes:
        async def work(inspector: Inspector) -> bytes:
            return (await inspector.image(task_id, ref, "png")).rendered.data

        return await _read(ctx, work)

    @server.resource(
        "browser-use://tasks/{task_id}/files/{name}",
        name="output-file",
        title="Output file of a task",
        description=f"The bytes of a file the agent produced (at most {MAX_IMAGE_BYTES // 2**20} MB).",
        mime_type="application/octet-stream",
    )
    async def output_file(task_id: str, name: str, ctx: Context[Any, Any]) -> bytes:
        async def work(inspector: Inspector) -> bytes:
            content = await inspector.output_file(task_id, name)
            if content.data is None:
                raise NotAvailableError(
                    f"'{content.file.name}' is too large to pass through MCP; get_output_file says where it is."
                )
            return content.data

        return await _read(ctx, work)
