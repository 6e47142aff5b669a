"""Browser Use Cloud API v4 (`/api/v4`): a run is the task, its events are the steps.

v4 has no step array. `GET /runs/{id}/events` pages through free-form events (`type` is any
string, `data` any object); each event becomes one step, numbered by its position: the
actions it names (or its type, as the action), its page URL and goal when it carries them, a
bounded summary of the rest as its result, its error. Any image URL in an event's data is that
step's screenshot. Unknown types are rendered generically, never dropped.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidInputError, MalformedResponseError, TasksError
from ..ids import validate_uuid
from ..models import (
    MediaBundle,
    MediaItem,
    OutputFile,
    Task,
    TaskPage,
    TaskStatusInfo,
    TaskSummary,
    is_terminal,
    normalize_status,
)
from .base import Capabilities
from .cloud import CloudSource
from .cloud_v3 import LINK_TTL_S, files_with_links, fresh_file, summary_of, workspace_files
from .parse import (
    MAX_STEPS,
    action_entries,
    as_data,
    as_dict,
    as_int,
    as_list,
    as_str,
    as_text,
    bounded_steps,
    clean_id,
    judgement_from,
    parse_datetime,
)

API_NAME = "Browser Use Cloud API v4"
EVENTS_PER_PAGE = 200
MAX_EVENT_PAGES = (2 * MAX_STEPS) // EVENTS_PER_PAGE + 1
RUNS_PER_PAGE = 100
#: Runs walked to reach a page, or scanned to filter by status (v4 has cursors and no filter).
MAX_RUNS_SCANNED = 1_000

_STATUS = {
    "queued": "created",
    "dispatching": "created",
    "running": "running",
    "completed": "finished",
    "failed": "failed",
    "cancelled": "stopped",
}
_FAILING_TYPES = ("run.failed", "run.dispatch_failed")
_IMAGE_KEYS = ("screenshot_url", "screenshotUrl", "screenshot", "image_url", "imageUrl", "image")
_IMAGE_PATH = re.compile(r"\.(png|jpe?g|webp|gif)$", re.IGNORECASE)
_ERROR_KEYS = ("error", "error_message", "errorMessage")
#: Keys shown as the step's own fields, not repeated in its summary.
_SHOWN = {"url", "goal", "next_goal", "summary", "actions", "step", *_IMAGE_KEYS, *_ERROR_KEYS}


def status_from_v4(raw: str | None) -> str:
    """v4's status in the common vocabulary; an undocumented one kept only when it is a plain word."""
    return _STATUS.get(raw or "") or normalize_status(raw)


def _image_url(data: dict[str, Any]) -> str | None:
    """The first image URL an event carries: a known key, else any http(s) value ending like an image."""
    for key in _IMAGE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return as_str(value)
    for value in data.values():
        is_link = isinstance(value, str) and value.startswith(("https://", "http://"))
        if is_link and _IMAGE_PATH.search(value.split("?", 1)[0]):
            return as_str(value)
    return None


def step_from_event(event: dict[str, Any], number: int) -> dict[str, Any]:
    """One event's `Step` fields (plain, so `task_from_v4` validates every step in one pydantic pass)."""
    kind = (as_str(event.get("type")) or "event")[:100]
    data = as_dict(event.get("data"))
    actions = action_entries(data.get("actions")) if isinstance(data.get("actions"), list) else []
    if not actions:
        params = {k: v for k, v in as_dict(as_data(data)).items() if k not in _SHOWN}
        actions = [{"name": kind, "params": params}]
    rest = {k: v for k, v in data.items() if k not in _SHOWN}
    errors = [text for key in _ERROR_KEYS if (text := as_text(data.get(key)))]
    if not errors and (kind in _FAILING_TYPES or kind.endswith((".error", ".failed"))):
        errors.append(as_text(data.get("message")) or f"The event {kind} reports a failure.")
    results = [text] if (text := summary_of(rest)) else []
    shot = _image_url(data)
    return {
        "number": number,
        "url": as_str(data.get("url")) if isinstance(data.get("url"), str) else None,
        "next_goal": as_text(data.get("goal"))
        or as_text(data.get("next_goal"))
        or as_text(data.get("summary")),
        "actions": actions,
        "results": results,
        "errors": errors,
        "started_at": parse_datetime(event.get("ts")),
        "screenshot": {"step": number, "url": shot} if shot else None,
    }


def steps_from_events(events: list[dict[str, Any]], notes: list[str]) -> list[dict[str, Any]]:
    kept, skipped = bounded_steps(events)
    notes += [skipped] if skipped else []
    return [step_from_event(event, index + 1) for index, event in kept]


