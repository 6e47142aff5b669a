"""`BROWSER_USE_API_VERSION=auto`: one key reads Cloud v4 runs, v3 sessions and v2 tasks as one source.

Listings are merged newest first, each item saying which generation it lives in. A bare id
is looked up in every generation at once the first time and remembered, so later calls go
straight to the right one. A generation the key cannot read (403, such as v4 for a Zero Data
Retention project) is skipped with one line, and not asked again for a while.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import NoReturn, TypeVar

import anyio
import httpx2

from ..config import Settings
from ..errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    TasksError,
)
from ..ids import validate_uuid
from ..models import (
    MediaBundle,
    MediaItem,
    OutputFile,
    Screenshot,
    Task,
    TaskPage,
    TaskStatusInfo,
    TaskSummary,
)
from .base import Capabilities, Locatable, TaskSource
from .cloud import CloudSource
from .cloud_v2 import CloudV2Source
from .cloud_v3 import CloudV3Source
from .cloud_v4 import CloudV4Source

T = TypeVar("T")

#: Newest first: the order listings are merged in and ties are broken by.
GENERATIONS: tuple[type[CloudSource], ...] = (CloudV4Source, CloudV3Source, CloudV2Source)
#: A merged page needs every generation's first page*page_size tasks; beyond this, pin one generation.
MERGED_LISTING_MAX = 1_000
#: Ids whose generation is remembered (about 100 bytes each).
REMEMBERED_IDS = 20_000
#: How long a generation that refused the key is skipped before it is asked again.
DENIED_RETRY_S = 600.0
#: Answers that mean "this key cannot read this generation", as opposed to "try again".
_DENIALS = (PermissionDeniedError, AuthenticationError)


def _newest_first(item: TaskSummary) -> tuple[bool, float]:
    created = item.created_at
    return (created is None, -(created.timestamp() if isinstance(created, datetime) else 0.0))


class AutoCloudSource(TaskSource):
    kind = "cloud"
    # What the generations have in common; per-task answers come from `capabilities_for`.
    capabilities = Capabilities(execution_log=True)

    def __init__(
        self, members: list[CloudSource], *, root: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.members = members
        self.label = f"Browser Use Cloud v4, v3 and v2 at {root} (auto)"
        self._by_kind = {m.kind: m for m in members}
        self._where: OrderedDict[str, CloudSource] = OrderedDict()
        self._denied: dict[str, tuple[float, str]] = {}
        self._clock = clock

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(m.kind for m in self.members)

    @classmethod
    def open(cls, settings: Settings, client: httpx2.AsyncClient) -> AutoCloudSource:
        members = [g.open(replace(settings, api_version=g.generation), client) for g in GENERATIONS]
        return cls(members, root=settings.api_root)

    def validate_task_id(self, task_id: object) -> str:
        return validate_uuid(task_id)  # type: ignore[arg-type]

    def capabilities_for(self, task: Task) -> Capabilities:
        member = self._by_kind.get(task.source)
        return member.capabilities if member else self.capabilities

    # -- where an id lives ------------------------------------------------------------------

    def _remember(self, task_id: str, member: CloudSource) -> None:
        self._where[task_id] = member
        self._where.move_to_end(task_id)
        if len(self._where) > REMEMBERED_IDS:
            self._where.popitem(last=False)

    def _readable(self) -> list[CloudSource]:
        """The generations not recently found closed to this key (all of them, if every one was)."""
        now = self._clock()
        open_ = [m for m in self.members if self._denied.get(m.kind, (0.0, ""))[0] <= now]
        return open_ or list(self.members)

    def _deny(self, member: CloudSource, error: TasksError) -> str:
        line = f"Cloud {member.generation} skipped: {error.message}"
        self._denied[member.kind] = (self._clock() + DENIED_RETRY_S, line)
        return line

    def _skipped_lines(self) -> list[str]:
        now = self._clock()
        return [line for until, line in self._denied.values() if until > now]

    async def _find(self, task_id: str, read: Callable[[CloudSource], Awaitable[T]]) -> T:
        """`read` from the generation holding `task_id`: the remembered one, else all at once."""
        known = self._where.get(task_id)
        if known is not None:
            try:
                return await read(known)
            except NotFoundError:
                self._where.pop(task_id, None)  # gone from there: look everywhere again
        members = self._readable()
        outcomes: dict[str, T | TasksError] = {}

        async def attempt(member: CloudSource) -> None:
            try:
                outcomes[member.kind] = await read(member)
            except TasksError as exc:
                outcomes[member.kind] = exc

        async with anyio.create_task_group() as group:
            for member in members:
                group.start_soon(attempt, member)
        for member in members:  # newest generation first
            outcome = outcomes[member.kind]
            if not isinstance(outcome, TasksError):
                self._remember(task_id, member)
                return outcome
        self._none_found(task_id, [(m, outcomes[m.kind]) for m in members])

    def _none_found(self, task_id: str, failures: list[tuple[CloudSource, object]]) -> NoReturn:
        for member, error in failures:
            if isinstance(error, _DENIALS):
                self._deny(member, error)
        # A generation that could not answer (5xx, timeout) may hold the task: say that, not "not found".
        unsure = [
            e
            for _, e in failures
            if isinstance(e, TasksError) and not isinstance(e, (NotFoundError, *_DENIALS))
        ]
        if unsure:
            raise unsure[0]
        denials = [e for _, e in failures if isinstance(e, _DENIALS)]
        if denials and len(denials) == len(failures):
            raise denials[0]  # no generation reads this key: that, not "not found", is the news
        searched = " or ".join(m.generation for m, e in failures if isinstance(e, NotFoundError))
        skipped = "".join(f" {line}" for line in self._skipped_lines())
        raise NotFoundError(
            f"Task {task_id} was not found in Browser Use Cloud ({searched or 'no readable generation'}).{skipped} "
            "Call list_tasks to see your task ids."
        )

    def _of(self, task: Task) -> CloudSource:
        """The generation a task was read from (its mapper names it in `task.source`)."""
        member = self._by_kind.get(task.source)
        if member is None:
            raise NotFoundError(
                f"Task {task.id} does not come from a Browser Use Cloud generation read here."
            )
        return member

    # -- tasks ------------------------------------------------------------------------------

    async def get_task(self, task_id: str) -> Task:
        return await self._find(task_id, lambda m: m.get_task(task_id))

    async def get_status(self, task_id: str) -> TaskStatusInfo:
        return await self._find(task_id, lambda m: m.get_status(task_id))

    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        wanted = page * page_size
        if wanted > MERGED_LISTING_MAX:
            raise InvalidInputError(
                f"A merged listing reads the newest {MERGED_LISTING_MAX} tasks of each generation; page {page} "
                f"of {page_size} goes past them. Pin one generation (BROWSER_USE_API_VERSION=v4, v3 or v2) "
                "to page further."
            )
        members = self._readable()
        heads: dict[str, TaskPage | TasksError] = {}

        async def head(member: CloudSource) -> None:
            try:
                heads[member.kind] = await self._head(member, status, wanted)
            except TasksError as exc:
                heads[member.kind] = exc

        async with anyio.create_task_group() as group:
            for member in members:
                group.start_soon(head, member)
        return self._merge(members, heads, page, page_size)

    async def _head(self, member: CloudSource, status: str | None, wanted: int) -> TaskPage:
        """A generation's newest `wanted` tasks, as one page (its total, when known)."""
        chunk = min(100, wanted)
        items: list[TaskSummary] = []
        notices: list[str] = []
        number = 0
        while len(items) < wanted:
            number += 1
            part = await member.list_tasks(status=status, page=number, page_size=chunk)
            items += part.items
            notices += [n for n in part.notices if n not in notices]
            if not part.has_more or len(part.items) < chunk:
                return TaskPage(
                    items=items, page=1, page_size=wanted, total_items=len(items), notices=notices
                )
        return TaskPage(
            items=items[:wanted], page=1, page_size=wanted, total_items=part.total_items, notices=notices
        )

    def _merge(
        self, members: list[CloudSource], heads: dict[str, TaskPage | TasksError], page: int, page_size: int
    ) -> TaskPage:
        seen: set[str] = set()
        merged: list[TaskSummary] = []
        problems: list[str] = []
        notices: list[str] = []
        totals: list[int | None] = []
        failed = [h for h in heads.values() if isinstance(h, TasksError)]
        if failed and len(failed) == len(members):
            raise failed[0]  # nothing readable at all: the newest generation's reason
        for member in members:
            got = heads[member.kind]
            if isinstance(got, TasksError):
                if isinstance(got, _DENIALS):
                    self._deny(member, got)
                else:
                    problems.append(f"Cloud {member.generation} could not be listed: {got.message}")
                continue
            totals.append(got.total_items)
            notices += [f"Cloud {member.generation}: {n}" for n in got.notices]
            for item in got.items:
                if item.id not in seen:  # one id, one task: the newest generation's
                    seen.add(item.id)
                    merged.append(item.model_copy(update={"source": member.kind}))
                    if item.id not in self._where:
                        self._remember(item.id, member)
        merged.sort(key=_newest_first)
        start = (page - 1) * page_size
        total = sum(t for t in totals if t is not None) if totals and None not in totals else None
        return TaskPage(
            items=merged[start : start + page_size],
            page=page,
            page_size=page_size,
            total_items=total,
            total_pages=None if total is None else max(1, -(-total // page_size)),
            errors=problems,
            notices=[*self._skipped_lines(), *notices],
        )

    # -- everything else goes to the task's own generation -----------------------------------

    async def list_screenshots(self, task: Task) -> list[Screenshot]:
        return await self._of(task).list_screenshots(task)

    async def get_source_gif(self, task: Task) -> MediaItem | None:
        return await self._of(task).get_source_gif(task)

    async def get_media(self, task: Task) -> MediaBundle:
        return await self._of(task).get_media(task)

    async def resolve_output_file(self, task: Task, file: str) -> OutputFile:
        return await self._of(task).resolve_output_file(task, file)

    async def get_log(self, task: Task) -> MediaItem | None:
        member = self._of(task)
        return await member.get_log(task) if member.capabilities.execution_log else None

    async def read_bytes(self, item: Locatable, *, max_bytes: int) -> bytes:
        # Every generation downloads through the same guarded fetcher settings.
        return await self.members[0].read_bytes(item, max_bytes=max_bytes)

    async def aclose(self) -> None:
        for member in self.members:
            await member.aclose()
