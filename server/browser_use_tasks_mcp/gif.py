"""The GIF of a run: the source's own when it has one, else assembled from the screenshots.

Also which step each frame shows, and previews of the key frames (first, first failing,
last) chosen by the one step policy in `selection.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from . import media, shared_codecs, uris
from .errors import NotAvailableError, TasksError
from .models import Screenshot, Task
from .results import GifResult
from .selection import MAX_FAILING_SHOWN, failing_steps, pick_positions
from .service import MAX_IMAGE_BYTES, RUNNING_TASK_TTL_S, TaskService
from .untrusted import clean_line

MAX_GIF_FRAMES = 60


async def gif(service: TaskService, task_id: object) -> tuple[GifResult, bytes]:
    task = await service.get_task(task_id)
    # Keyed by what the GIF is made of too: a local run that grew gets a new one.
    key = ("gif", task.id, len(task.steps), task.finished_at)
    cached = service.renders.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    result = await service.flights.run(key, lambda: _shared_build(service, task, key))
    service.renders.put(key, result, size=len(result[1]), ttl_s=None if task.terminal else RUNNING_TASK_TTL_S)
    return result


async def _shared_build(service: TaskService, task: Task, key: tuple[object, ...]) -> tuple[GifResult, bytes]:
    """The GIF; in a team deployment, built by one worker and shared with the others."""
    lifetime = service.task_ttl(task)
    return await service.through_shared(
        service.shared_key(*map(str, key)),
        lambda: _build(service, task),
        encode=lambda result: (shared_codecs.dump_model_with_bytes(result), lifetime or 0.0),
        decode=lambda data: shared_codecs.load_model_with_bytes(GifResult, data),
    )


async def key_frames(
    service: TaskService, task_id: object
) -> tuple[GifResult, list[tuple[str, media.Rendered]]]:
    """Previews of the first, first failing and last frames instead of the whole animation."""
    info, data = await gif(service, task_id)
    task = await service.get_task(task_id)
    wanted: list[tuple[str, int]] = [("first frame", 0)]
    # The first failing step that has a frame: the first failing step itself when it has a screenshot.
    failing = next((s.number for s in failing_steps(task) if s.number in info.frame_steps), None)
    if failing is not None and info.frame_steps.index(failing) < info.frame_count:
        wanted.append((f"step {failing} (failing)", info.frame_steps.index(failing)))
    if info.frame_count > 1:
        wanted.append(("last frame", info.frame_count - 1))
    frames = await service.run_cpu(media.gif_frames, data, [i for _, i in wanted], checked=True)
    previews = [
        (label, await service.render(frame, "preview"))
        for (label, _), frame in zip(wanted, frames, strict=False)
    ]
    return info.model_copy(update={"previews": [label for label, _ in previews]}), previews


async def _build(service: TaskService, task: Task) -> tuple[GifResult, bytes]:
    notes: list[str] = []
    if service.capabilities_for(task).own_gif:
        own = await _source_gif(service, task, notes)
        if own is not None:
            return own
    _, shots = await service.list_screenshots(task.id)
    if len(shots) < 2:
        raise NotAvailableError(
            f"A GIF needs at least 2 screenshots; task {task.id} has {len(shots)}. "
            "Use get_step or list_screenshots to look at what there is."
        )
    chosen = pick_frames(shots, task, MAX_GIF_FRAMES)
    if len(chosen) < len(shots):
        notes.append(
            f"{len(shots)} screenshots; {len(chosen)} frames chosen (first, failing, last, evenly spaced)."
        )
    images = await _download_all(service, chosen, task.id, notes)
    usable = [(shot, data) for shot, data in zip(chosen, images, strict=True) if data is not None]
    if len(usable) < 2:
        raise NotAvailableError(
            f"Only {len(usable)} of {len(chosen)} screenshots of task {task.id} could be downloaded; "
            "a GIF needs 2. " + " ".join(notes[:3])
        )
    frames = [media.Frame(image=data, caption=_caption(task, shot)) for shot, data in usable]
    result = await service.run_cpu(media.assemble_gif, frames, checked=True)
    info = GifResult(
        task_id=task.id,
        resource_uri=uris.gif(task.id),
        origin="assembled",
        frame_count=result.frame_count,
        width=result.width,
        height=result.height,
        size_bytes=len(result.data),
        frame_steps=_assembled_frame_steps(usable, result.frame_count, notes),
        notes=notes,
    )
    return info, result.data


def _assembled_frame_steps(
    usable: list[tuple[Screenshot, bytes]], frames: int, notes: list[str]
) -> list[int | None]:
    """The step of each frame; unknown when identical frames were merged on saving (counts differ)."""
    if frames == len(usable):
        return [shot.step for shot, _ in usable]
    notes.append(
        f"{len(usable) - frames} identical frame(s) were merged, so frames are not matched to steps."
    )
    return []


async def _source_gif(service: TaskService, task: Task, notes: list[str]) -> tuple[GifResult, bytes] | None:
    try:
        item = await service.source.get_source_gif(task)
        if item is None:
            return None
        data = await service.read(item, max_bytes=MAX_IMAGE_BYTES, task_id=task.id)
        probe = await service.run_cpu(media.probe_image, data)
    except TasksError as exc:
        notes.append(f"The source's own GIF could not be used ({exc.message}); assembled one instead.")
        return None
    if probe.mime_type != "image/gif":
        notes.append("The source's GIF is not a GIF; assembled one instead.")
        return None
    info = GifResult(
        task_id=task.id,
        resource_uri=uris.gif(task.id),
        origin="source",
        frame_count=probe.frames,
        width=probe.width,
        height=probe.height,
        size_bytes=len(data),
        frame_steps=await _source_frame_steps(service, task, probe.frames),
        notes=notes,
    )
    return info, data


async def _source_frame_steps(service: TaskService, task: Task, frames: int) -> list[int | None]:
    """Which step each frame of a source's GIF shows, when the counts say so unambiguously.

    browser-use writes one frame per screenshot, after a title frame with the task; a GIF
    whose frame count fits neither shape gets no mapping rather than a guessed one.
    """
    try:
        _, shots = await service.list_screenshots(task.id)
    except TasksError:
        return []
    steps = [s.step for s in shots]
    if frames == len(steps) + 1:
        return [None, *steps]
    return steps if frames == len(steps) else []


async def _download_all(
    service: TaskService, shots: Sequence[Screenshot], task_id: str, notes: list[str]
) -> list[bytes | None]:
    results: list[bytes | None] = [None] * len(shots)
    failures: list[str] = []

    async def one(index: int, shot: Screenshot) -> None:
        try:
            results[index] = await service.read(shot, max_bytes=MAX_IMAGE_BYTES, task_id=task_id)
        except TasksError as exc:
            failures.append(f"step {shot.step}: {exc.message}" if shot.step is not None else exc.message)

    async with anyio.create_task_group() as group:
        for index, shot in enumerate(shots):
            group.start_soon(one, index, shot)
    if failures:
        notes.append(f"{len(failures)} screenshot(s) skipped: " + "; ".join(failures[:3]))
    return results


def _caption(task: Task, shot: Screenshot) -> str:
    if shot.step is None:
        return "Screenshot"
    step = task.step(shot.step)
    goal = clean_line(step.next_goal, 70) if step else ""
    return f"Step {shot.step} · {goal}" if goal else f"Step {shot.step}"


def pick_frames(shots: Sequence[Screenshot], task: Task, limit: int) -> list[Screenshot]:
    """At most `limit` screenshots: the first, the last and the failing ones named elsewhere, then evenly spaced."""
    named = {s.number for s in failing_steps(task)[:MAX_FAILING_SHOWN]}
    must = {i for i, shot in enumerate(shots) if shot.step in named}
    return [shots[i] for i in pick_positions(len(shots), must, limit)]
