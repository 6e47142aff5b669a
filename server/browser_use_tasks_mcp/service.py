"""The service between the MCP surface and the sources: validation, caching, coalescing.

It caches tasks (finished ones until their links expire, running ones for a moment),
coalesces concurrent reads, and derives what a backend lacks: image previews and log
tails (the GIF is `gif.py`). How long anything is kept follows the source's declared
capabilities, never its name. CPU-bound image work runs in worker threads so one big
image never stalls other calls.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread

from . import media, shared_codecs, uris
from .across.digest import DigestCache
from .cache import ByteLRU, SingleFlight
from .cpu_pool import CpuPool
from .errors import (
    FetchRefusedError,
    InvalidInputError,
    NoScreenshotError,
    NotFoundError,
    TasksError,
)
from .fetch import link_ttl, shortest_link_ttl
from .ids import coerce_int
from .metrics import METRICS
from .models import (
    KNOWN_STATUSES,
    MediaBundle,
    Screenshot,
    Step,
    Task,
    TaskPage,
    TaskStatusInfo,
    TaskSummary,
)
from .shared_cache import SharedCache
from .sources.base import Capabilities, Locatable, TaskSource
from .untrusted import clean_line

T = TypeVar("T")
# `png` is full resolution in one fixed type, for the resource that must declare its mime type.
Resolution = Literal["preview", "full", "png"]
#: Renderers of the full-size resolutions; a preview is `media.make_preview` of one part of the page.
_FULL_SIZE = {"full": media.make_full, "png": media.make_png}

RUNNING_TASK_TTL_S = 2.0
# Presigned links inside a cached task must not outlive themselves; without a stated
# expiry we assume a conservative lifetime.
DEFAULT_LINK_TTL_S = 300.0
MAX_IMAGE_BYTES = 25 * 1024 * 1024
#: What one memoised rendering of a task holds (get_task's text 4-8 KB, its structured result
#: 6-15 KB, measured with tracemalloc on tasks of 10 to 500 steps); counted with the task.
MEMO_ENTRY_SIZE = 10_000
RECENT_TASKS = 20
LISTING_TTL_S = 5.0


class WorkAbandoned(Exception):
    """Raised inside a worker thread whose caller has gone; nobody sees it."""


@dataclass
class ImageResult:
    screenshot: Screenshot
    rendered: media.Rendered


class TaskService:
    def __init__(
        self,
        source: TaskSource,
        *,
        task_cache_bytes: int = 64 * 1024 * 1024,
        media_cache_bytes: int = 96 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedCache | None = None,
        scope: str = "nokey",
        cpu_pool: CpuPool | None = None,
    ) -> None:
        #: Worker processes for image work (`BROWSER_USE_MCP_CPU_PROCESSES`); None: threads.
        self.cpu_pool = cpu_pool
        self.source = source
        #: The cache workers share (Redis), and what this service's values are filed under there: a
        #: keyed hash of its API key. A live source (local files) is cheaper to read than to share.
        self.shared = None if source.capabilities.live_listing else shared
        self.scope = scope
        #: What the source has in general; `capabilities_for(task)` says what a task's backend has.
        self.capabilities = source.capabilities
        self._tasks: ByteLRU[Task] = ByteLRU(task_cache_bytes, clock=clock, on_drop=self._task_dropped)
        self._bytes: ByteLRU[bytes] = ByteLRU(media_cache_bytes // 2, clock=clock)
        #: Rendered previews and assembled GIFs, keyed by what they were made from.
        self.renders: ByteLRU[Any] = ByteLRU(media_cache_bytes // 2, clock=clock)
        #: Renderings of cached tasks, by task id: the task object they were made from, and them.
        self._memos: dict[str, tuple[Task, dict[str, Any]]] = {}
        self._shots: ByteLRU[list[Screenshot]] = ByteLRU(4 * 1024 * 1024, clock=clock)
        self._pages: ByteLRU[TaskPage] = ByteLRU(2 * 1024 * 1024, clock=clock)
        self.flights = SingleFlight()
        #: What searches and statistics need of each run, kept per version of the run (`across/`).
        self.digests = DigestCache()
        # Image work is CPU-bound: two cores here, so at most two at once.
        self._cpu = anyio.CapacityLimiter(2)
        self._downloads = anyio.CapacityLimiter(8)

    # -- tasks -----------------------------------------------------------------------------

    async def get_task(self, task_id: object) -> Task:
        tid = self.source.validate_task_id(task_id)
        cached = self._tasks.get(tid)
        if cached is not None:
            METRICS.cache("task", hit=True)
            return cached
        METRICS.cache("task", hit=False)
        return await self.flights.run(("task", tid), lambda: self._load_task(tid))

    async def _load_task(self, tid: str) -> Task:
        async def fetch() -> Task:
            return with_resource_uris(await self.source.get_task(tid))

        task = await self.through_shared(
            self.shared_key("task", tid),
            fetch,
            encode=lambda t: (shared_codecs.dump_model(t), self.task_ttl(t) or 0.0),
            decode=lambda data: shared_codecs.load_model(Task, data),
        )
        ttl = self.task_ttl(task)
        if ttl is None or ttl > 0:
            self._tasks.put(tid, task, size=task_bytes(task), ttl_s=ttl)
        return task

    def task_ttl(self, task: Task) -> float | None:
        """How long a read of this task may be served again."""
        capabilities = self.source.capabilities_for(task)
        if not task.terminal or capabilities.live_listing:
            return RUNNING_TASK_TTL_S  # a live source keeps its own cache, by file identity
        urls = [s.screenshot.url for s in task.steps if s.screenshot and s.screenshot.url]
        shortest = shortest_link_ttl(urls)
        known = [] if shortest is None else [shortest]
        longest = capabilities.max_link_ttl_s
        if urls and longest is not None:
            # Links that do not say when they expire still die within the source's documented lifetime.
            known.append(longest)
        return min([*known, DEFAULT_LINK_TTL_S * 6]) - 30 if known else DEFAULT_LINK_TTL_S * 6

    def capabilities_for(self, task: Task) -> Capabilities:
        return self.source.capabilities_for(task)

    def forget(self, task_id: str) -> None:
        """Drop a cached task, e.g. after one of its links turned out to have expired."""
        self._tasks.pop(task_id)

    async def get_status(self, task_id: object) -> TaskStatusInfo:
        """The cheap status, always fresh unless the task is cached as finished (it cannot change)."""
        tid = self.source.validate_task_id(task_id)
        cached = self._tasks.get(tid)
        if cached is not None and cached.terminal:
            return TaskStatusInfo.of(cached)
        return await self.flights.run(("status", tid), lambda: self.source.get_status(tid))

    async def recent_tasks(self, limit: int = RECENT_TASKS) -> list[TaskSummary]:
        """The newest tasks, for completions and resource listings: the same query as `list_tasks`."""
        page = await self.list_tasks(page=1, page_size=RECENT_TASKS)
        return page.items[:limit]

    async def list_tasks(
        self, *, status: object = None, page: object = 1, page_size: object = 10
    ) -> TaskPage:
        number = coerce_int(page, what="page", minimum=1, maximum=100_000)
        size = coerce_int(page_size, what="page_size", minimum=1, maximum=100)
        wanted = _status_filter(status)
        key = ("list", wanted, number, size)
        cached = self._pages.get(key)
        if cached is not None:
            return cached
        page_ = await self.flights.run(key, lambda: self._load_page(wanted, number, size))
        if self.source.notices:
            page_ = page_.model_copy(update={"notices": list(self.source.notices)})
        # Listings change as tasks start and end: kept only briefly, and not at all for a live
        # source (a folder rescanned on every call, so a new run shows up at once).
        if not self.capabilities.live_listing:
            self._pages.put(key, page_, size=500 * (len(page_.items) + 1), ttl_s=LISTING_TTL_S)
        return page_

    async def _load_page(self, wanted: str | None, number: int, size: int) -> TaskPage:
        async def fetch() -> TaskPage:
            return await self.source.list_tasks(status=wanted, page=number, page_size=size)

        return await self.through_shared(
            self.shared_key("list", wanted or "all", number, size),
            fetch,
            encode=lambda p: (shared_codecs.dump_model(p), LISTING_TTL_S),
            decode=lambda data: shared_codecs.load_model(TaskPage, data),
        )

    async def through_shared(
        self,
        key: str,
        load: Callable[[], Awaitable[T]],
        *,
        encode: Callable[[T], tuple[bytes, float] | None],
        decode: Callable[[bytes], T | None],
    ) -> T:
        """`load()`, or with a shared cache, the value under `key` that one worker of all asking loads."""
        if self.shared is None:
            return await load()
        return await self.shared.load_once(key, load, encode=encode, decode=decode)

    def shared_key(self, kind: str, *parts: object) -> str:
        """A shared-cache key: the scope, the source and what the value is; never a secret."""
        return ":".join([self.scope, self.source.kind, kind, *map(str, parts)])

    async def read_for_scan(self, task_id: str) -> Task:
        """A task for a scan across runs: the cached full task if there is one, else the source's scan read."""
        tid = self.source.validate_task_id(task_id)
        cached = self._tasks.get(tid)
        if cached is not None:
            return cached
        return await self.flights.run(("scan-task", tid), lambda: self.source.get_task_for_scan(tid))

    async def scan_page(
        self, *, status: str | None, since: datetime | None, until: datetime | None, page: int, page_size: int
    ) -> TaskPage:
        """One listing page for a scan across runs: as large as the source allows, dated where the API
        filters by date itself, not kept."""
        size = max(1, min(page_size, self.source.max_page_size))
        return await self.flights.run(
            ("scan", status, since, until, page, size),
            lambda: self.source.list_window(
                status=status, since=since, until=until, page=page, page_size=size
            ),
        )

    async def get_step(self, task_id: object, step: object) -> tuple[Task, Step]:
        number = coerce_int(step, what="step", minimum=0, maximum=1_000_000)  # refused before any request
        task = await self.get_task(task_id)
        found = task.step(number)
        if found is None:
            span = f"1 to {task.steps[-1].number}" if task.steps else "none: the task has no steps yet"
            raise NotFoundError(f"Task {task.id} has no step {number}. Steps: {span}.")
        if found.screenshot is None and not self.capabilities.screenshots_on_steps:
            found = await self._with_listed_screenshot(task, found)
        return task, found

    async def _with_listed_screenshot(self, task: Task, step: Step) -> Step:
        """The step with its screenshot from the task's screenshot list, where screenshots are kept apart."""
        try:
            _, shots = await self.list_screenshots(task.id)
        except TasksError:
            return step  # the step is still worth showing; get_step says why no image came
        shot = next((s for s in shots if s.step == step.number), None)
        return step if shot is None else step.model_copy(update={"screenshot": shot})

    # -- screenshots and images -----------------------------------------------------------

    async def list_screenshots(self, task_id: object) -> tuple[Task, list[Screenshot]]:
        task = await self.get_task(task_id)
        shots = await self._screenshots_of(task)
        return task, [
            s.model_copy(update={"resource_uri": uris.screenshot(task.id, uris.screenshot_ref(s, i))})
            for i, s in enumerate(shots)
        ]

    async def _screenshots_of(self, task: Task) -> list[Screenshot]:
        if self.capabilities.screenshots_on_steps:
            return await self.source.list_screenshots(task)
        # Listed behind their own request: keep the list as long as the task.
        cached = self._shots.get(task.id)
        if cached is not None:
            return cached
        shots = await self.flights.run(("shots", task.id), lambda: self.source.list_screenshots(task))
        ttl = self.task_ttl(task)
        if ttl is None or ttl > 0:
            self._shots.put(task.id, shots, size=300 * (len(shots) + 1), ttl_s=ttl)
        return shots

    def steps_without_screenshot(self, task: Task) -> list[int]:
        """Steps known to have no screenshot; unknowable when screenshots are kept apart from steps."""
        if not self.capabilities.screenshots_on_steps:
            return []
        return [s.number for s in task.steps if s.screenshot is None]

    async def image(
        self, task_id: object, ref: str | int, resolution: Resolution = "preview", *, part: int = 1
    ) -> ImageResult:
        task, shots = await self.list_screenshots(task_id)
        shot = find_screenshot(shots, ref)
        data = await self.read(shot, max_bytes=MAX_IMAGE_BYTES, task_id=task.id)
        return ImageResult(shot, await self.render(data, resolution, part=part))

    async def render(self, data: bytes, resolution: Resolution, *, part: int = 1) -> media.Rendered:
        """A preview (of a tall page: its part `part`, 1 is the top) or the full image, cached by content."""
        key = (hashlib.sha256(data).hexdigest(), resolution, part if resolution == "preview" else 1)
        cached = self.renders.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        work = (
            functools.partial(media.make_preview, part=part)
            if resolution == "preview"
            else _FULL_SIZE[resolution]
        )
        # Filed by the image's own hash, not the scope: only a caller who has the image can name it.
        rendered = await self.through_shared(
            ":".join(["render", *map(str, key)]),
            lambda: self.run_cpu(work, data),
            encode=lambda r: (shared_codecs.dump_rendered(r), DEFAULT_LINK_TTL_S * 12),
            decode=shared_codecs.load_rendered,
        )
        self.renders.put(key, rendered, size=len(rendered.data))
        return rendered

    async def run_cpu(self, work: Callable[..., T], *args: Any, checked: bool = False) -> T:
        """CPU-bound work in a worker thread, at most two at once (or in the process pool, if any).

        When the call is cancelled (its deadline, the client, shutdown) this returns at once,
        and work that takes `cancelled=` (`checked=True`) stops at its next check instead of
        burning CPU for a result nobody will read.
        """
        if self.cpu_pool is not None:
            return await self.cpu_pool.run(work, *args, checked=checked)
        stop = threading.Event()

        def cancelled() -> None:
            if stop.is_set():
                raise WorkAbandoned

        call = functools.partial(work, *args, **({"cancelled": cancelled} if checked else {}))
        try:
            return await anyio.to_thread.run_sync(call, limiter=self._cpu, abandon_on_cancel=True)
        finally:
            stop.set()

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

    # -- media, files, logs ---------------------------------------------------------------

    async def get_media(self, task_id: object) -> tuple[Task, MediaBundle]:
        task = await self.get_task(task_id)
        bundle = await self.flights.run(("media", task.id), lambda: self.source.get_media(task))
        return task, with_media_uris(task.id, bundle)

    def memo(self, task: Task, key: str, build: Callable[[], T]) -> T:
        """A value derived from this very task object (rendered text, structured result), kept with it.

        Keyed by the object itself, not just its id: a re-fetched task is a new object and
        gets fresh renderings. Only a task the cache holds gets a memo, and the memo leaves with
        it: a task that is not cached (links about to expire, or evicted) is kept alive by nothing.
        """
        held = self._memos.get(task.id)
        if held is not None and held[0] is task and key in held[1]:
            return held[1][key]  # type: ignore[no-any-return]
        value = build()
        if self._tasks.peek(task.id) is task:
            if held is None or held[0] is not task:
                held = self._memos[task.id] = (task, {})
            held[1][key] = value
            self._tasks.grow(task.id, MEMO_ENTRY_SIZE)
        return value

    def _task_dropped(self, task_id: Any, task: Task) -> None:
        held = self._memos.get(task_id)
        if held is not None and held[0] is task:
            del self._memos[task_id]

    async def aclose(self) -> None:
        await self.source.aclose()  # the shared cache belongs to the process, not to one service


