"""A bounded walk over a source's listing, newest first, reading each run's digest.

The source's own filters narrow the listing (status; a v4 listing pages by cursor, remembered
per page size); the rest is checked here. The walk stops at the scan limit, at the end of the
listing, past the `since` bound, or when its share of the call deadline is spent, and says
which, so a partial answer arrives instead of a timeout.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import anyio

from ..errors import InvalidInputError, TasksError
from ..models import Task, TaskPage, TaskSummary
from ..service import TaskService
from ..untrusted import clean_line
from .align import same_instruction
from .digest import RunDigest, digest, utc
from .window import Scan, Window

#: Full tasks read at once from a Cloud API (local runs are read in worker threads anyway).
CONCURRENT_READS = 8
#: Rows past `since` in a row after which the (newest first) listing is taken to be past it.
PAST_SINCE_ROWS = 25
MAX_SCAN_ERRORS = 10

_RELATIVE = re.compile(r"(\d{1,6})\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(value: object, what: str, *, now: datetime | None = None) -> datetime | None:
    """An ISO 8601 date or time (UTC unless it says), or an age like `24h`, `7d`, `2w`, `30m`."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    now = now or datetime.now(UTC)
    try:
        relative = _RELATIVE.fullmatch(text)
        if relative:
            return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
        parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        return utc(parsed)
    except (ValueError, OverflowError):
        raise InvalidInputError(
            f"`{what}` must be an ISO 8601 date or time (2026-11-30, 2026-11-30T09:00:00Z) or an age "
            f"(24h, 7d, 2w); got {clean_line(str(value), 40)!r}."
        ) from None


def check_window(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since > until:
        raise InvalidInputError("`since` is after `until`: no run can match. Swap them or drop one.")


def source_filter(value: object, service: TaskService) -> str | None:
    """The source kind asked for (`v2` is `cloud-v2`), refused when this server cannot read it."""
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    wanted = f"cloud-{text}" if re.fullmatch(r"v[1-4]", text) else text
    readable = service.source.kinds
    if wanted not in readable:
        raise InvalidInputError(
            f"`source` {clean_line(str(value), 30)!r} is not read by this server; it reads "
            f"{', '.join(readable)}."
        )
    return wanted


def _when(row: TaskSummary) -> datetime | None:
    stamp = row.created_at or row.finished_at
    return utc(stamp) if stamp else None


def _in_window(row: TaskSummary, window: Window, kind: str) -> bool:
    if window.source and (row.source or kind) != window.source:
        return False
    if window.instruction and row.task and not same_instruction(row.task, window.instruction):
        return False
    stamp = _when(row)
    if stamp is None:
        return True  # decided on the full task, which may know its time
    return not (window.since and stamp < window.since) and not (window.until and stamp > window.until)


def _digest_in_window(run: RunDigest, window: Window) -> bool:
    stamp = utc(run.created_at) if run.created_at else None
    if stamp is None:
        return window.since is None and window.until is None
    return not (window.since and stamp < window.since) and not (window.until and stamp > window.until)


async def scan(service: TaskService, window: Window, budget_s: float) -> Scan:
    """Walk the listing within `window.scan_limit` rows and `budget_s` seconds (after the first page)."""
    deadline = anyio.current_time() + budget_s
    size = max(1, min(window.scan_limit, service.source.max_page_size))
    found = Scan()
    page, past_since = 1, 0
    while True:
        if found.listed >= window.scan_limit:
            found.stopped = "scan_limit"
            break
        if page == 1:
            # The first page under the call's own deadline: an upstream failure there is the answer,
            # with the retries any other call gets.
            listing = await _page(service, window, page, size)
        else:
            try:
                with anyio.move_on_after(max(0.0, deadline - anyio.current_time())) as scope:
                    listing = await _page(service, window, page, size)
            except TasksError as exc:
                found.errors.append(f"listing page {page}: {exc.message}")
                found.stopped = "listing"
                break
            if scope.cancelled_caught:
                found.stopped = "deadline"
                break
        rows = listing.items[: window.scan_limit - found.listed]
        found.listed += len(rows)
        kind = service.source.kind
        wanted = [r for r in rows if _in_window(r, window, kind)]
        past_since = _past_since(rows, window, past_since)
        await _read(service, wanted, deadline, found, window)
        if found.stopped == "deadline":
            break
        if not listing.has_more or not listing.items:
            break
        if past_since >= PAST_SINCE_ROWS:
            found.stopped = "since"
            break
        page += 1
    return found


async def _page(service: TaskService, window: Window, page: int, size: int) -> TaskPage:
    return await service.scan_page(
        status=window.status, since=window.since, until=window.until, page=page, page_size=size
    )


def _past_since(rows: list[TaskSummary], window: Window, run: int) -> int:
    """How many rows in a row were older than `since` (a newest-first listing is then past it)."""
    if window.since is None:
        return 0
    for row in rows:
        stamp = _when(row)
        run = run + 1 if stamp is not None and stamp < window.since else 0
    return run


async def _read(
    service: TaskService, rows: list[TaskSummary], deadline: float, found: Scan, window: Window
) -> None:
    """The digests of `rows` into `found`, in order: cached ones at once, the rest read from the source."""
    kind = service.source.kind
    out: list[RunDigest | None] = [service.digests.get(kind, row) for row in rows]
    missing = [i for i, d in enumerate(out) if d is None]
    if missing:
        limiter = anyio.CapacityLimiter(CONCURRENT_READS)

        async def one(index: int) -> None:
            row = rows[index]
            async with limiter:
                try:
                    task = await service.read_for_scan(row.id)
                except TasksError as exc:
                    if len(found.errors) < MAX_SCAN_ERRORS:
                        found.errors.append(f"{row.id}: {exc.message}")
                    return
            read = out[index] = digest(task)
            service.digests.put(kind, row, read)

        with anyio.move_on_after(max(0.0, deadline - anyio.current_time())) as scope:
            async with anyio.create_task_group() as group:
                for index in missing:
                    group.start_soon(one, index)
        if scope.cancelled_caught:
            found.stopped = "deadline"
            found.unread += sum(1 for i in missing if out[i] is None)
    found.runs += [d for d in out if d is not None and _digest_in_window(d, window)]


def window_of(
    service: TaskService, *, status: str | None, since: object, until: object, source: object, scan_limit: int
) -> Window:
    """The validated window of a search or statistics call, refused before any I/O."""
    start, end = parse_time(since, "since"), parse_time(until, "until")
    check_window(start, end)
    return Window(
        status=status, since=start, until=end, source=source_filter(source, service), scan_limit=scan_limit
    )


#: Runs a failed run's debugging looks back through for a successful run of the same instruction.
TWIN_SCAN = 200


async def successful_twin(service: TaskService, task: Task, budget_s: float) -> RunDigest | None:
    """The newest finished, successful run of the same instruction as `task`, if a short scan finds one."""
    if not task.task:
        return None
    window = Window(status="finished", scan_limit=TWIN_SCAN, instruction=task.task)
    found = await scan(service, window, budget_s)
    return next(
        (
            r
            for r in found.runs
            if r.id != task.id and r.succeeded and same_instruction(r.instruction, task.task)
        ),
        None,
    )
