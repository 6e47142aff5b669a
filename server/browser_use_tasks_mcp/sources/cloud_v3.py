"""Browser Use Cloud API v3 (`/api/v3`): a session is the task, its messages are the steps.

A session's message stream holds the user's task, the agent's browser actions (each with a
screenshot URL that expires after 5 minutes), their results or errors, planning notes and
the completion. Each agent message becomes one step; a `browser_action_result` or
`browser_action_error` belongs to the step before it. Message types this module does not
know are kept as steps named after their type, never dropped.

The workspace helpers here are shared with v4, whose file listing has the same shape.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import MalformedResponseError, NotAvailableError, NotFoundError, TasksError
from ..ids import validate_file_name, validate_uuid
from ..jsondata import loads
from ..models import (
    MediaBundle,
    MediaItem,
    OutputFile,
    Task,
    TaskPage,
    TaskSummary,
    is_terminal,
    normalize_status,
)
from .base import Capabilities
from .cloud import CloudSource
from .parse import (
    MAX_FILES,
    MAX_STEPS,
    action_entries,
    as_bool,
    as_data,
    as_dict,
    as_int,
    as_list,
    as_str,
    as_text,
    bounded_steps,
    clean_id,
    parse_datetime,
)

API_NAME = "Browser Use Cloud API v3"
#: Messages per request (the API's maximum) and requests per task.
MESSAGES_PER_PAGE = 100
MAX_MESSAGE_PAGES = (2 * MAX_STEPS) // MESSAGES_PER_PAGE + 1
#: Sessions scanned to filter a listing by status (v3 cannot filter upstream).
FILTER_SCAN = 500
#: Presigned screenshot URLs "expire after 5 minutes".
LINK_TTL_S = 300.0
#: One bounded summary of a message's or an event's data.
SUMMARY_CHARS = 2_000
FILES_PER_PAGE = 100

_RESULT_TYPES = {"browser_action_result"}
_ERROR_TYPES = {"browser_action_error"}


def status_from_v3(raw: str | None, *, has_result: bool) -> str:
    """v3 words in the common vocabulary. A session goes idle, or stops, after its task ends:
    with a result it finished, without one it was stopped (or never given a task)."""
    match raw:
        case "created":
            return "created"
        case "running":
            return "running"
        case "idle":
            return "finished" if has_result else "created"
        case "stopped":
            return "finished" if has_result else "stopped"
        case "timed_out" | "error":
            return "failed"
    return normalize_status(raw)  # undocumented: kept only when it is a plain word


def summary_of(value: Any) -> str | None:
    """A bounded, readable line of any JSON value."""
    if value is None or value == {} or value == "":
        return None
    text = value if isinstance(value, str) else json.dumps(as_data(value), ensure_ascii=False)
    text = text.strip()
    if len(text) > SUMMARY_CHARS:
        text = text[:SUMMARY_CHARS] + " … [cut]"
    return as_str(text)


def parsed(text: str | None) -> Any:
    """A message's `data`, parsed when it is JSON, else the text itself."""
    if not text:
        return None
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return loads(stripped)
        except (ValueError, RecursionError):
            return text
    return text


def output_text(value: Any) -> str | None:
    """v3 `output` may be text, structured data or a code-mode object: always text here."""
    if value is None:
        return None
    if isinstance(value, str):
        return as_str(value)
    return as_str(json.dumps(as_data(value), ensure_ascii=False))


# -- workspaces (shared with v4) --------------------------------------------------------------


async def list_workspace(source: CloudSource, workspace_id: str, *, urls: bool) -> list[dict[str, Any]]:
    """Every file of a workspace (bounded), with fresh presigned URLs when `urls`."""
    wid = validate_uuid(workspace_id, what="workspace id")
    files: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(files) < MAX_FILES:
        params: dict[str, Any] = {"limit": FILES_PER_PAGE, "cursor": cursor}
        if urls:
            params["includeUrls"] = "true"
        body = source.require_object(
            await source._api.get_json(
                f"/workspaces/{wid}/files", params=params, not_found=f"Workspace {wid} was not found."
            ),
            "workspace file list",
        )
        files += [f for f in as_list(body.get("files")) if isinstance(f, dict)]
        cursor = as_str(body.get("nextCursor"))
        if not (as_bool(body.get("hasMore")) and cursor):
            break
    return files[:MAX_FILES]


