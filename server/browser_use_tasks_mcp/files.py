"""A task's output files, execution log and step conversations, read through the service.

Reads are bounded (files 25 MB, logs 10 MB, shown as their last 60,000 characters) and go
through `TaskService.read`, so downloads are cached no longer than their links live.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import media
from .errors import MediaError, NotAvailableError, NotFoundError
from .ids import coerce_int, file_not_found, pick_name, validate_file_name
from .media.video import frame_at
from .models import MediaItem, OutputFile, Step, Task
from .service import TaskService, conversation_step

MAX_LOG_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 25 * 1024 * 1024
#: A recording read whole as a resource (base64 makes it a third larger on the wire).
MAX_RECORDING_BYTES = 50 * 1024 * 1024
LOG_TAIL_CHARS = 60_000
TEXT_FILE_SUFFIXES = (".csv", ".json", ".txt", ".md", ".log", ".tsv", ".xml", ".html", ".yaml", ".yml")


@dataclass
class FileContent:
    task_id: str
    file: OutputFile
    data: bytes | None  # None: too large to pass through MCP; `file` says where it is
    mime_type: str | None
    is_text: bool


@dataclass(frozen=True)
class _Location:
    url: str | None
    path: str | None


async def output_file(service: TaskService, task_id: object, file: object) -> FileContent:
    name = validate_file_name(str(file) if file is not None else "")  # refused before any request
    task = await service.get_task(task_id)
    resolved = await service.source.resolve_output_file(task, name)
    if not (resolved.download_url or resolved.path):
        raise NotAvailableError(f"The source gave no download link for '{resolved.name}'.")
    if resolved.size_bytes is not None and resolved.size_bytes > MAX_FILE_BYTES:
        return FileContent(task.id, resolved, None, resolved.mime_type, False)
    locator = _Location(resolved.download_url, resolved.path)
    data = await service.read(locator, max_bytes=MAX_FILE_BYTES, task_id=task.id)
    sniffed = media.sniff_mime(data)
    is_text = resolved.name.lower().endswith(TEXT_FILE_SUFFIXES) and b"\x00" not in data[:8192]
    if sniffed and not sniffed.startswith(("text/", "application/json")):
        is_text = False
    return FileContent(task.id, resolved.model_copy(update={"size_bytes": len(data)}), data, sniffed, is_text)


async def log_text(service: TaskService, task_id: object) -> tuple[str, bool]:
    """The execution log's tail as text, and whether it was cut."""
    task = await service.get_task(task_id)
    item = await service.source.get_log(task) if service.capabilities_for(task).execution_log else None
    if item is None:
        raise NotAvailableError(f"This source keeps no execution log for tasks ({service.source.label}).")
    data = await service.read(item, max_bytes=MAX_LOG_BYTES, task_id=task.id)
    if b"\x00" in data[:8192]:
        raise MediaError("The execution log is not text; it cannot be shown.")
    return _tail(data)


async def conversation_text(service: TaskService, task_id: object, step: object) -> tuple[str, bool]:
    """What the agent's LLM was sent and answered at one step, tail-capped."""
    number = coerce_int(step, what="step", minimum=0, maximum=1_000_000)
    if not service.capabilities.conversations:
        raise NotAvailableError(f"This source keeps no LLM conversations for tasks ({service.source.label}).")
    _, bundle = await service.get_media(task_id)
    match = next((c for c in bundle.conversations if conversation_step(c.name) == number), None)
    if match is None:
        have = sorted(n for n in (conversation_step(c.name) for c in bundle.conversations) if n is not None)
        listed = ", ".join(str(n) for n in have[:30]) or "none"
        raise NotFoundError(f"No conversation log for step {number}. Steps with one: {listed}.")
    return _tail(await service.read(match, max_bytes=MAX_LOG_BYTES))


def _tail(data: bytes) -> tuple[str, bool]:
    """A log's text, cut to its last LOG_TAIL_CHARS characters, and whether it was cut."""
    text = data.decode("utf-8", errors="replace")
    if len(text) <= LOG_TAIL_CHARS:
        return text, False
    return text[-LOG_TAIL_CHARS:], True


async def page_seen_text(service: TaskService, task_id: object, step: object) -> tuple[str, bool]:
    """The page as the agent's LLM saw it at one step (browser-use's `state_message`), head-capped."""
    task, found = await service.get_step(task_id, step)
    if not service.capabilities_for(task).page_seen:
        raise NotAvailableError(
            f"This source does not keep what the agent's LLM was sent at each step ({service.source.label})."
        )
    seen = await service.source.get_page_seen(task, found.number)
    if seen is None:
        raise NotFoundError(f"Step {found.number} of task {task.id} has no saved page view (state_message).")
    return seen


async def recording(service: TaskService, task_id: object, name: object) -> tuple[MediaItem, bytes]:
    """A recording of the task by name, read whole (at most MAX_RECORDING_BYTES)."""
    wanted = validate_file_name(str(name) if name is not None else "", what="name")
    task, bundle = await service.get_media(task_id)
    names = [r.name for r in bundle.recordings]
    index = pick_name(names, wanted)
    if index is None:
        raise NotFoundError(file_not_found(task.id, wanted, names, what="recording"))
    item = bundle.recordings[index]
    if item.size_bytes is not None and item.size_bytes > MAX_RECORDING_BYTES:
        where = f"the file {item.path}" if item.path else "its download link (get_media)"
        raise NotAvailableError(
            f"'{item.name}' is {item.size_bytes // 2**20} MB, more than the {MAX_RECORDING_BYTES // 2**20} MB a "
            f"resource carries; open {where} instead."
        )
    return item, await service.read(item, max_bytes=MAX_RECORDING_BYTES, task_id=task.id)


async def recording_frame(
    service: TaskService, task_id: object, name: object, step: object
) -> media.Rendered:
    """A preview of the recording's frame at a step's time (placed by the step's share of the run)."""
    task, found = await service.get_step(task_id, step)
    _, data = await recording(service, task.id, name)
    png = await service.run_cpu(frame_at, data, step_fraction(task, found), checked=True)
    return await service.render(png, "preview")


def step_fraction(task: Task, step: Step) -> float:
    """How far through the run a step starts, 0 to 1: by its start time when the steps have times, else
    by its position. browser-use records frames only when the page changes, so a recording has no clock
    of its own: this places the frame, it does not time it exactly."""
    first, last = task.steps[0], task.steps[-1]
    if first.started_at and last.started_at and step.started_at:
        end = last.started_at.timestamp() + (last.duration_s or 0.0)
        span = end - first.started_at.timestamp()
        if span > 0:
            return (step.started_at.timestamp() - first.started_at.timestamp()) / span
    position = [s.number for s in task.steps].index(step.number)
    return position / max(1, len(task.steps) - 1)