class CloudV4Source(CloudSource):
    kind = "cloud-v4"
    api_name = API_NAME
    generation = "v4"
    # Event data may carry image links whose lifetime no document states: assume v3's 5 minutes.
    capabilities = Capabilities(max_link_ttl_s=LINK_TTL_S)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: (page size, page) -> the cursor that starts it, so page N does not walk N-1 pages again.
        self._cursors: dict[tuple[int, int], str] = {}

    def task_not_found(self, task_id: str) -> str:
        return f"Run {task_id} was not found in Browser Use Cloud (v4). Call list_tasks to see your run ids."

    async def get_task(self, task_id: str) -> Task:
        body = self.require_object(
            await self._api.get_json(f"/runs/{task_id}", not_found=self.task_not_found(task_id)), "run"
        )
        notes: list[str] = []
        events = await self._events(task_id, notes)
        task = task_from_v4(body, events, notes)
        files = await workspace_files(self, as_str(body.get("workspaceId")), task.notes)
        return task.model_copy(update={"output_files": files})

    async def _events(self, run_id: str, notes: list[str]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        after = 0
        for _ in range(MAX_EVENT_PAGES):
            body = self.require_object(
                await self._api.get_json(
                    f"/runs/{run_id}/events",
                    params={"after": after, "limit": EVENTS_PER_PAGE},
                    not_found=self.task_not_found(run_id),
                ),
                "event list",
            )
            events += [e for e in as_list(body.get("events")) if isinstance(e, dict)]
            next_after = as_int(body.get("nextAfter"))
            if not body.get("hasMore") or next_after is None or next_after <= after:
                return events
            after = next_after
        notes.append(f"Only the first {len(events)} events of this run were read.")
        return events

    async def get_status(self, task_id: str) -> TaskStatusInfo:
        body = self.require_object(
            await self._api.get_json(f"/runs/{task_id}/status", not_found=self.task_not_found(task_id)),
            "run status",
        )
        raw = body.get("status")
        if not isinstance(raw, str) or not raw.strip():
            raise MalformedResponseError(f"The {API_NAME} sent a run status of an unexpected shape.")
        return TaskStatusInfo(id=task_id, status=status_from_v4(raw), raw_status=raw)

    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        if status is not None:
            return await self._filtered(status, page, page_size)
        if (page - 1) * page_size >= MAX_RUNS_SCANNED:
            raise InvalidInputError(
                f"Cloud API v4 lists runs by cursor; pages beyond the newest {MAX_RUNS_SCANNED} runs "
                "cannot be reached. Use a larger page_size."
            )
        cursor = await self._cursor_of(page, page_size)
        if page > 1 and cursor is None:  # the listing ends before this page
            return TaskPage(items=[], page=page, page_size=page_size, total_items=(page - 1) * page_size)
        runs, next_cursor, more = await self._runs(page_size, cursor)
        if more and next_cursor:
            self._remember(page_size, page + 1, next_cursor)
        total = None if more else (page - 1) * page_size + len(runs)
        return TaskPage(
            items=runs,
            page=page,
            page_size=page_size,
            total_items=total,
            total_pages=None if total is None else max(1, -(-total // page_size)),
        )

    async def _cursor_of(self, page: int, page_size: int) -> str | None:
        """The cursor that starts `page`, walking from the nearest page whose cursor is known."""
        if page == 1:
            return None
        known = max((p for (s, p) in self._cursors if s == page_size and p <= page), default=1)
        cursor = self._cursors.get((page_size, known))
        for number in range(known, page):
            _, cursor, more = await self._runs(page_size, cursor)
            if not more or not cursor:
                return None
            self._remember(page_size, number + 1, cursor)
        return cursor

    def _remember(self, page_size: int, page: int, cursor: str) -> None:
        if len(self._cursors) > 1_000:
            self._cursors.clear()
        self._cursors[(page_size, page)] = cursor

    async def _runs(self, limit: int, cursor: str | None) -> tuple[list[TaskSummary], str | None, bool]:
        body = self.require_object(
            await self._api.get_json("/runs", params={"limit": limit, "cursor": cursor}), "run list"
        )
        if not isinstance(body.get("runs"), list):
            raise MalformedResponseError(f"The {API_NAME} sent a run list of an unexpected shape.")
        items = [s for s in (_summary_from_v4(r) for r in as_list(body.get("runs"))) if s]
        return items, as_str(body.get("nextCursor")), body.get("hasMore") is True

    async def _filtered(self, status: str, page: int, page_size: int) -> TaskPage:
        """v4 cannot filter upstream: scan the newest runs and filter here."""
        matching: list[TaskSummary] = []
        cursor: str | None = None
        scanned = 0
        while scanned < MAX_RUNS_SCANNED:
            runs, cursor, more = await self._runs(RUNS_PER_PAGE, cursor)
            scanned += len(runs)
            matching += [r for r in runs if r.status == status]
            if not more or not cursor:
                break
        start = (page - 1) * page_size
        return TaskPage(
            items=matching[start : start + page_size],
            page=page,
            page_size=page_size,
            total_items=len(matching),
            total_pages=max(1, -(-len(matching) // page_size)),
            notices=[f"Filtered here among the newest {scanned} runs (v4 cannot filter by status)."],
        )

    async def get_media(self, task: Task) -> MediaBundle:
        bundle = MediaBundle(task_id=task.id)
        recording = await self._recording(task, bundle.notes)
        if recording is not None:
            bundle.recordings.append(recording)
        bundle.output_files = await files_with_links(self, task, bundle.notes)
        return bundle

    async def _recording(self, task: Task, notes: list[str]) -> MediaItem | None:
        """Recording is opt-in per run: the run's session's browser holds it, when there is one."""
        if not task.session_id:
            notes.append("The run names no session, so no recording can be looked up.")
            return None
        try:
            listing = self.require_object(
                await self._api.get_json(
                    "/browsers", params={"agentSessionId": task.session_id, "pageSize": 10}
                ),
                "browser list",
            )
            recordings: list[str] = []
            for item in as_list(listing.get("items"))[:10]:
                browser_id = clean_id(as_dict(item).get("id"), validate_uuid)
                if not browser_id:
                    continue
                detail = as_dict(
                    await self._api.get_json(
                        f"/browsers/{browser_id}",
                        not_found=f"Browser {browser_id} of this run was not found.",
                    )
                )
                if url := as_str(detail.get("recordingUrl")):
                    recordings.append(url)
        except TasksError as exc:
            notes.append(f"Recording unavailable: {exc.message}")
            return None
        if not recordings:
            notes.append("No recording of this run (recording is opt-in per run, or it is not ready yet).")
            return None
        return MediaItem(kind="recording", name="browser recording", url=recordings[0], mime_type="video/mp4")

    async def resolve_output_file(self, task: Task, file: str) -> OutputFile:
        return await fresh_file(self, task, file)


def task_from_v4(data: dict[str, Any], events: list[dict[str, Any]], notes: list[str]) -> Task:
    task_id = clean_id(data.get("id"), validate_uuid)
    if not task_id:
        raise MalformedResponseError(f"The {API_NAME} sent a run without a valid id.")
    raw_status = as_str(data.get("status"))
    status = status_from_v4(raw_status)
    error = as_text(data.get("error"))
    if error:
        notes.append(f"The run reports an error: {error}")
    live = next(
        (
            as_str(as_dict(e.get("data")).get("live_view_url"))
            for e in reversed(events)
            if e.get("type") in ("browser.ready", "browser.reattached")
        ),
        None,
    )
    metadata = {
        key: value
        for key, value in {
            "title": as_str(data.get("title")),
            "workspace_id": clean_id(data.get("workspaceId"), validate_uuid),
            "total_input_tokens": as_int(data.get("totalInputTokens")),
            "total_output_tokens": as_int(data.get("totalOutputTokens")),
        }.items()
        if value is not None
    }
    return Task.model_validate(
        {
            "id": task_id,
            "source": "cloud-v4",
            "task": as_str(data.get("task")),
            "status": status,
            "raw_status": raw_status,
            "judgement": judgement_from(data.get("judgement")),
            "output": as_str(data.get("result")),
            # A decimal string, kept exactly as sent.
            "cost_usd": as_str(data.get("totalCostUsd")),
            "llm": as_str(data.get("model")),
            "session_id": clean_id(data.get("sessionId"), validate_uuid),
            "created_at": parse_datetime(data.get("createdAt")),
            "finished_at": parse_datetime(data.get("updatedAt")) if is_terminal(status) else None,
            "metadata": metadata,
            "steps": steps_from_events(events, notes),
            "live_url": None if is_terminal(status) else live,
            "notes": notes,
        }
    )


def _summary_from_v4(item: Any) -> TaskSummary | None:
    data = as_dict(item)
    task_id = clean_id(data.get("id"), validate_uuid)
    if not task_id:
        return None
    raw_status = as_str(data.get("status"))
    status = status_from_v4(raw_status)
    return TaskSummary(
        id=task_id,
        task=as_str(data.get("task")) or as_str(data.get("title")),
        status=status,
        raw_status=raw_status,
        created_at=parse_datetime(data.get("createdAt")),
        finished_at=parse_datetime(data.get("updatedAt")) if is_terminal(status) else None,
        output=as_str(data.get("result")),
    )
