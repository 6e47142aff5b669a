"""The service layer between tools and sources.

It validates arguments, caches tasks (finished ones until their links expire, running
ones for a moment), coalesces concurrent reads, and derives what a backend lacks: a GIF
assembled from screenshots, image previews, log tails. CPU-bound image work runs in
worker threads so one big GIF never stalls other calls.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread

from . import media
from .cache import ByteLRU, SingleFlight
from .errors import (
    FetchRefusedError,
    InvalidInputError,
    MediaError,
    NoScreenshotError,
    NotAvailableError,
    NotFoundError,
    TasksError,
)
from .fetch import link_ttl
from .ids import coerce_int, validate_file_name
from .models import (
    KNOWN_STATUSES,
    MediaBundle,
    OutputFile,
    Screenshot,
    Step,
    Task,
    TaskPage,
    TaskStatusInfo,
    TaskSummary,
)
from .sources.base import Locatable, TaskSource
from .untrusted import clean_line

log = logging.getLogger(__name__)

T = TypeVar("T")
# `png` is full resolution in one fixed type, for the resource that must declare its mime type.
Resolution = Literal["preview", "full", "png"]
_RENDERERS = {"preview": media.make_preview, "full": media.make_full, "png": media.make_png}

URI_PREFIX = "browser-use://tasks"
RUNNING_TASK_TTL_S = 2.0
# Presigned links inside a cached task must not outlive themselves; without a stated
# expiry we assume a conservative lifetime.
DEFAULT_LINK_TTL_S = 300.0
MAX_GIF_FRAMES = 60
MAX_IMAGE_BYTES = 25 * 1024 * 1024
MAX_LOG_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 25 * 1024 * 1024
LOG_TAIL_CHARS = 60_000
MEMO_ENTRY_SIZE = 32_000  # a rendering's rough size; the memo holds at most 512
RECENT_TASKS = 20
LISTING_TTL_S = 5.0
TEXT_FILE_SUFFIXES = (".csv", ".json", ".txt", ".md", ".log", ".tsv", ".xml", ".html", ".yaml", ".yml")


def task_uri(task_id: str, *parts: str | int) -> str:
    tail = "/".join(str(p) for p in parts)
    return f"{URI_PREFIX}/{task_id}/{tail}" if tail else f"{URI_PREFIX}/{task_id}"


def screenshot_ref(shot: Screenshot, index: int) -> str:
    """How a screenshot is named in URIs: its step number, else its capture position."""
    return str(shot.step) if shot.step is not None else f"capture-{index + 1}"


@dataclass
class GifInfo:
    task_id: str
    resource_uri: str
    origin: Literal["source", "assembled"]
    frame_count: int
    width: int
    height: int
    size_bytes: int
    frame_steps: list[int | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ImageResult:
    screenshot: Screenshot
    rendered: media.Rendered


@dataclass
class FileContent:
    task_id: str
    file: OutputFile
    data: bytes | None  # None: too large to pass through MCP; `file` says where it is
    mime_type: str | None
    is_text: bool


class Inspector:
    def __init__(
        self,
        source: TaskSource,
        *,
        task_cache_bytes: int = 64 * 1024 * 1024,
        media_cache_bytes: int = 96 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self._clock = clock
        self._tasks: ByteLRU[Task] = ByteLRU(task_cache_bytes, clock=clock)
        self._bytes: ByteLRU[bytes] = ByteLRU(media_cache_bytes // 2, clock=clock)
        self._renders: ByteLRU[Any] = ByteLRU(media_cache_bytes // 2, clock=clock)
        self._memos: ByteLRU[tuple[Task, Any]] = ByteLRU(512 * MEMO_ENTRY_SIZE, clock=clock)
        self._shots: ByteLRU[list[Screenshot]] = ByteLRU(4 * 1024 * 1024, clock=clock)
        self._pages: ByteLRU[TaskPage] = ByteLRU(2 * 1024 * 1024, clock=clock)
        self._flights = SingleFlight()
        # Image work is CPU-bound: two cores here, so at most two at once.
        self._cpu = anyio.CapacityLimiter(2)
        self._downloads = anyio.CapacityLimiter(8)

    # -- tasks -----------------------------------------------------------------------------

    async def get_task(self, task_id: object) -> Task:
        tid = self.source.validate_task_id(task_id)
        cached = self._tasks.get(tid)
        if cached is not None:
            return cached
        return await self._flights.run(("task", tid), lambda: self._load_task(tid))

    async def _load_task(self, tid: str) -> Task:
        task = _with_resource_uris(await self.source.get_task(tid))
        ttl = self._task_ttl(task)
        if ttl is None or ttl > 0:
            self._tasks.put(tid, task, size=2_000 + 1_500 * len(task.steps), ttl_s=ttl)
        return task

    def _task_ttl(self, task: Task) -> float | None:
        if not task.terminal:
            return RUNNING_TASK_TTL_S
        if self.source.kind == "local":
            return RUNNING_TASK_TTL_S  # the local source keeps its own parse cache by file mtime
        expiries = [link_ttl(s.screenshot.url) for s in task.steps if s.screenshot and s.screenshot.url]
        known = [e for e in expiries if e is not None]
        return min([*known, DEFAULT_LINK_TTL_S * 6]) - 30 if known else DEFAULT_LINK_TTL_S * 6

    def forget(self, task_id: str) -> None:
        """Drop a cached task, e.g. after one of its links turned out to have expired."""
        self._tasks.pop(task_id)

    async def get_status(self, task_id: object) -> TaskStatusInfo:
        """The cheap status, always fresh unless the task is cached as finished (it cannot change)."""
        tid = self.source.validate_task_id(task_id)
        cached = self._tasks.get(tid)
        if cached is not None and cached.terminal:
            return TaskStatusInfo.of(cached)
        return await self._flights.run(("status", tid), lambda: self.source.get_status(tid))

    async def recent_tasks(self, limit: int = RECENT_TASKS) -> list[TaskSummary]:
        """The newest tasks, for completions and resource listings: the same query as `list_tasks`."""
        page = await self.list_tasks(page=1, page_size=RECENT_TASKS)
        return page.items[:limit]

    async def list_tasks(
        self, *, status: object = None, page: object = 1, page_size: object = 10
    ) -> TaskPage:
        number = coerce_int(page, what="page", minimum=1, maximum=100_000)
        size = coerce_int(page_size, what="page_size", minimum=1, maximum=100)
        wanted: str | None = None
        if status not in (None, ""):
            wanted = str(status).strip().lower()
            if wanted == "started":
                wanted = "running"
            if wanted not in KNOWN_STATUSES:
                raise InvalidInputError(
                    f"`status` must be one of {', '.join(KNOWN_STATUSES)}; got {clean_line(str(status), 30)!r}."
                )
        key = ("list", wanted, number, size)
        cached = self._pages.get(key)
        if cached is not None:
            return cached
        page_ = await self._flights.run(
            key, lambda: self.source.list_tasks(status=wanted, page=number, page_size=size)
        )
        # Listings change as tasks start and end: kept only briefly, and not at all for local
        # runs, whose folder is rescanned on every call so a new run shows up at once.
        if self.source.kind != "local":
            self._pages.put(key, page_, size=500 * (len(page_.items) + 1), ttl_s=LISTING_TTL_S)
        return page_

    async def get_step(self, task_id: object, step: object) -> tuple[Task, Step]:
        number = coerce_int(step, what="step", minimum=0, maximum=1_000_000)  # refused before any request
        task = await self.get_task(task_id)
        found = task.step(number)
        if found is None:
            span = f"1 to {task.steps[-1].number}" if task.steps else "none: the task has no steps yet"
            raise NotFoundError(f"Task {task.id} has no step {number}. Steps: {span}.")
        return task, found

    # -- screenshots and images -----------------------------------------------------------

    async def list_screenshots(self, task_id: object) -> tuple[Task, list[Screenshot]]:
        task = await self.get_task(task_id)
        if self.source.kind == "cloud-v1":
            # v1 lists screenshots behind their own endpoint: keep the list as long as the task.
            shots = self._shots.get(task.id)
            if shots is None:
                shots = await self._flights.run(
                    ("shots", task.id), lambda: self.source.list_screenshots(task)
                )
                ttl = self._task_ttl(task)
                if ttl is None or ttl > 0:
                    self._shots.put(task.id, shots, size=300 * (len(shots) + 1), ttl_s=ttl)
        else:
            shots = await self.source.list_screenshots(task)
        return task, [
            s.model_copy(update={"resource_uri": task_uri(task.id, "screenshots", screenshot_ref(s, i))})
            for i, s in enumerate(shots)
        ]

    def find_screenshot(self, shots: Sequence[Screenshot], ref: str | int) -> Screenshot:
        text = str(ref).strip().lower()
        if text.startswith("capture-"):
            position = coerce_int(text.removeprefix("capture-"), what="capture", minimum=1, maximum=100_000)
            if position <= len(shots):
                return shots[position - 1]
        else:
            number = coerce_int(text, what="step", minimum=0, maximum=1_000_000)
            for shot in shots:
                if shot.step == number:
                    return shot
        have = ", ".join(screenshot_ref(s, i) for i, s in enumerate(shots[:20])) or "none"
        raise NoScreenshotError(f"No screenshot '{clean_line(text, 20)}' for this task. Screenshots: {have}.")

    async def image(self, task_id: object, ref: str | int, resolution: Resolution = "preview") -> ImageResult:
        task, shots = await self.list_screenshots(task_id)
        shot = self.find_screenshot(shots, ref)
        data = await self.read(shot, max_bytes=MAX_IMAGE_BYTES, task_id=task.id)
        rendered = await self.render(data, resolution)
        return ImageResult(shot, rendered)

    async def render(self, data: bytes, resolution: Resolution) -> media.Rendered:
        key = (hashlib.sha256(data).hexdigest(), resolution)
        cached = self._renders.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        rendered = await anyio.to_thread.run_sync(_RENDERERS[resolution], data, limiter=self._cpu)
        self._renders.put(key, rendered, size=len(rendered.data))
        return rendered

    async def read(self, item: Locatable, *, max_bytes: int, task_id: str | None = None) -> bytes:
        """Bytes of a screenshot, file or log; downloads are cached no longer than their link lives."""
        key = item.url
        cached = self._bytes.get(key) if key else None
        if cached is not None:
            return cached
        try:
            async with self._downloads:
                data = await self.source.read_bytes(item, max_bytes=max_bytes)
        except FetchRefusedError as exc:
            if task_id and exc.expired:
                self.forget(task_id)
            raise
        # Local files are cheap to re-read and may change; only downloads are worth keeping.
        if key:
            ttl = link_ttl(key)
            ttl = DEFAULT_LINK_TTL_S if ttl is None else min(ttl, DEFAULT_LINK_TTL_S * 6)
            if ttl > 0:
                self._bytes.put(key, data, size=len(data), ttl_s=ttl)
        return data

    # -- GIF -------------------------------------------------------------------------------

    async def gif(self, task_id: object) -> tuple[GifInfo, bytes]:
        task = await self.get_task(task_id)
        # Keyed by what the GIF is made of too: a local run that grew gets a new one.
        key = ("gif", task.id, len(task.steps), task.finished_at)
        cached = self._renders.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        result = await self._flights.run(key, lambda: self._build_gif(task))
        self._renders.put(
            key, result, size=len(result[1]), ttl_s=None if task.terminal else RUNNING_TASK_TTL_S
        )
        return result

    async def _build_gif(self, task: Task) -> tuple[GifInfo, bytes]:
        notes: list[str] = []
        own = await self._source_gif(task, notes)
        if own is not None:
            return own
        _, shots = await self.list_screenshots(task.id)
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
        images = await self._download_all(chosen, task.id, notes)
        usable = [(shot, data) for shot, data in zip(chosen, images, strict=True) if data is not None]
        if len(usable) < 2:
            raise NotAvailableError(
                f"Only {len(usable)} of {len(chosen)} screenshots of task {task.id} could be downloaded; "
                "a GIF needs 2. " + " ".join(notes[:3])
            )
        frames = [media.Frame(image=data, caption=_caption(task, shot)) for shot, data in usable]
        result = await anyio.to_thread.run_sync(media.assemble_gif, frames, limiter=self._cpu)
        info = GifInfo(
            task_id=task.id,
            resource_uri=task_uri(task.id, "gif"),
            origin="assembled",
            frame_count=result.frame_count,
            width=result.width,
            height=result.height,
            size_bytes=len(result.data),
            frame_steps=[shot.step for shot, _ in usable],
            notes=notes,
        )
        return info, result.data

    async def _source_gif(self, task: Task, notes: list[str]) -> tuple[GifInfo, bytes] | None:
        try:
            item = await self.source.get_source_gif(task)
            if item is None:
                return None
            data = await self.read(item, max_bytes=MAX_IMAGE_BYTES, task_id=task.id)
            probe = await anyio.to_thread.run_sync(media.probe_image, data, limiter=self._cpu)
        except TasksError as exc:
            notes.append(f"The source's own GIF could not be used ({exc.message}); assembled one instead.")
            return None
        if probe.mime_type != "image/gif":
            notes.append("The source's GIF is not a GIF; assembled one instead.")
            return None
        info = GifInfo(
            task_id=task.id,
            resource_uri=task_uri(task.id, "gif"),
            origin="source",
            frame_count=probe.frames,
            width=probe.width,
            height=probe.height,
            size_bytes=len(data),
            frame_steps=await self._source_frame_steps(task, probe.frames),
            notes=notes,
        )
        return info, data

    async def _source_frame_steps(self, task: Task, frames: int) -> list[int | None]:
        """Which step each frame of a source's GIF shows, when the counts say so unambiguously.

        browser-use writes one frame per screenshot, after a title frame with the task; a GIF
        whose frame count fits neither shape gets no mapping rather than a guessed one.
        """
        try:
            _, shots = await self.list_screenshots(task.id)
        except TasksError:
            return []
        steps = [s.step for s in shots]
        if frames == len(steps) + 1:
            return [None, *steps]
        return steps if frames == len(steps) else []

    async def _download_all(
        self, shots: Sequence[Screenshot], task_id: str, notes: list[str]
    ) -> list[bytes | None]:
        results: list[bytes | None] = [None] * len(shots)
        failures: list[str] = []

        async def one(index: int, shot: Screenshot) -> None:
            try:
                results[index] = await self.read(shot, max_bytes=MAX_IMAGE_BYTES, task_id=task_id)
            except TasksError as exc:
                failures.append(f"step {shot.step}: {exc.message}" if shot.step is not None else exc.message)

        async with anyio.create_task_group() as group:
            for index, shot in enumerate(shots):
                group.start_soon(one, index, shot)
        if failures:
            notes.append(f"{len(failures)} screenshot(s) skipped: " + "; ".join(failures[:3]))
        return results

    async def gif_key_frames(self, task_id: object) -> tuple[GifInfo, list[tuple[str, media.Rendered]]]:
        """Previews of the first, failing and last frames instead of the whole animation."""
        info, data = await self.gif(task_id)
        task = await self.get_task(task_id)
        wanted: list[tuple[str, int]] = [("first frame", 0)]
        failing = {s.number for s in task.steps if s.errors}
        for position, step in enumerate(info.frame_steps):
            if step in failing:
                wanted.append((f"step {step} (failing)", position))
                break
        if info.frame_count > 1:
            wanted.append(("last frame", info.frame_count - 1))
        frames = await anyio.to_thread.run_sync(
            media.gif_frames, data, [i for _, i in wanted], limiter=self._cpu
        )
        previews = [
            (label, await self.render(frame, "preview"))
            for (label, _), frame in zip(wanted, frames, strict=False)
        ]
        return info, previews

    # -- media, files, logs ---------------------------------------------------------------

    async def get_media(self, task_id: object) -> tuple[Task, MediaBundle]:
        task = await self.get_task(task_id)
        bundle = await self._flights.run(("media", task.id), lambda: self.source.get_media(task))
        return task, bundle

    async def output_file(self, task_id: object, file: object) -> FileContent:
        name = validate_file_name(str(file) if file is not None else "")  # refused before any request
        task = await self.get_task(task_id)
        resolved = await self.source.resolve_output_file(task, name)
        if not (resolved.download_url or resolved.path):
            raise NotAvailableError(f"The source gave no download link for '{resolved.name}'.")
        if resolved.size_bytes is not None and resolved.size_bytes > MAX_FILE_BYTES:
            return FileContent(task.id, resolved, None, resolved.mime_type, False)
        locator = _Location(resolved.download_url, resolved.path)
        data = await self.read(locator, max_bytes=MAX_FILE_BYTES, task_id=task.id)
        sniffed = media.sniff_mime(data)
        is_text = resolved.name.lower().endswith(TEXT_FILE_SUFFIXES) and b"\x00" not in data[:8192]
        if sniffed and not sniffed.startswith(("text/", "application/json")):
            is_text = False
        return FileContent(
            task.id, resolved.model_copy(update={"size_bytes": len(data)}), data, sniffed, is_text
        )

    async def log_text(self, task_id: object) -> tuple[str, bool]:
        """The execution log's tail as text, and whether it was cut."""
        task = await self.get_task(task_id)
        item = await self.source.get_log(task)
        if item is None:
            raise NotAvailableError(f"The {self.source.kind} source keeps no execution log for tasks.")
        data = await self.read(item, max_bytes=MAX_LOG_BYTES, task_id=task.id)
        if b"\x00" in data[:8192]:
            raise MediaError("The execution log is not text; it cannot be shown.")
        return _tail(data)

    async def conversation_text(self, task_id: object, step: object) -> tuple[str, bool]:
        """What the agent's LLM was sent and answered at one step (local runs), tail-capped."""
        number = coerce_int(step, what="step", minimum=0, maximum=1_000_000)
        _, bundle = await self.get_media(task_id)
        match = next((c for c in bundle.conversations if conversation_step(c.name) == number), None)
        if match is None:
            have = sorted(
                n for n in (conversation_step(c.name) for c in bundle.conversations) if n is not None
            )
            listed = ", ".join(str(n) for n in have[:30]) or "none"
            raise NotFoundError(f"No conversation log for step {number}. Steps with one: {listed}.")
        data = await self.read(match, max_bytes=MAX_LOG_BYTES)
        return _tail(data)

    def memo(self, task: Task, key: str, build: Callable[[], T]) -> T:
        """A value derived from this very task object (rendered text, structured result), kept with it.

        Keyed by the object itself, not just its id: a re-fetched task is a new object and
        gets fresh renderings.
        """
        entry = self._memos.get((task.id, key))
        if entry is not None and entry[0] is task:
            return entry[1]  # type: ignore[no-any-return]
        value = build()
        self._memos.put((task.id, key), (task, value), size=MEMO_ENTRY_SIZE)
        return value

    async def aclose(self) -> None:
        await self.source.aclose()