def files_from_listing(items: list[dict[str, Any]]) -> list[OutputFile]:
    files: list[OutputFile] = []
    for item in items:
        path = as_str(item.get("path"))
        if path:
            files.append(
                OutputFile(
                    name=path, size_bytes=as_int(item.get("size")), download_url=as_str(item.get("url"))
                )
            )
    return files


async def workspace_files(
    source: CloudSource, workspace_id: str | None, notes: list[str]
) -> list[OutputFile]:
    """The names and sizes of the workspace's files, without links (they expire in 60 s)."""
    if not workspace_id:
        return []
    try:
        listed = files_from_listing(await list_workspace(source, workspace_id, urls=False))
    except TasksError as exc:
        notes.append(f"Workspace files unavailable: {exc.message}")
        return []
    return [f.model_copy(update={"download_url": None}) for f in listed]


async def fresh_file(source: CloudSource, task: Task, file: str) -> OutputFile:
    """The file with a download link fetched now: workspace links live 60 s, so none is kept."""
    match = source.listed_file(task, validate_file_name(file))
    workspace = task.metadata.get("workspace_id")
    if not isinstance(workspace, str):
        raise NotAvailableError("This task has no workspace, so it has no files to download.")
    for item in files_from_listing(await list_workspace(source, workspace, urls=True)):
        if item.name == match.name:
            if not item.download_url:
                raise NotAvailableError(f"The API gave no download link for '{match.name}'.")
            return match.model_copy(update={"download_url": item.download_url})
    raise NotFoundError(f"Output file '{match.name}' of task {task.id} is no longer in its workspace.")


async def files_with_links(source: CloudSource, task: Task, notes: list[str]) -> list[OutputFile]:
    workspace = task.metadata.get("workspace_id")
    if not isinstance(workspace, str):
        return []
    try:
        fresh = {f.name: f for f in files_from_listing(await list_workspace(source, workspace, urls=True))}
    except TasksError as exc:
        notes.append(f"No download links for the workspace files: {exc.message}")
        return list(task.output_files)
    notes.append("Workspace file links expire 60 seconds after they are listed: download them at once.")
    return [fresh.get(f.name, f) for f in task.output_files]


# -- the source ---------------------------------------------------------------------------------


