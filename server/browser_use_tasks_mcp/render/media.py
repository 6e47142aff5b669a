"""Markdown of what a task has besides its steps: screenshots, the GIF, media, output files."""

from __future__ import annotations

from collections.abc import Sequence

from .. import uris
from ..models import MediaBundle, MediaItem, OutputFile, Screenshot, Task
from ..results import GifResult, OutputFileResult
from ..untrusted import code, fence, inline
from .text import UNTRUSTED_NOTE, call, capped, join, numbers, size

MAX_LISTED = 25
EXPIRING_LINKS_NOTE = "Download links (presigned, they expire) are in the structured content."


def render_screenshots(
    task: Task,
    shots: Sequence[Screenshot],
    *,
    attached: Sequence[str] = (),
    skipped: Sequence[str] = (),
    without: Sequence[int] = (),
    links_expire: bool = False,
) -> str:
    lines = [f"# Screenshots of task {task.id}: {len(shots)}"]
    if without:
        lines.append(f"**Steps without a screenshot:** {len(without)} ({numbers(without, 15)})")
    lines += [f"**Note:** {inline(note, 200)}" for note in task.notes[:3]]
    rows = []
    for shot in shots:
        label = f"step {shot.step}" if shot.step is not None else "step unknown"
        where = code(shot.resource_uri, 300) if shot.resource_uri else ""
        rows.append(f"- {label}: {where}")
    lines += capped(rows, MAX_LISTED, "pass `steps=[…]` to pick the ones you need")
    if attached:
        lines += ["", "**Attached images:** " + ", ".join(attached)]
    if skipped:
        lines += ["", "**Not attached:**", *[f"- {s}" for s in skipped]]
    first = next((s.step for s in shots if s.step is not None), None)
    if not attached and first is not None:
        lines += [
            "",
            f"See one: {call('get_step', task_id=task.id, step=first, include_screenshot=True)} or "
            f"{call('list_screenshots', task_id=task.id, steps=[first], include_images=True)}.",
        ]
    if links_expire:
        lines.append(EXPIRING_LINKS_NOTE)
    return join(lines)


def image_label(step: int | None, width: int, height: int, byte_count: int, parts: int = 1) -> str:
    tall = f", the top of a tall page: part 1 of {parts}, get_step(part=N) for the rest" if parts > 1 else ""
    return f"step {step} ({width}×{height}, {size(byte_count)}{tall})"


def render_gif(result: GifResult) -> str:
    origin = "the source's own GIF" if result.origin == "source" else "assembled from the step screenshots"
    lines = [
        f"# GIF of task {result.task_id}",
        f"**Frames:** {result.frame_count} · **Size:** {result.width}×{result.height}, "
        f"{size(result.size_bytes)} · **Origin:** {origin}",
        f"**Resource:** `{result.resource_uri}` (image/gif)",
    ]
    steps = [s for s in result.frame_steps if s is not None]
    if steps:
        lines.append(f"**Frames show steps:** {numbers(steps, 30)}")
    if result.previews:
        lines.append(f"**Attached previews:** {', '.join(result.previews)}")
    lines += [f"**Note:** {note}" for note in result.notes[:4]]
    return join(lines)


def render_media(task: Task, bundle: MediaBundle, *, links_expire: bool) -> str:
    lines = [f"# Media of task {task.id}"]

    def items(title: str, entries: Sequence[MediaItem]) -> None:
        if entries:
            lines.extend(["", f"## {title} ({len(entries)})"])
            lines.extend(capped([_media_line(e) for e in entries], 10, "see structured content"))

    items("Recordings", bundle.recordings)
    if bundle.recordings and bundle.recordings[0].resource_uri:
        frame = uris.recording_frame(task.id, bundle.recordings[0].name, 1).removesuffix("/1") + "/{step}"
        lines.append(f"The frame where a step begins, as an image: resource `{frame}`.")
    items("Execution logs", bundle.logs)
    if bundle.logs:
        lines.append(f"Read the log's tail as resource `{uris.logs(task.id)}`.")
    items("Conversation logs", bundle.conversations)
    if bundle.output_files:
        lines += ["", f"## Output files ({len(bundle.output_files)})"]
        lines += capped([_file_line(f) for f in bundle.output_files], 10, "see structured content")
        lines.append(
            f"Read one: {call('get_output_file', task_id=task.id, file=bundle.output_files[0].name)}."
        )
    lines += ["", "## GIF of the run"]
    origin = "the run's own GIF" if bundle.gif else "assembled from the screenshots on request"
    lines.append(
        f"Resource `{uris.gif(task.id)}` ({origin}); {call('get_gif', task_id=task.id)} for details."
    )
    if bundle.notes:
        lines += ["", "## Notes", *[f"- {inline(n, 300)}" for n in bundle.notes[:8]]]
    if links_expire:
        lines += ["", "Links are presigned and expire; call this tool again for fresh ones."]
    return join(lines)


def _meta(mime_type: str | None, size_bytes: int | None) -> str:
    meta = ", ".join(p for p in (mime_type or "", size(size_bytes)) if p)
    return f"({meta})" if meta else ""


def _media_line(item: MediaItem) -> str:
    parts = [f"- {code(item.name, 100)}", _meta(item.mime_type, item.size_bytes)]
    if item.url:
        parts.append(code(item.url, 400))
    elif item.path:
        parts.append(code(item.path, 200))
    if item.resource_uri:
        parts.append(f"resource {code(item.resource_uri, 300)}")
    return " ".join(p for p in parts if p)


def _file_line(file: OutputFile) -> str:
    parts = [f"- {code(file.name, 100)}", _meta(file.mime_type, file.size_bytes)]
    if file.download_url:
        parts.append(code(file.download_url, 400))
    return " ".join(p for p in parts if p)


def render_output_file(
    result: OutputFileResult, *, where: str | None, total_chars: int, inline_limit: int, max_bytes: int
) -> str:
    """`where` is set only when the file was too large to read; `total_chars` is the text's full length."""
    lines = [
        f"# Output file {code(result.file.name, 100)} of task {result.task_id}",
        f"**Size:** {result.size_bytes} bytes · **Type:** {result.mime_type or 'unknown'}",
    ]
    uri = code(result.resource_uri, 400)
    if where is not None:
        lines.append(
            f"Too large to pass through MCP (over {max_bytes // 2**20} MB). It is at {code(where, 400)}."
        )
    elif result.text is not None:
        lines += ["", UNTRUSTED_NOTE, fence(result.text, limit=inline_limit + 10)]
        if result.truncated:
            lines.append(
                f"_Cut at {inline_limit} characters of {total_chars}; read resource {uri} for all of it._"
            )
    else:
        lines.append(f"Binary file: read resource {uri}.")
    return "\n".join(lines) + "\n"
