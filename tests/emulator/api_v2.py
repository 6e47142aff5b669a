"""Browser Use Cloud API v2 (``/api/v2``): camelCase bodies shaped by the OpenAPI document."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import media
from .seed import SeedSession, SeedStep, SeedTask
from .validation import parse_datetime, parse_enum, parse_int, parse_uuid, response_422

if TYPE_CHECKING:
    from .server import Emulator

TASK_STATUSES = ["created", "started", "finished", "failed", "stopped"]
TASK_NOT_FOUND = {"detail": "Task not found"}


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator  # type: ignore[no-any-return]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def dt(value: datetime | None) -> str | None:
    """Naive UTC ISO 8601, as the v2 API sends it (no offset)."""
    return value.isoformat() if value else None


def _auth(request: Request) -> Response | None:
    key = request.headers.get("x-browser-use-api-key")
    if key != _emulator(request).api_key and key not in _emulator(request).guest_keys:
        return JSONResponse({"detail": "Invalid API key"}, status_code=401)
    return None


def _sees(request: Request, task_id: str) -> bool:
    return _emulator(request).sees(request.headers.get("x-browser-use-api-key"), task_id)


def _step_time(task: SeedTask, step: SeedStep) -> datetime:
    start = task.started_at or task.created_at
    spent = sum((s.duration or 3.0) for s in task.steps if s.number <= step.number)
    return start + timedelta(seconds=spent)


def screenshot_url(request: Request, task: SeedTask, step: SeedStep) -> str | None:
    if not step.screenshot:
        return None
    path = media.screenshot_path(task.id, step)
    if step.screenshot_expired:
        # Dated at its step, and in any case well before the emulator started, so it is
        # expired whatever the machine's clock says.
        latest = _emulator(request).issued_at - timedelta(days=1)
        issued = min(_step_time(task, step).replace(microsecond=0), latest)
        return media.presign(base_url(request), path, issued=issued, expires=media.EXPIRED_SCREENSHOT_EXPIRES)
    return _emulator(request).presign(base_url(request), path, kind="screenshot")


def presign(request: Request, path: str) -> str:
    return _emulator(request).presign(base_url(request), path)


def task_item(task: SeedTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "sessionId": task.session_id,
        "llm": task.llm,
        "task": task.task,
        "status": task.v2_status,
        "createdAt": dt(task.created_at),
        "startedAt": dt(task.started_at),
        "finishedAt": dt(task.finished_at),
        "metadata": dict(task.metadata),
        "output": task.output,
        "browserUseVersion": task.browser_use_version,
        "isSuccess": task.is_success,
        "judgement": task.judgement,
        "judgeVerdict": task.judge_verdict,
        "cost": task.cost,
        "suggestions": task.suggestions,
    }


def task_view(request: Request, task: SeedTask) -> dict[str, Any]:
    view = task_item(task)
    view["steps"] = [
        {
            "number": s.number,
            "memory": s.memory,
            "evaluationPreviousGoal": s.evaluation_previous_goal,
            "nextGoal": s.next_goal,
            "url": s.url,
            "screenshotUrl": screenshot_url(request, task, s),
            "actions": list(s.actions),
            "duration": s.duration,
        }
        for s in task.steps
    ]
    view["outputFiles"] = [{"id": f.id, "fileName": f.name} for f in task.output_files]
    return view


def session_view(request: Request, session: SeedSession) -> dict[str, Any]:
    tasks = [_emulator(request).seed.tasks[tid] for tid in session.task_ids]
    return {
        "id": session.id,
        "status": session.status,
        "liveUrl": session.live_url,
        "recordingUrl": presign(request, media.session_recording_path(session.id))
        if session.recorded
        else None,
        "startedAt": dt(session.started_at),
        "finishedAt": dt(session.finished_at),
        "tasks": [task_item(t) for t in sorted(tasks, key=lambda t: t.created_at, reverse=True)],
        "publicShareUrl": session.public_share_url,
        "persistMemory": True,
        "keepAlive": session.status == "active",
        "proxyUsedMb": session.proxy_used_mb,
        "proxyCost": session.proxy_cost,
    }


def _lookup_task(request: Request) -> SeedTask | Response:
    if (denied := _auth(request)) is not None:
        return denied
    errors: list[dict[str, Any]] = []
    task_id = parse_uuid(request.path_params["task_id"], ["path", "task_id"], errors)
    if errors or task_id is None:
        return response_422(errors)
    task = _emulator(request).seed.tasks.get(task_id)
    if (
        task is None
        or not task.v2_status
        or not _emulator(request).serves("v2", task_id)
        or not _sees(request, task_id)
    ):
        return JSONResponse(TASK_NOT_FOUND, status_code=404)
    return task


async def list_tasks(request: Request) -> Response:
    if (denied := _auth(request)) is not None:
        return denied
    q = request.query_params
    errors: list[dict[str, Any]] = []
    page_size = parse_int(q.get("pageSize"), ["query", "pageSize"], errors, default=10, ge=1, le=100)
    page_number = parse_int(q.get("pageNumber"), ["query", "pageNumber"], errors, default=1, ge=1)
    session_id = parse_uuid(q["sessionId"], ["query", "sessionId"], errors) if "sessionId" in q else None
    status = parse_enum(q.get("filterBy"), ["query", "filterBy"], errors, TASK_STATUSES)
    after = parse_datetime(q.get("after"), ["query", "after"], errors)
    before = parse_datetime(q.get("before"), ["query", "before"], errors)
    if errors:
        return response_422(errors)
    tasks = [
        t
        for t in _emulator(request).seed.v2_tasks()
        if _emulator(request).serves("v2", t.id) and _sees(request, t.id)
    ]
    if session_id:
        tasks = [t for t in tasks if t.session_id == session_id]
    if status:
        tasks = [t for t in tasks if t.v2_status == status]
    if after:
        tasks = [t for t in tasks if t.created_at > after]
    if before:
        tasks = [t for t in tasks if t.created_at < before]
    start = (page_number - 1) * page_size
    return JSONResponse(
        {
            "items": [task_item(t) for t in tasks[start : start + page_size]],
            "totalItems": len(tasks),
            "pageNumber": page_number,
            "pageSize": page_size,
        }
    )


async def get_task(request: Request) -> Response:
    task = _lookup_task(request)
    if isinstance(task, Response):
        return task
    return JSONResponse(task_view(request, task))


async def get_task_status(request: Request) -> Response:
    task = _lookup_task(request)
    if isinstance(task, Response):
        return task
    return JSONResponse(
        {
            "id": task.id,
            "status": task.v2_status,
            "output": task.output,
            "finishedAt": dt(task.finished_at),
            "isSuccess": task.is_success,
            "cost": task.cost,
        }
    )


async def get_task_logs(request: Request) -> Response:
    task = _lookup_task(request)
    if isinstance(task, Response):
        return task
    return JSONResponse({"downloadUrl": presign(request, media.log_path(task.id))})


async def get_output_file(request: Request) -> Response:
    if (denied := _auth(request)) is not None:
        return denied
    errors: list[dict[str, Any]] = []
    task_id = parse_uuid(request.path_params["task_id"], ["path", "task_id"], errors)
    file_id = parse_uuid(request.path_params["file_id"], ["path", "file_id"], errors)
    if errors:
        return response_422(errors)
    task = _emulator(request).seed.tasks.get(task_id or "")
    if task is None or not task.v2_status:
        return JSONResponse(TASK_NOT_FOUND, status_code=404)
    file = next((f for f in task.output_files if f.id == file_id), None)
    if file is None:
        return JSONResponse({"detail": "Output file not found"}, status_code=404)
    return JSONResponse(
        {
            "id": file.id,
            "fileName": file.name,
            "downloadUrl": presign(request, media.file_path(task.id, file.name)),
        }
    )


async def get_session(request: Request) -> Response:
    if (denied := _auth(request)) is not None:
        return denied
    errors: list[dict[str, Any]] = []
    session_id = parse_uuid(request.path_params["session_id"], ["path", "session_id"], errors)
    if errors:
        return response_422(errors)
    session = _emulator(request).seed.sessions.get(session_id or "")
    if session is None:
        return JSONResponse({"detail": "Session not found"}, status_code=404)
    return JSONResponse(session_view(request, session))


routes = [
    Route("/api/v2/tasks", list_tasks, methods=["GET"]),
    Route("/api/v2/tasks/{task_id}", get_task, methods=["GET"]),
    Route("/api/v2/tasks/{task_id}/status", get_task_status, methods=["GET"]),
    Route("/api/v2/tasks/{task_id}/logs", get_task_logs, methods=["GET"]),
    Route("/api/v2/files/tasks/{task_id}/output-files/{file_id}", get_output_file, methods=["GET"]),
    Route("/api/v2/sessions/{session_id}", get_session, methods=["GET"]),
]
