"""The MCP tools: each one's arguments, description, annotations and handler in one place.

Handlers are thin: ask the inspector, hand the result to the renderer, return text
for the model plus structured content for programs. Every failure becomes an
`isError` result through `_guarded`; nothing escapes as a protocol error.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from . import render
from .errors import NoScreenshotError, TasksError
from .ids import coerce_int
from .inspector import MAX_FILE_BYTES, GifInfo, Inspector, conversation_step, screenshot_ref, task_uri
from .media import Rendered
from .models import Screenshot, Task, is_terminal
from .schemas import (
    GifResult,
    ImageAttachment,
    MediaResult,
    OutputFileResult,
    ScreenshotsResult,
    SkippedImage,
    StatusResult,
    StepResult,
    TaskListResult,
    TaskResult,
    summarize_steps,
)
from .untrusted import clean_line, code, fence, inline, sanitize, truncate

log = logging.getLogger(__name__)

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
DEFAULT_MAX_IMAGES = 4
MAX_WAIT_S = 50.0
WAIT_SLACK_S = 8.0  # MAX_WAIT_S + WAIT_SLACK_S stays under the 60 s many clients wait
POLL_INTERVALS_S = (1.0, 1.0, 2.0, 3.0, 5.0)
MAX_IMAGES = 10
INLINE_TEXT_CHARS = 20_000

TaskId = Annotated[
    str,
    Field(
        description="A task id, as listed by `list_tasks` (a UUID for Browser Use Cloud v2; a run folder name for "
        "local runs).",
        max_length=200,
    ),
]
Resolution = Annotated[
    Literal["preview", "full"],
    Field(description="`preview` (long side ≤ 1024 px, a few hundred KB) or `full` resolution."),
]


@dataclass
class AppState:
    inspector: Inspector
    call_deadline_s: float


def app_state(ctx: Context[Any, Any]) -> AppState:
    """What the server lifespan opened, for tool, resource and prompt handlers."""
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState)
    return state


def _text(markdown: str) -> TextContent:
    return TextContent(type="text", text=markdown)


def _result(markdown: str, structured: BaseModel, *extra: ContentBlock) -> CallToolResult:
    return CallToolResult(
        content=[_text(markdown), *extra],
        structured_content=structured.model_dump(mode="json"),
    )


async def _guarded(
    ctx: Context[Any, Any],
    name: str,
    work: Callable[[Inspector], Awaitable[CallToolResult]],
    *,
    deadline_s: float | None = None,
) -> CallToolResult:
    """Run a tool under the call deadline and turn every failure into an `isError` result."""
    state = app_state(ctx)
    deadline = deadline_s or state.call_deadline_s
    try:
        with anyio.fail_after(deadline):
            return await work(state.inspector)
    except TasksError as exc:
        log.info("%s failed: %s", name, exc.title)
        return CallToolResult(content=[_text(render.render_error(exc))], is_error=True)
    except TimeoutError:
        log.warning("%s hit the %.0fs call deadline", name, deadline)
        return CallToolResult(
            content=[
                _text(
                    f"**Timed out:** `{name}` did not finish within {deadline:.0f}s "
                    "(the upstream API is slow or retrying). Try again in a moment."
                )
            ],
            is_error=True,
        )
    except Exception as exc:  # a bug of ours: keep serving, tell the model plainly
        log.exception("%s crashed: %s", name, type(exc).__name__)
        return CallToolResult(
            content=[
                _text(f"**Internal error** in `{name}` ({type(exc).__name__}). The server logs have details.")
            ],
            is_error=True,
        )


def _image_block(rendered: Rendered) -> ImageContent:
    return ImageContent(
        type="image", data=base64.b64encode(rendered.data).decode("ascii"), mime_type=rendered.mime_type
    )


def _attachment(
    shot: Screenshot, rendered: Rendered, resolution: Literal["preview", "full"]
) -> ImageAttachment:
    return ImageAttachment(
        step=shot.step,
        resource_uri=shot.resource_uri,
        mime_type=rendered.mime_type,
        width=rendered.width,
        height=rendered.height,
        size_bytes=len(rendered.data),
        original_width=rendered.original.width,
        original_height=rendered.original.height,
        original_size_bytes=rendered.original.size_bytes,
        resolution=resolution,
    )


def _link(
    uri: str, name: str, mime_type: str | None, size: int | None = None, description: str | None = None
) -> ResourceLink:
    return ResourceLink(
        type="resource_link", uri=uri, name=name, mime_type=mime_type, size=size, description=description
    )


def register_tools(server: MCPServer[Any]) -> None:
    @server.tool(
        title="Get task",
        annotations=READ_ONLY,
        description=(
            "Get one Browser Use task: status, whether it succeeded (agent and judge), the final output, cost, "
            "timings, LLM, a bounded step summary (first, failing and last steps), output files and where the "
            "media is. Use this first when asked about a task or why it failed; then `get_step` for one step "
            "in full, `list_screenshots`/`get_gif` to see pages, `get_media` for recordings, logs and files.\n"
            'Example: get_task(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6")'
        ),
    )
    async def get_task(task_id: TaskId, ctx: Context[Any, Any]) -> Annotated[CallToolResult, TaskResult]:
        async def work(inspector: Inspector) -> CallToolResult:
            task = await inspector.get_task(task_id)
            # A cached task is rendered once: repeated reads cost a lookup, not a re-render.
            text = inspector.memo(task, "get_task:text", lambda: render.render_task(task))
            structured = inspector.memo(task, "get_task:structured", lambda: _task_structured(task))
            return CallToolResult(content=[_text(text)], structured_content=structured)

        return await _guarded(ctx, "get_task", work)

    @server.tool(
        title="Get one step",
        annotations=READ_ONLY,
        description=(
            "Get the full record of one step of a task: evaluation of the previous goal, memory, thinking, next "
            "goal, every action with its parameters, extracted results, errors, URL, duration, and the "
            "screenshot. With `include_screenshot=true` the screenshot is attached as an image (a downscaled "
            'preview unless `resolution="full"`). Use it after `get_task` points at a failing step.\n'
            'Example: get_step(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", step=7, include_screenshot=true)'
        ),
    )
    async def get_step(
        task_id: TaskId,
        step: Annotated[int, Field(description="Step number as shown by `get_task` (1 is the first step).")],
        ctx: Context[Any, Any],
        include_screenshot: Annotated[
            bool, Field(description="Attach the step's screenshot as an image.")
        ] = False,
        resolution: Resolution = "preview",
    ) -> Annotated[CallToolResult, StepResult]:
        async def work(inspector: Inspector) -> CallToolResult:
            task, found = await inspector.get_step(task_id, step)
            text = render.render_step(task, found)
            blocks: list[ContentBlock] = []
            attachment = None
            if include_screenshot:
                # Look the screenshot up by step rather than on the step itself: v1 keeps
                # screenshots apart from steps, behind their own endpoint.
                try:
                    image = await inspector.image(task.id, found.number, resolution)
                except NoScreenshotError:
                    text += "\n**Not attached:** this step has no screenshot.\n"
                except TasksError as exc:
                    text += f"\n**Not attached:** screenshot of step {found.number}: {exc.message}\n"
                else:
                    attachment = _attachment(image.screenshot, image.rendered, resolution)
                    blocks.append(_image_block(image.rendered))
                    text += (
                        f"\n**Attached:** screenshot of step {found.number} ({resolution}, "
                        f"{image.rendered.width}×{image.rendered.height}, {len(image.rendered.data) // 1024} KB).\n"
                    )
            elif found.screenshot is not None and found.screenshot.resource_uri:
                text += (
                    f"\nScreenshot: {render.call('get_step', task_id=task.id, step=found.number, include_screenshot=True)}"
                    f" or resource `{found.screenshot.resource_uri}`.\n"
                )
                blocks.append(
                    _link(found.screenshot.resource_uri, f"screenshot step {found.number}", "image/webp")
                )
            structured = StepResult(
                task_id=task.id,
                task_status=task.status,
                step_count=len(task.steps),
                step=found,
                image=attachment,
            )
            return _result(text, structured, *blocks)

        return await _guarded(ctx, "get_step", work)

    @server.tool(
        title="List screenshots",
        annotations=READ_ONLY,
        description=(
            "List the screenshots of a task with their step numbers and resource URIs (steps without one are "
            "counted). Optionally attach some as images: `steps=[3, 7]` with `include_images=true` attaches "
            "previews of those steps (at most `max_images`, default 4). Use it to see what the page looked like.\n"
            'Example: list_screenshots(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", steps=[6, 7], '
            "include_images=true)"
        ),
    )
    async def list_screenshots(
        task_id: TaskId,
        ctx: Context[Any, Any],
        steps: Annotated[
            list[int] | None, Field(description="Only these step numbers (default: all).", max_length=200)
        ] = None,
        include_images: Annotated[
            bool, Field(description="Attach the chosen screenshots as images.")
        ] = False,
        resolution: Resolution = "preview",
        max_images: Annotated[
            int, Field(description="Most images to attach (1-10).", ge=1, le=MAX_IMAGES)
        ] = DEFAULT_MAX_IMAGES,
    ) -> Annotated[CallToolResult, ScreenshotsResult]:
        async def work(inspector: Inspector) -> CallToolResult:
            # Refuse bad step numbers before any request.
            numbers = {coerce_int(s, what="steps[]", minimum=0, maximum=1_000_000) for s in steps or []}
            task, shots = await inspector.list_screenshots(task_id)
            wanted = shots
            if steps:
                wanted = [s for s in shots if s.step in numbers]
                missing = sorted(numbers - {s.step for s in wanted if s.step is not None})
            else:
                missing = []
            skipped = [SkippedImage(step=n, reason="no screenshot for this step") for n in missing]
            attached: list[ImageAttachment] = []
            blocks: list[ContentBlock] = []
            if include_images:
                limit = max_images  # bounded to 1-10 by the argument's schema
                for shot in wanted[:limit]:
                    try:
                        image = await inspector.image(
                            task.id, screenshot_ref(shot, shots.index(shot)), resolution
                        )
                    except TasksError as exc:
                        skipped.append(SkippedImage(step=shot.step, reason=exc.message))
                        continue
                    attached.append(_attachment(shot, image.rendered, resolution))
                    blocks.append(_image_block(image.rendered))
                for shot in wanted[limit:]:
                    skipped.append(
                        SkippedImage(step=shot.step, reason=f"over the limit of {limit} images per call")
                    )
            # v1 keeps screenshots apart from steps, so its steps say nothing about them.
            without = (
                [] if task.source == "cloud-v1" else [s.number for s in task.steps if s.screenshot is None]
            )
            text = render.render_screenshots(
                task,
                wanted,
                without=without,
                attached=[
                    f"step {a.step} ({a.width}×{a.height}, {a.size_bytes // 1024} KB)" for a in attached
                ],
                skipped=[f"step {s.step}: {s.reason}" for s in skipped],
            )
            links = [
                _link(s.resource_uri, f"screenshot step {s.step}", "image/webp")
                for s in wanted[:10]
                if s.resource_uri
            ]
            structured = ScreenshotsResult(
                task_id=task.id,
                total=len(shots),
                screenshots=wanted[:200],
                screenshots_truncated=len(wanted) > 200,
                steps_without_screenshot=without,
                attached=attached,
                skipped=skipped,
            )
            return _result(text, structured, *blocks, *([] if include_images else links))

        return await _guarded(ctx, "list_screenshots", work)

    @server.tool(
        title="Get the GIF of a run",
        annotations=READ_ONLY,
        description=(
            "Get an animated GIF of the run: the source's own GIF when it has one, otherwise one assembled from "
            "the step screenshots (in step order, each frame captioned with its step and goal). Returns its "
            "resource URI, frame count and size; the GIF itself is read from the resource. With "
            "`include_preview=true`, key frames (first, failing, last) are attached as image previews.\n"
            'Example: get_gif(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", include_preview=true)'
        ),
    )
    async def get_gif(
        task_id: TaskId,
        ctx: Context[Any, Any],
        include_preview: Annotated[bool, Field(description="Attach key frames as image previews.")] = False,
    ) -> Annotated[CallToolResult, GifResult]:
        async def work(inspector: Inspector) -> CallToolResult:
            blocks: list[ContentBlock] = []
            labels: list[str] = []
            if include_preview:
                info, previews = await inspector.gif_key_frames(task_id)
                for label, rendered in previews:
                    labels.append(label)
                    blocks.append(_image_block(rendered))
            else:
                info, _ = await inspector.gif(task_id)
            text = _gif_text(info, labels)
            structured = GifResult(
                task_id=info.task_id,
                resource_uri=info.resource_uri,
                origin=info.origin,
                frame_count=info.frame_count,
                width=info.width,
                height=info.height,
                size_bytes=info.size_bytes,
                frame_steps=info.frame_steps,
                previews=labels,
                notes=info.notes,
            )
            link = _link(info.resource_uri, f"GIF of task {info.task_id}", "image/gif", info.size_bytes)
            return _result(text, structured, *blocks, link)

        return await _guarded(ctx, "get_gif", work)

    @server.tool(
        title="Get media",
        annotations=READ_ONLY,
        description=(
            "List everything downloadable for a task besides screenshots: session recordings (mp4/webm), the "
            "execution log, conversation logs (local runs), output files with download links, and the GIF "
            "resource. Links are presigned and expire; call again for fresh ones.\n"
            'Example: get_media(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6")'
        ),
    )
    async def get_media(task_id: TaskId, ctx: Context[Any, Any]) -> Annotated[CallToolResult, MediaResult]:
        async def work(inspector: Inspector) -> CallToolResult:
            task, bundle = await inspector.get_media(task_id)
            gif_uri = task_uri(task.id, "gif")
            bundle.logs = [
                log_item.model_copy(update={"resource_uri": task_uri(task.id, "logs")})
                for log_item in bundle.logs
            ]
            bundle.conversations = [
                c.model_copy(update={"resource_uri": task_uri(task.id, "conversations", step)})
                if (step := conversation_step(c.name)) is not None
                else c
                for c in bundle.conversations
            ]
            structured = MediaResult(
                task_id=task.id,
                task_status=task.status,
                recordings=bundle.recordings,
                logs=bundle.logs,
                conversations=bundle.conversations,
                output_files=bundle.output_files,
                gif_resource_uri=gif_uri,
                source_gif=bundle.gif,
                notes=bundle.notes,
            )
            return _result(render.render_media(task, bundle, gif_uri), structured)

        return await _guarded(ctx, "get_media", work)

    @server.tool(
        title="List tasks",
        annotations=READ_ONLY,
        description=(
            "List tasks newest first, optionally only those with one status (created, running, paused, "
            "finished, failed, stopped), one page at a time. Use it to find a task id.\n"
            'Example: list_tasks(status="failed", page=1, page_size=10)'
        ),
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
        async def work(inspector: Inspector) -> CallToolResult:
            result = await inspector.list_tasks(status=status, page=page, page_size=page_size)
            structured = TaskListResult(
                page=result, has_more=result.has_more, next_page=result.page + 1 if result.has_more else None
            )
            return _result(render.render_task_page(result, status), structured)

        return await _guarded(ctx, "list_tasks", work)

    @server.tool(
        title="Get an output file",
        annotations=READ_ONLY,
        description=(
            "Read a file the agent produced. Text files (csv, json, txt, md, …) come inline up to a size cap "
            "with a note when cut; binary or large files come as a resource link with size and type.\n"
            'Example: get_output_file(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", file="results.csv")'
        ),
    )
    async def get_output_file(
        task_id: TaskId,
        file: Annotated[
            str, Field(description="File name as listed by `get_task` or `get_media`.", max_length=300)
        ],
        ctx: Context[Any, Any],
    ) -> Annotated[CallToolResult, OutputFileResult]:
        async def work(inspector: Inspector) -> CallToolResult:
            content = await inspector.output_file(task_id, file)
            # The name is the source's: percent-encoded in the URI, shown as a safe code span.
            uri = task_uri(content.task_id, "files", quote(content.file.name, safe=""))
            name = clean_line(content.file.name, 100)
            lines = [f"# Output file {inline(name)} of task {content.task_id}"]
            blocks: list[ContentBlock] = []
            text_value: str | None = None
            truncated = False
            if content.data is None:
                size = content.file.size_bytes or 0
                where = content.file.download_url or content.file.path
                lines += [
                    f"**Size:** {size} bytes · **Type:** {content.mime_type or 'unknown'}",
                    f"Too large to pass through MCP (over {MAX_FILE_BYTES // 2**20} MB). It is at {code(where, 400)}.",
                ]
            else:
                size = len(content.data)
                lines.append(f"**Size:** {size} bytes · **Type:** {content.mime_type or 'unknown'}")
                if content.is_text:
                    decoded = sanitize(content.data.decode("utf-8", errors="replace"))
                    truncated = len(decoded) > INLINE_TEXT_CHARS
                    text_value = truncate(decoded, INLINE_TEXT_CHARS) if truncated else decoded
                    lines += ["", render.UNTRUSTED_NOTE, fence(text_value, limit=INLINE_TEXT_CHARS + 10)]
                    if truncated:
                        lines.append(
                            f"_Cut at {INLINE_TEXT_CHARS} characters of {len(decoded)}; "
                            f"read resource {code(uri, 400)} for all of it._"
                        )
                else:
                    lines.append(f"Binary file: read resource {code(uri, 400)}.")
                    blocks.append(_link(uri, name, content.mime_type, size))
            structured = OutputFileResult(
                task_id=content.task_id,
                file=content.file,
                mime_type=content.mime_type,
                size_bytes=size,
                inline=text_value is not None,
                truncated=truncated,
                text=text_value,
                resource_uri=uri,
            )
            return _result("\n".join(lines) + "\n", structured, *blocks)

        return await _guarded(ctx, "get_output_file", work)

    @server.tool(
        title="Wait for a task to finish",
        annotations=ToolAnnotations(
            read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
        ),
        description=(
            "Wait until a running task finishes, polling its cheap status, and return its final status and "
            "output. Returns early when the task ends; after `timeout_s` (default 30, at most 50, so the call "
            "stays within client time limits) it answers 'still running, call again'. Sends progress "
            "notifications when the client asks for progress.\n"
            'Example: wait_for_task(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", timeout_s=30)'
        ),
    )
    async def wait_for_task(
        task_id: TaskId,
        ctx: Context[Any, Any],
        timeout_s: Annotated[
            float, Field(description="Longest wait in seconds (1-50).", ge=1, le=MAX_WAIT_S)
        ] = 30,
    ) -> Annotated[CallToolResult, StatusResult]:
        budget = min(max(1.0, float(timeout_s)), MAX_WAIT_S)

        async def work(inspector: Inspector) -> CallToolResult:
            started = anyio.current_time()
            polls = 0
            while True:
                status = await inspector.get_status(task_id)
                waited = anyio.current_time() - started
                polls += 1
                steps = f", {status.step_count} steps" if status.step_count is not None else ""
                await ctx.report_progress(min(waited, budget), budget, f"status {status.status}{steps}")
                finished = is_terminal(status.status)
                remaining = budget - waited
                if finished or remaining <= 0:
                    break
                # Poll fast at first, then every few seconds: status is cheap but not free.
                await anyio.sleep(min(remaining, POLL_INTERVALS_S[min(polls, len(POLL_INTERVALS_S)) - 1]))
            structured = StatusResult(
                task_id=status.id,
                status=status.status,
                raw_status=status.raw_status,
                is_success=status.is_success,
                finished=finished,
                output=status.output,
                step_count=status.step_count,
                waited_s=round(waited, 2),
                timed_out=not finished,
            )
            return _result(render.render_wait(structured), structured)

        # The last poll may still be in flight when the budget runs out: give it the configured
        # call deadline, but never so much that the whole call outlives a 60 s client timeout.
        slack = min(WAIT_SLACK_S, app_state(ctx).call_deadline_s)
        return await _guarded(ctx, "wait_for_task", work, deadline_s=budget + slack)


def _task_structured(task: Task) -> dict[str, Any]:
    summaries, truncated = summarize_steps(task)
    return TaskResult(
        task=task.model_copy(update={"steps": []}),
        step_count=len(task.steps),
        failing_steps=[s.number for s in task.steps if s.errors],
        steps=summaries,
        steps_truncated=truncated,
        hint=f"get_step(task_id, step) for one step; resource browser-use://tasks/{task.id}/steps for all.",
    ).model_dump(mode="json")


def _gif_text(info: GifInfo, previews: list[str]) -> str:
    origin = "the source's own GIF" if info.origin == "source" else "assembled from the step screenshots"
    lines = [
        f"# GIF of task {info.task_id}",
        f"**Frames:** {info.frame_count} · **Size:** {info.width}×{info.height}, {info.size_bytes // 1024} KB · "
        f"**Origin:** {origin}",
        f"**Resource:** `{info.resource_uri}` (image/gif)",
    ]
    steps = [s for s in info.frame_steps if s is not None]
    if steps:
        lines.append(
            f"**Frames show steps:** {', '.join(str(s) for s in steps[:30])}"
            + (" …" if len(steps) > 30 else "")
        )
    if previews:
        lines.append(f"**Attached previews:** {', '.join(previews)}")
    for note in info.notes[:4]:
        lines.append(f"**Note:** {note}")
    return "\n".join(lines) + "\n"