#: What a task's objects cost beside their text, measured with tracemalloc on tasks of 10 to
#: 500 steps with one or two actions each (tests/unit/test_cache_accounting.py and the benchmark's
#: memory row keep this honest).
TASK_BASE_BYTES = 8_000
STEP_BASE_BYTES = 2_600
ACTION_BASE_BYTES = 500


def task_bytes(task: Task) -> int:
    """What a cached task really holds in memory, within about 20%: objects plus their text."""
    text = sum(len(v) for v in (task.task, task.output) if v)
    for step in task.steps:
        fields = (
            step.url,
            step.title,
            step.evaluation_previous_goal,
            step.memory,
            step.next_goal,
            step.thinking,
        )
        text += sum(len(v) for v in fields if v) + sum(map(len, step.results)) + sum(map(len, step.errors))
        if step.screenshot is not None:
            shot = step.screenshot
            text += len(shot.url or "") + len(shot.path or "") + len(shot.resource_uri or "")
        text += sum(
            ACTION_BASE_BYTES + len(a.name) + 40 * len(a.params) + len(str(a.params)) for a in step.actions
        )
    return TASK_BASE_BYTES + STEP_BASE_BYTES * len(task.steps) + text


def _status_filter(status: object) -> str | None:
    if status in (None, ""):
        return None
    wanted = str(status).strip().lower()
    if wanted not in KNOWN_STATUSES:
        raise InvalidInputError(
            f"`status` must be one of {', '.join(KNOWN_STATUSES)}; got {clean_line(str(status), 30)!r}."
        )
    return wanted


