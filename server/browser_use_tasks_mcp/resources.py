"""MCP resources: step logs, single steps, screenshots, the GIF, the execution log, files.

Resource reads that fail raise `ResourceError` (through `guard.run_resource`) with the
same sentence a tool would give; the SDK turns it into a JSON-RPC error and keeps serving.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import Context, MCPServer

from . import budget, files, render, uris
from . import gif as gifs
from .errors import NotAvailableError
from .files import MAX_FILE_BYTES, MAX_RECORDING_BYTES
from .guard import run_resource
from .ids import coerce_int
from .service import TaskService
from .untrusted import sanitize


async def steps_log(task_id: str, ctx: Context[Any, Any]) -> str:
    async def work(service: TaskService) -> str:
        return render.render_steps_log(await service.get_task(task_id))

    return await run_resource(ctx, "step-log", work)


async def steps_log_from(task_id: str, start: str, ctx: Context[Any, Any]) -> str:
    async def work(service: TaskService) -> str:
        task = await service.get_task(task_id)
        position = coerce_int(start, what="start", minimum=0, maximum=max(0, len(task.steps)))
        return render.render_steps_log(task, position)

    return await run_resource(ctx, "step-log-from", work)


async def one_step(task_id: str, step: str, ctx: Context[Any, Any]) -> str:
    async def work(service: TaskService) -> str:
        task, found = await service.get_step(task_id, step)
        data, _ = budget.fit(
            {"task_id": task.id, **found.model_dump(mode="json")}, budget.RESOURCE_BUDGET // 2
        )
        # ASCII escapes keep invisible and bidi characters of untrusted text visible as \uXXXX.
        return json.dumps(data, ensure_ascii=True, indent=1)

    return await run_resource(ctx, "step", work)


async def gif(task_id: str, ctx: Context[Any, Any]) -> bytes:
    async def work(service: TaskService) -> bytes:
        return (await gifs.gif(service, task_id))[1]

    return await run_resource(ctx, "gif", work)


async def logs(task_id: str, ctx: Context[Any, Any]) -> str:
    async def work(service: TaskService) -> str:
        text, cut = await files.log_text(service, task_id)
        # Logs quote pages and the agent: untrusted text, stripped like every tool's text.
        return (f"[log cut: showing the last {len(text)} characters]\n" if cut else "") + sanitize(text)

    return await run_resource(ctx, "execution-log", work)


async def conversation(task_id: str, step: str, ctx: Context[Any, Any]) -> str:
    async def work(service: TaskService) -> str:
        text, cut = await files.conversation_text(service, task_id, step)
        return (f"[conversation cut: showing the last {len(text)} characters]\n" if cut else "") + sanitize(
            text
        )

    return await run_resource(ctx, "conversation-log", work)


async def page_seen(task_id: str, step: str, ctx: Context[Any, Any]) -> str:
    async def work(service: TaskService) -> str:
        text, cut = await files.page_seen_text(service, task_id, step)
        note = f"[page view cut: showing the first {len(text)} characters]\n" if cut else ""
        return note + sanitize(text)  # the page quotes whatever the site said: untrusted, stripped

    return await run_resource(ctx, "page-seen", work)


async def recording(task_id: str, name: str, ctx: Context[Any, Any]) -> bytes:
    async def work(service: TaskService) -> bytes:
        return (await files.recording(service, task_id, name))[1]

    return await run_resource(ctx, "recording", work)


async def recording_frame(task_id: str, name: str, step: str, ctx: Context[Any, Any]) -> bytes:
    async def work(service: TaskService) -> bytes:
        return (await files.recording_frame(service, task_id, name, step)).data

    return await run_resource(ctx, "recording-frame", work)


async def screenshot_preview(task_id: str, ref: str, ctx: Context[Any, Any]) -> bytes:
    async def work(service: TaskService) -> bytes:
        return (await service.image(task_id, ref, "preview")).rendered.data

    return await run_resource(ctx, "screenshot-preview", work)


async def screenshot_full(task_id: str, ref: str, ctx: Context[Any, Any]) -> bytes:
    async def work(service: TaskService) -> bytes:
        return (await service.image(task_id, ref, "png")).rendered.data

    return await run_resource(ctx, "screenshot-full", work)


async def output_file(task_id: str, name: str, ctx: Context[Any, Any]) -> bytes:
    async def work(service: TaskService) -> bytes:
        content = await files.output_file(service, task_id, name)
        if content.data is None:
            raise NotAvailableError(
                f"'{content.file.name}' is too large to pass through MCP; get_output_file says where it is."
            )
        return content.data

    return await run_resource(ctx, "output-file", work)


#: (template, handler, name, title, mime type, description), in the order `resources/templates/list` shows.
RESOURCES = (
    (uris.STEPS_LOG, steps_log, "step-log", "Step log of a task", "text/markdown",
     "Every step of a task as markdown, one section per step (goals, actions, URL, errors)."),
    (uris.STEPS_LOG_FROM, steps_log_from, "step-log-from", "Step log of a task, from one step on", "text/markdown",
     "The step log from a 0-based step position on, for logs too long for one read (the step log names it)."),
    (uris.STEP, one_step, "step", "One step of a task", "application/json",
     "One step as JSON: goals, memory, actions with parameters, URL, errors, duration, screenshot."),
    (uris.GIF, gif, "gif", "Animated GIF of a run", "image/gif",
     "The run as an animated GIF: the source's own, or assembled from the step screenshots."),
    (uris.LOGS, logs, "execution-log", "Execution log of a task", "text/plain",
     "The tail of the task's execution log as text (Cloud v2)."),
    (uris.CONVERSATION, conversation, "conversation-log", "LLM conversation of one step", "text/plain",
     "What the agent's LLM was sent and answered at one step, as text (local runs saved with "
     "save_conversation_path; tail-capped)."),
    (uris.PAGE_SEEN, page_seen, "page-seen", "The page as the agent saw it at one step", "text/plain",
     "What the agent's LLM was sent at one step: the page's interactive elements and text as browser-use "
     "described them (local runs; head-capped). The first place to look when a click hit the wrong element."),
    (uris.RECORDING, recording, "recording", "A recording of a run", "video/mp4",
     f"A recording (mp4 or webm) read whole, at most {MAX_RECORDING_BYTES // 2**20} MB; get_media lists them."),
    (uris.RECORDING_FRAME, recording_frame, "recording-frame", "A recording's frame at one step", "image/webp",
     "A preview of the recording's frame where a step begins (placed by the step's share of the run: "
     "recordings keep no clock). Needs the optional `video` extra (PyAV); says so without it."),
    (uris.SCREENSHOT, screenshot_preview, "screenshot-preview", "Screenshot preview", "image/webp",
     "A step's screenshot as a WebP preview (long side ≤ 1024 px). `ref` is the step number, or "
     "capture-N for screenshots without one. Append /full for full resolution."),
    (uris.SCREENSHOT_FULL, screenshot_full, "screenshot-full", "Screenshot at full resolution", "image/png",
     "A step's screenshot at full resolution as PNG, metadata stripped."),
    (uris.OUTPUT_FILE, output_file, "output-file", "Output file of a task", "application/octet-stream",
     f"The bytes of a file the agent produced (at most {MAX_FILE_BYTES // 2**20} MB)."),
)  # fmt: skip


def register_resources(server: MCPServer[Any]) -> None:
    for template, handler, name, title, mime_type, description in RESOURCES:
        server.resource(template, name=name, title=title, description=description, mime_type=mime_type)(
            handler
        )