@dataclass(frozen=True)
class _Location:
    url: str | None
    path: str | None


def _tail(data: bytes) -> tuple[str, bool]:
    """A log's text, cut to its last LOG_TAIL_CHARS characters, and whether it was cut."""
    text = data.decode("utf-8", errors="replace")
    if len(text) <= LOG_TAIL_CHARS:
        return text, False
    return text[-LOG_TAIL_CHARS:], True


def conversation_step(name: str) -> int | None:
    """browser-use names conversation logs `conversation_<agent id>_<step>.txt`."""
    match = re.search(r"_(\d+)\.txt$", name)
    return int(match.group(1)) if match else None


def _with_resource_uris(task: Task) -> Task:
    for step in task.steps:
        if step.screenshot is not None:
            step.screenshot.resource_uri = task_uri(task.id, "screenshots", step.number)
    return task


def _caption(task: Task, shot: Screenshot) -> str:
    if shot.step is None:
        return "Screenshot"
    step = task.step(shot.step)
    goal = clean_line(step.next_goal, 70) if step else ""
    return f"Step {shot.step} · {goal}" if goal else f"Step {shot.step}"


def pick_frames(shots: Sequence[Screenshot], task: Task, limit: int) -> list[Screenshot]:
    """At most `limit` screenshots: always the first, the last and the failing ones, then evenly spaced."""
    if len(shots) <= limit:
        return list(shots)
    failing = {s.number for s in task.steps if s.errors}
    keep = {0, len(shots) - 1}
    keep |= {i for i, s in enumerate(shots) if s.step in failing}
    keep = set(sorted(keep)[:limit])
    spare = limit - len(keep)
    if spare > 0:
        stride = len(shots) / (spare + 1)
        keep |= {min(len(shots) - 1, round(stride * (k + 1))) for k in range(spare)}
    return [shots[i] for i in sorted(keep)][:limit]
