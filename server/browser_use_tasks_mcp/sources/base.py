"""The interface every task source implements, and the capabilities it declares.

A source answers in the domain model (`models.py`) and raises only `TasksError`
subclasses. Anything derived from a task (screenshots from steps, a GIF assembled from
screenshots, previews) is built above the source, in `service.py` and `gif.py`, so each
source only says what its backend really has. The layers above never ask which backend
they talk to: they read `capabilities`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from ..ids import validate_id
from ..models import (
    MediaBundle,
    MediaItem,
    OutputFile,
    Screenshot,
    SourceKind,
    Task,
    TaskPage,
    TaskStatusInfo,
)


class Locatable(Protocol):
    """Anything whose bytes can be read: a remote `url` or a `path` inside a runs folder."""

    @property
    def url(self) -> str | None: ...

    @property
    def path(self) -> str | None: ...


@dataclass(frozen=True)
class Capabilities:
    """What a backend has, so the service and renderers need not know which backend it is."""

    #: Each step carries its own screenshot. False: screenshots are listed apart, behind their
    #: own request, and cannot be matched to steps that lack one (legacy v1).
    screenshots_on_steps: bool = True
    #: Media links are presigned and expire: caches must not outlive them, and the model is told.
    links_expire: bool = True
    #: The longest a media link of this source lives, when the backend documents it (v3: 5 minutes),
    #: whether or not the link says so itself; a task holding links is never cached past it.
    max_link_ttl_s: float | None = None
    #: Tasks and listings are read from a place that changes under us (a folder on disk) and
    #: the source keeps its own cheap cache: the service caches them only for a moment.
    live_listing: bool = False
    #: The backend may hold a GIF of the run; otherwise one is assembled from screenshots.
    own_gif: bool = False
    #: An execution log per task.
    execution_log: bool = False
    #: The LLM conversation of each step.
    conversations: bool = False
    #: The page as the agent's LLM saw it at each step (browser-use's `state_message`).
    page_seen: bool = False


class TaskSource(ABC):
    kind: SourceKind
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: Human-readable description for `check` and the server instructions.
    label: str
    #: What a user should know about how this source was chosen (shown with every listing).
    notices: tuple[str, ...] = ()
    #: The most rows one `list_tasks` call may ask for (an API's page limit); scans use it.
    max_page_size: ClassVar[int] = 100

    @property
    def kinds(self) -> tuple[SourceKind, ...]:
        """The `source` names this source's tasks carry (one; a source over several backends: each)."""
        return (self.kind,)

    def capabilities_for(self, task: Task) -> Capabilities:
        """What the backend holding this task has; a source over several backends answers per task."""
        return self.capabilities

    def validate_task_id(self, task_id: object) -> str:
        """Refuse an id that cannot be valid for this source, before any I/O."""
        return validate_id(task_id)

    @abstractmethod
    async def get_task(self, task_id: str) -> Task:
        """The full task, steps included."""

    async def get_task_for_scan(self, task_id: str) -> Task:
        """The task as a scan across runs reads it: its text, steps and outcome; media need not be looked up.

        Never cached or served as the full task. Default: the full task; a source where finding media
        costs (local runs: a stat per screenshot) skips it.
        """
        return await self.get_task(task_id)

    async def get_status(self, task_id: str) -> TaskStatusInfo:
        """The cheap status for polling; sources with a status endpoint override this."""
        return TaskStatusInfo.of(await self.get_task(task_id))

    @abstractmethod
    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        """Tasks newest first. `status` is in the common vocabulary."""

    async def list_window(
        self, *, status: str | None, since: datetime | None, until: datetime | None, page: int, page_size: int
    ) -> TaskPage:
        """Like `list_tasks`, narrowed to tasks created between `since` and `until` where the API can do
        that itself (v2 `after`/`before`); otherwise the plain listing, and the caller filters."""
        return await self.list_tasks(status=status, page=page, page_size=page_size)

    async def list_screenshots(self, task: Task) -> list[Screenshot]:
        """Screenshots in capture order. Default: one per step that has one."""
        return [s.screenshot for s in task.steps if s.screenshot is not None]

    async def get_source_gif(self, task: Task) -> MediaItem | None:
        """A GIF the backend already has (v1 endpoint, local file), or None to assemble one."""
        return None

    @abstractmethod
    async def get_media(self, task: Task) -> MediaBundle:
        """Recordings, logs, conversation files and output files of the task."""

    @abstractmethod
    async def resolve_output_file(self, task: Task, file: str) -> OutputFile:
        """An output file by name (or id), with a `download_url` or `path` to read it from."""

    async def get_page_seen(self, task: Task, step: int) -> tuple[str, bool] | None:
        """The page as the agent's LLM saw it at a step, and whether it was cut; None when not kept."""
        return None

    async def get_log(self, task: Task) -> MediaItem | None:
        """The execution log, if the source has one."""
        return None

    @abstractmethod
    async def read_bytes(self, item: Locatable, *, max_bytes: int) -> bytes:
        """Download or read an item's bytes, refusing more than `max_bytes`."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections and watchers."""
