"""Browser Use Cloud API v2 (`/api/v2`): the current API for tasks."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import anyio

from ..errors import InvalidInputError, MalformedResponseError, NotAvailableError, TasksError
from ..ids import validate_file_name, validate_uuid
from ..jsondata import loads
from ..models import (
    Judgement,
    MediaBundle,
    MediaItem,
    OutputFile,
    Task,
    TaskPage,
    TaskStatusInfo,
    TaskSummary,
    normalize_status,
)
from .base import Capabilities
from .cloud import CloudSource
from .parse import (
    MAX_FILES,
    action_fields,
    as_bool,
    as_data,
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    bounded_steps,
    clean_id,
    judgement_from,
    mark_judged_failures,
    parse_datetime,
)

log = logging.getLogger(__name__)

_SLACK = timedelta(seconds=1)
# Common vocabulary -> v2 `filterBy`. v2 has no `paused`.
_V2_FILTER = {
    "created": "created",
    "running": "started",
    "finished": "finished",
    "failed": "failed",
    "stopped": "stopped",
}
MAX_RESOLVED_FILES = 20
API_NAME = "Browser Use Cloud API v2"


class CloudV2Source(CloudSource):
    kind = "cloud-v2"
    api_name = API_NAME
    generation = "v2"
    capabilities = Capabilities(execution_log=True)

    # -- tasks -------------------------------------------------------------------------

    async def get_task(self, task_id: str) -> Task:
        body = await self._api.get_json(f"/tasks/{task_id}", not_found=self.task_not_found(task_id))
        return task_from_v2(body)

    async def get_status(self, task_id: str) -> TaskStatusInfo:
        body = await self._api.get_json(f"/tasks/{task_id}/status", not_found=self.task_not_found(task_id))
        data = self.require_object(body, "task status")
        raw = data.get("status")
        if not isinstance(raw, str) or not raw:
            raise MalformedResponseError(
                "The Browser Use Cloud API v2 sent a task status of an unexpected shape."
            )
        return TaskStatusInfo(
            id=task_id,
            status=normalize_status(raw),
            raw_status=raw,
            is_success=as_bool(data.get("isSuccess")),
            output=as_str(data.get("output")),
            finished_at=parse_datetime(data.get("finishedAt")),
            cost_usd=as_str(data.get("cost")),
        )

    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        return await self._list(status, page, page_size, {})

    async def list_window(
        self, *, status: str | None, since: datetime | None, until: datetime | None, page: int, page_size: int
    ) -> TaskPage:
        # v2 filters by creation time itself; a second of slack either side, as the bounds' own
        # inclusiveness is not documented (the caller filters exactly).
        dates = {
            name: (value + shift).strftime("%Y-%m-%dT%H:%M:%SZ")
            for name, value, shift in (("after", since, -_SLACK), ("before", until, _SLACK))
            if value is not None
        }
        return await self._list(status, page, page_size, dates)

    async def _list(self, status: str | None, page: int, page_size: int, dates: dict[str, str]) -> TaskPage:
        params: dict[str, Any] = {"pageSize": page_size, "pageNumber": page, **dates}
        if status is not None:
            if status not in _V2_FILTER:
                raise InvalidInputError(
                    f"Cloud API v2 cannot filter by status '{status}'; use one of {', '.join(_V2_FILTER)}."
                )
            params["filterBy"] = _V2_FILTER[status]
        body = self.require_object(await self._api.get_json("/tasks", params=params), "task list")
        if not isinstance(body.get("items"), list):
            # Not "no tasks": a list without its items is a response we do not understand.
            raise MalformedResponseError(
                "The Browser Use Cloud API v2 sent a task list of an unexpected shape."
            )
        items = [_summary_from_v2(item) for item in as_list(body.get("items")) if isinstance(item, dict)]
        total = as_int(body.get("totalItems"))
        return TaskPage(
            items=[i for i in items if i is not None],
            page=as_int(body.get("pageNumber")) or page,
            page_size=as_int(body.get("pageSize")) or page_size,
            total_items=total,
            total_pages=None if total is None else max(1, -(-total // page_size)),
        )

    # -- media ---------------------------------------------------------------------------

    async def get_media(self, task: Task) -> MediaBundle:
        bundle = MediaBundle(task_id=task.id)
        recording: MediaItem | None = None
        log_item: MediaItem | None = None
        files: list[OutputFile] = []

        async def load_recording() -> None:
            nonlocal recording
            recording = await self._recording(task, bundle.notes)

        async def load_log() -> None:
            nonlocal log_item
            try:
                log_item = await self.get_log(task)
            except TasksError as exc:
                bundle.notes.append(f"Execution log unavailable: {exc.message}")

        async def load_files() -> None:
            files.extend(await self._resolve_files(task, bundle.notes))

        async with anyio.create_task_group() as group:
            group.start_soon(load_recording)
            group.start_soon(load_log)
            group.start_soon(load_files)
        if recording is not None:
            bundle.recordings.append(recording)
        if log_item is not None:
            bundle.logs.append(log_item)
        bundle.output_files = files
        return bundle

    async def _recording(self, task: Task, notes: list[str]) -> MediaItem | None:
        if not task.session_id:
            notes.append("The task has no session id, so no session recording can be looked up.")
            return None
        try:
            session_id = validate_uuid(task.session_id, what="session_id")
            body = await self._api.get_json(
                f"/sessions/{session_id}", not_found=f"Session {session_id} of this task was not found."
            )
        except TasksError as exc:
            notes.append(f"Session recording unavailable: {exc.message}")
            return None
        url = as_str(as_dict(body).get("recordingUrl"))
        if not url:
            notes.append(
                "The task's browser session has no recording (recording was not enabled or not ready)."
            )
            return None
        return MediaItem(kind="recording", name="session recording", url=url, mime_type="video/mp4")

    async def _resolve_files(self, task: Task, notes: list[str]) -> list[OutputFile]:
        files = task.output_files[:MAX_RESOLVED_FILES]
        resolved: list[OutputFile] = list(files)

        async def resolve(index: int, file: OutputFile) -> None:
            try:
                resolved[index] = await self.resolve_output_file(task, file.id or file.name)
            except TasksError as exc:
                notes.append(f"No download link for {file.name}: {exc.message}")

        async with anyio.create_task_group() as group:
            for index, file in enumerate(files):
                group.start_soon(resolve, index, file)
        if len(task.output_files) > MAX_RESOLVED_FILES:
            notes.append(
                f"{len(task.output_files) - MAX_RESOLVED_FILES} more output files; "
                "call get_output_file with a file name for each."
            )
        return resolved

    async def resolve_output_file(self, task: Task, file: str) -> OutputFile:
        match = self.listed_file(task, validate_file_name(file), by_id=True)
        if not match.id:
            raise NotAvailableError(
                f"The API listed '{match.name}' without a file id, so it cannot be downloaded."
            )
        file_id = validate_uuid(match.id, what="file id")
        body = self.require_object(
            await self._api.get_json(
                f"/files/tasks/{task.id}/output-files/{file_id}",
                not_found=f"Output file '{match.name}' of task {task.id} was not found.",
            ),
            "output file",
        )
        return match.model_copy(update={"download_url": as_str(body.get("downloadUrl"))})

    async def get_log(self, task: Task) -> MediaItem | None:
        body = await self._api.get_json(f"/tasks/{task.id}/logs", not_found=self.task_not_found(task.id))
        url = as_str(as_dict(body).get("downloadUrl"))
        if not url:
            raise MalformedResponseError("The Browser Use Cloud API v2 returned no log download link.")
        return MediaItem(kind="log", name="execution log", url=url, mime_type="text/plain")


def _require_object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedResponseError(f"The {API_NAME} sent a {what} of an unexpected shape.")
    return body


def _judgement(verdict: Any, report: Any) -> Judgement | None:
    """v2 sends the judge's report as a JSON string, its verdict apart."""
    text = as_str(report)
    parsed: Any = {}
    if text:
        try:
            parsed = loads(text)
        except (ValueError, RecursionError):
            parsed = {"reasoning": text}
    return judgement_from(parsed, verdict)