class CloudV3Source(CloudSource):
    kind = "cloud-v3"
    api_name = API_NAME
    generation = "v3"
    capabilities = Capabilities(max_link_ttl_s=LINK_TTL_S)

    def task_not_found(self, task_id: str) -> str:
        return (
            f"Session {task_id} was not found in Browser Use Cloud (v3). "
            "Call list_tasks to see your session ids."
        )

    async def get_task(self, task_id: str) -> Task:
        body = await self._api.get_json(f"/sessions/{task_id}", not_found=self.task_not_found(task_id))
        session = self.require_object(body, "session")
        messages, notes = await self._messages(task_id)
        task = task_from_v3(session, messages, notes)
        files = await workspace_files(self, as_str(session.get("workspaceId")), task.notes)
        return task.model_copy(update={"output_files": files})

    async def _messages(self, session_id: str) -> tuple[list[dict[str, Any]], list[str]]:
        messages: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(MAX_MESSAGE_PAGES):
            body = self.require_object(
                await self._api.get_json(
                    f"/sessions/{session_id}/messages",
                    params={"limit": MESSAGES_PER_PAGE, "after": after},
                    not_found=self.task_not_found(session_id),
                ),
                "message list",
            )
            page = [m for m in as_list(body.get("messages")) if isinstance(m, dict)]
            messages += page
            next_after = clean_id(page[-1].get("id"), validate_uuid) if page else None
            if not (as_bool(body.get("hasMore")) and next_after) or next_after == after:
                return messages, []
            after = next_after
        return messages, [f"Only the first {len(messages)} messages of this session were read."]

    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        if status is None:
            body = await self._page(page, page_size)
            items = [s for s in (_summary_from_v3(i) for i in as_list(body.get("sessions"))) if s]
            total = as_int(body.get("total"))
            return TaskPage(
                items=items,
                page=page,
                page_size=page_size,
                total_items=total,
                total_pages=None if total is None else max(1, -(-total // page_size)),
            )
        # v3 cannot filter upstream: scan the newest sessions and filter here.
        matching: list[TaskSummary] = []
        scanned = 0
        for number in range(1, FILTER_SCAN // 100 + 1):
            body = await self._page(number, 100)
            batch = as_list(body.get("sessions"))
            scanned += len(batch)
            matching += [s for s in (_summary_from_v3(i) for i in batch) if s and s.status == status]
            if len(batch) < 100:
                break
        start = (page - 1) * page_size
        notices = [f"Filtered here among the newest {scanned} sessions (v3 cannot filter by status)."]
        return TaskPage(
            items=matching[start : start + page_size],
            page=page,
            page_size=page_size,
            total_items=len(matching),
            total_pages=max(1, -(-len(matching) // page_size)),
            notices=notices,
        )

    async def _page(self, page: int, page_size: int) -> dict[str, Any]:
        body = self.require_object(
            await self._api.get_json("/sessions", params={"page": page, "page_size": page_size}),
            "session list",
        )
        if not isinstance(body.get("sessions"), list):
            raise MalformedResponseError(f"The {API_NAME} sent a session list of an unexpected shape.")
        return body

    async def get_media(self, task: Task) -> MediaBundle:
        bundle = MediaBundle(task_id=task.id)
        recordings = [u for u in as_list(task.metadata.get("recording_urls")) if isinstance(u, str)]
        for index, url in enumerate(recordings, 1):
            name = "session recording" if len(recordings) == 1 else f"session recording {index}"
            bundle.recordings.append(MediaItem(kind="recording", name=name, url=url, mime_type="video/mp4"))
        if not recordings:
            bundle.notes.append(
                "The session has no recording (enableRecording was not set, or the task has not completed)."
            )
        bundle.output_files = await files_with_links(self, task, bundle.notes)
        return bundle

    async def resolve_output_file(self, task: Task, file: str) -> OutputFile:
        return await fresh_file(self, task, file)


# -- mapping ------------------------------------------------------------------------------------


def _step_of(message: dict[str, Any], number: int) -> dict[str, Any]:
    """One agent message's `Step` fields (plain, so `task_from_v3` validates every step in one pass)."""
    kind = as_str(message.get("type")) or "message"
    value = parsed(as_str(message.get("data")))
    summary = as_text(message.get("summary"))
    shot = as_str(message.get("screenshotUrl"))
    actions: list[dict[str, Any]] = []
    results: list[str] = []
    url: str | None = None
    if kind == "browser_action":
        actions = action_entries(value if isinstance(value, list) else [value])
        url = next(
            (as_str(a["params"].get("url")) for a in actions if a["name"] in ("navigate", "go_to_url")), None
        )
    if not actions:
        params = as_dict(as_data(value)) if isinstance(value, dict) else {}
        actions = [{"name": kind[:100], "params": params}]
        if not params and (text := summary_of(value)):
            results.append(text)
    return {
        "number": number,
        "url": url,
        "next_goal": summary,
        "actions": actions,
        "results": results,
        "errors": [summary_of(value) or "The action failed."] if kind in _ERROR_TYPES else [],
        "started_at": parse_datetime(message.get("createdAt")),
        "screenshot": {"step": number, "url": shot} if shot else None,
    }


def _attach(step: dict[str, Any], extra: dict[str, Any]) -> None:
    """A result or error message joins the step it answers; its screenshot too, if the step has none."""
    text = summary_of(parsed(as_str(extra.get("data")))) or as_text(extra.get("summary"))
    if as_str(extra.get("type")) in _ERROR_TYPES:
        step["errors"].append(text or "The action failed.")
    elif text:
        step["results"].append(text)
    shot = as_str(extra.get("screenshotUrl"))
    if shot and step["screenshot"] is None:
        step["screenshot"] = {"step": step["number"], "url": shot}


def steps_from_messages(
    messages: list[dict[str, Any]], notes: list[str]
) -> tuple[str | None, list[dict[str, Any]]]:
    """(the user's task, the steps' fields): agent messages are steps, results and errors join theirs."""
    task_text: str | None = None
    grouped: list[dict[str, Any]] = []
    attached: dict[int, list[dict[str, Any]]] = {}
    for message in messages:
        kind = as_str(message.get("type")) or ""
        if as_str(message.get("role")) == "human" and kind in ("user_message", "") and not grouped:
            task_text = task_text or as_text(message.get("data"))
            continue
        if kind in _RESULT_TYPES | _ERROR_TYPES and grouped:
            attached.setdefault(len(grouped) - 1, []).append(message)
            continue
        grouped.append(message)
    kept, skipped = bounded_steps(grouped)
    notes += [skipped] if skipped else []
    steps: list[dict[str, Any]] = []
    for index, message in kept:
        step = _step_of(message, index + 1)
        for extra in attached.get(index, []):
            _attach(step, extra)
        steps.append(step)
    return task_text, steps


def task_from_v3(data: dict[str, Any], messages: list[dict[str, Any]], notes: list[str]) -> Task:
    task_id = clean_id(data.get("id"), validate_uuid)
    if not task_id:
        raise MalformedResponseError(f"The {API_NAME} sent a session without a valid id.")
    raw_status = as_str(data.get("status"))
    output = output_text(data.get("output"))
    success = as_bool(data.get("isTaskSuccessful"))
    status = status_from_v3(raw_status, has_result=output is not None or success is not None)
    task_text, steps = steps_from_messages(messages, notes)
    metadata = {
        key: value
        for key, value in {
            "title": as_str(data.get("title")),
            "workspace_id": clean_id(data.get("workspaceId"), validate_uuid),
            "step_count": as_int(data.get("stepCount")),
            "last_step_summary": as_str(data.get("lastStepSummary")),
            "total_input_tokens": as_int(data.get("totalInputTokens")),
            "total_output_tokens": as_int(data.get("totalOutputTokens")),
            "llm_cost_usd": as_str(data.get("llmCostUsd")),
            "browser_cost_usd": as_str(data.get("browserCostUsd")),
            "proxy_cost_usd": as_str(data.get("proxyCostUsd")),
            "recording_urls": [u for u in as_list(data.get("recordingUrls")) if isinstance(u, str)][:10],
        }.items()
        if value not in (None, [])
    }
    return Task.model_validate(
        {
            "id": task_id,
            "source": "cloud-v3",
            "task": task_text or as_str(data.get("title")),
            "status": status,
            "raw_status": raw_status,
            "is_success": success,
            "output": output,
            "cost_usd": as_str(data.get("totalCostUsd")),
            "llm": as_str(data.get("model")),
            "created_at": parse_datetime(data.get("createdAt")),
            "finished_at": parse_datetime(data.get("updatedAt")) if is_terminal(status) else None,
            "metadata": metadata,
            "steps": steps,
            "live_url": None if is_terminal(status) else as_str(data.get("liveUrl")),
            "notes": notes,
        }
    )


def _summary_from_v3(item: Any) -> TaskSummary | None:
    data = as_dict(item)
    task_id = clean_id(data.get("id"), validate_uuid)
    if not task_id:
        return None
    raw_status = as_str(data.get("status"))
    output = output_text(data.get("output"))
    success = as_bool(data.get("isTaskSuccessful"))
    status = status_from_v3(raw_status, has_result=output is not None or success is not None)
    return TaskSummary(
        id=task_id,
        task=as_str(data.get("title")),
        status=status,
        raw_status=raw_status,
        is_success=success,
        created_at=parse_datetime(data.get("createdAt")),
        finished_at=parse_datetime(data.get("updatedAt")) if is_terminal(status) else None,
        output=output,
        step_count=as_int(data.get("stepCount")),
    )