def find_screenshot(shots: Sequence[Screenshot], ref: str | int) -> Screenshot:
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
    have = ", ".join(uris.screenshot_ref(s, i) for i, s in enumerate(shots[:20])) or "none"
    raise NoScreenshotError(f"No screenshot '{clean_line(text, 20)}' for this task. Screenshots: {have}.")


def conversation_step(name: str) -> int | None:
    """browser-use names conversation logs `conversation_<agent id>_<step>.txt`."""
    match = re.search(r"_(\d+)\.txt$", name)
    return int(match.group(1)) if match else None


def with_resource_uris(task: Task) -> Task:
    prefix = uris.screenshot(task.id, "")  # one quoting of the id, not one per step
    for step in task.steps:
        if step.screenshot is not None:
            step.screenshot.resource_uri = f"{prefix}{step.number}"
    return task


def with_media_uris(task_id: str, bundle: MediaBundle) -> MediaBundle:
    """The bundle with the resources that serve its recordings, logs and conversations named."""
    recordings = [
        r.model_copy(update={"resource_uri": uris.recording(task_id, r.name)}) for r in bundle.recordings
    ]
    logs = [item.model_copy(update={"resource_uri": uris.logs(task_id)}) for item in bundle.logs]
    conversations = [
        c.model_copy(update={"resource_uri": uris.conversation(task_id, step)})
        if (step := conversation_step(c.name)) is not None
        else c
        for c in bundle.conversations
    ]
    return bundle.model_copy(update={"recordings": recordings, "logs": logs, "conversations": conversations})