def _steps_from_v2(raw_steps: list[Any], notes: list[str]) -> list[dict[str, Any]]:
    """The steps as plain fields: `task_from_v2` validates them with the task in one pydantic pass
    (one call instead of three per step, the larger part of mapping a long task)."""
    steps: list[dict[str, Any]] = []
    kept, skipped = bounded_steps([s for s in raw_steps if isinstance(s, dict)])
    notes += [skipped] if skipped else []
    for index, item in kept:
        number = as_int(item.get("number")) or index + 1
        shot = as_str(item.get("screenshotUrl"))
        steps.append(
            {
                "number": number,
                "url": as_str(item.get("url")),
                "evaluation_previous_goal": as_str(item.get("evaluationPreviousGoal")),
                "memory": as_str(item.get("memory")),
                "next_goal": as_str(item.get("nextGoal")),
                "actions": [action_fields(a) for a in as_list(item.get("actions"))],
                "duration_s": as_float(item.get("duration")),
                "screenshot": {"step": number, "url": shot} if shot else None,
            }
        )
    return steps


def task_from_v2(body: Any) -> Task:
    data = _require_object(body, "task")
    task_id = clean_id(data.get("id"), validate_uuid)
    if not task_id:
        raise MalformedResponseError("The Browser Use Cloud API v2 sent a task without a valid id.")
    raw_status = as_str(data.get("status"))
    notes: list[str] = []
    task = Task.model_validate(
        {
            "id": task_id,
            "source": "cloud-v2",
            "task": as_str(data.get("task")),
            "status": normalize_status(raw_status),
            "raw_status": raw_status,
            "is_success": as_bool(data.get("isSuccess")),
            "judgement": _judgement(data.get("judgeVerdict"), data.get("judgement")),
            "output": as_str(data.get("output")),
            "cost_usd": as_str(data.get("cost")),
            "llm": as_str(data.get("llm")),
            "browser_use_version": as_str(data.get("browserUseVersion")),
            "session_id": clean_id(data.get("sessionId"), validate_uuid),
            "created_at": parse_datetime(data.get("createdAt")),
            "started_at": parse_datetime(data.get("startedAt")),
            "finished_at": parse_datetime(data.get("finishedAt")),
            "metadata": as_dict(as_data(data.get("metadata"))),
            "steps": _steps_from_v2(as_list(data.get("steps")), notes),
            "output_files": [
                OutputFile(name=as_str(f.get("fileName")) or "unnamed", id=as_str(f.get("id")))
                for f in as_list(data.get("outputFiles"))[:MAX_FILES]
                if isinstance(f, dict)
            ],
            "suggestions": [as_data(s) for s in as_list(data.get("suggestions"))[:10] if isinstance(s, dict)],
            "notes": notes,
        }
    )
    mark_judged_failures(task.steps)
    return task


def _summary_from_v2(item: dict[str, Any]) -> TaskSummary | None:
    task_id = clean_id(item.get("id"), validate_uuid)
    if not task_id:
        return None
    raw_status = as_str(item.get("status"))
    return TaskSummary(
        id=task_id,
        task=as_str(item.get("task")),
        status=normalize_status(raw_status),
        raw_status=raw_status,
        is_success=as_bool(item.get("isSuccess")),
        created_at=parse_datetime(item.get("createdAt")),
        finished_at=parse_datetime(item.get("finishedAt")),
        output=as_str(item.get("output")),
    )
