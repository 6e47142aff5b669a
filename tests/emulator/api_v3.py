"""Browser Use Cloud API v3 (``/api/v3``): sessions, their messages, workspace files.

A v3 session here replays one seeded task under the task's id (`SeedV3Session`); its
messages come from the task's steps (`seed.v3_messages`). Screenshot URLs expire after
5 minutes and file URLs after 60 s, as the document says, counted from the request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import media
from .seed import Entry, SeedTask, SeedV3Session, _id, v3_messages
from .validation import parse_int, parse_uuid, response_422

if TYPE_CHECKING:
    from .server import Emulator

SCREENSHOT_EXPIRES = 300
FILE_EXPIRES = 60
SESSION_NOT_FOUND = {"detail": "Session not found"}


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator  # type: ignore[no-any-return]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def iso(value: datetime | None) -> str | None:
    """v3 and v4 send offset-aware UTC datetimes."""
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z") if value else None


def auth(request: Request) -> Response | None:
    if request.headers.get("x-browser-use-api-key") != _emulator(request).api_key:
        return JSONResponse({"detail": "Invalid API key"}, status_code=401)
    return None


def presign_now(request: Request, path: str, expires: int) -> str:
    """A URL issued now (to the second) that lives `expires` seconds."""
    issued = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return media.presign(base_url(request), path, issued=issued, expires=expires)


def entry_screenshot(request: Request, task: SeedTask, entry: Entry) -> str | None:
    step = entry.step
    if step is None or not step.screenshot:
        return None
    path = media.screenshot_path(task.id, step)
    if step.screenshot_expired:
        issued = _emulator(request).issued_at - timedelta(days=1)
        return media.presign(base_url(request), path, issued=issued, expires=SCREENSHOT_EXPIRES)
    return presign_now(request, path, SCREENSHOT_EXPIRES)


def workspace_files(
    request: Request, workspace_id: str, task: SeedTask, *, with_urls: bool
) -> dict[str, Any]:
    emulator = _emulator(request)
    files = []
    for f in task.output_files:
        path = media.file_path(task.id, f.name)
        files.append(
            {
                "path": f.name,
                "size": len(emulator.media[path].produce()),
                "lastModified": iso(task.finished_at or task.created_at),
                "url": presign_now(request, path, FILE_EXPIRES) if with_urls else None,
            }
        )
    return {"files": files, "folders": [], "nextCursor": None, "hasMore": False}


def find_workspace(request: Request, workspace_id: str) -> SeedTask | None:
    seed = _emulator(request).seed
    for item in [*seed.v3_sessions.values(), *seed.v4_runs.values()]:
        if item.workspace_id == workspace_id:
            return seed.tasks[item.id]
    return None


async def get_workspace_files(request: Request) -> Response:
    if (denied := auth(request)) is not None:
        return denied
    errors: list[dict[str, Any]] = []
    workspace_id = parse_uuid(request.path_params["workspace_id"], ["path", "workspace_id"], errors)
    parse_int(request.query_params.get("limit"), ["query", "limit"], errors, default=50, ge=1, le=100)
    if errors or workspace_id is None:
        return response_422(errors)
    task = find_workspace(request, workspace_id)
    if task is None:
        return JSONResponse({"detail": "Workspace not found"}, status_code=404)
    with_urls = request.query_params.get("includeUrls", "false").lower() == "true"
    return JSONResponse(workspace_files(request, workspace_id, task, with_urls=with_urls))


def session_view(request: Request, session: SeedV3Session) -> dict[str, Any]:
    task = _emulator(request).seed.tasks[session.id]
    steps = [e for e in v3_messages(session, task) if e.role == "ai"]
    last_shot = next((e for e in reversed(steps) if e.step and e.step.screenshot), None)
    recordings = (
        [presign_now(request, media.session_recording_path(f"v3-{session.id}"), 3600)]
        if session.recorded
        else []
    )
    return {
        "id": session.id,
        "status": session.status,
        "model": session.model,
        "title": session.title,
        "output": task.output if session.status not in ("created", "running") else None,
        "outputSchema": None,
        "stepCount": len(task.steps),
        "lastStepSummary": steps[-1].summary if steps else None,
        "isTaskSuccessful": session.is_task_successful,
        "liveUrl": f"https://live.browser-use.com/?session={session.id[:8]}"
        if session.status in ("created", "idle", "running")
        else None,
        "recordingUrls": recordings,
        "profileId": None,
        "workspaceId": session.workspace_id,
        "proxyCountryCode": None,
        "maxCostUsd": None,
        "totalInputTokens": session.total_input_tokens,
        "totalOutputTokens": session.total_output_tokens,
        "proxyUsedMb": "0",
        "llmCostUsd": session.total_cost_usd,
        "proxyCostUsd": "0",
        "browserCostUsd": "0",
        "totalCostUsd": session.total_cost_usd,
        "screenshotUrl": entry_screenshot(request, task, last_shot) if last_shot else None,
        "agentmailEmail": None,
        "integrationsUsed": [],
        "createdAt": iso(task.created_at),
        "updatedAt": iso(session.updated_at),
    }


def _lookup(request: Request) -> SeedV3Session | Response:
    if (denied := auth(request)) is not None:
        return denied
    errors: list[dict[str, Any]] = []
    session_id = parse_uuid(request.path_params["session_id"], ["path", "session_id"], errors)
    if errors or session_id is None:
        return response_422(errors)
    session = _emulator(request).seed.v3_sessions.get(session_id)
    if session is None or not _emulator(request).serves("v3", session_id):
        return JSONResponse(SESSION_NOT_FOUND, status_code=404)
    return session


async def list_sessions(request: Request) -> Response:
    if (denied := auth(request)) is not None:
        return denied
    q = request.query_params
    errors: list[dict[str, Any]] = []
    page = parse_int(q.get("page"), ["query", "page"], errors, default=1, ge=1)
    size = parse_int(q.get("page_size"), ["query", "page_size"], errors, default=20, ge=1, le=100)
    if errors:
        return response_422(errors)
    sessions = [s for s in _emulator(request).seed.v3_list() if _emulator(request).serves("v3", s.id)]
    start = (page - 1) * size
    return JSONResponse(
        {
            "sessions": [session_view(request, s) for s in sessions[start : start + size]],
            "total": len(sessions),
            "page": page,
            "pageSize": size,
        }
    )


async def get_session(request: Request) -> Response:
    session = _lookup(request)
    return session if isinstance(session, Response) else JSONResponse(session_view(request, session))


async def get_messages(request: Request) -> Response:
    session = _lookup(request)
    if isinstance(session, Response):
        return session
    q = request.query_params
    errors: list[dict[str, Any]] = []
    after = parse_uuid(q["after"], ["query", "after"], errors) if "after" in q else None
    limit = parse_int(q.get("limit"), ["query", "limit"], errors, default=10, ge=1, le=100)
    if errors:
        return response_422(errors)
    task = _emulator(request).seed.tasks[session.id]
    entries = v3_messages(session, task)
    ids = [_id(f"v3-message/{session.id}/{i}") for i in range(len(entries))]
    start = ids.index(after) + 1 if after in ids else 0
    window = list(zip(ids, entries, strict=True))[start : start + limit]
    return JSONResponse(
        {
            "messages": [
                {
                    "id": mid,
                    "sessionId": session.id,
                    "role": e.role,
                    "data": e.data if isinstance(e.data, str) else str(e.data),
                    "type": e.type,
                    "summary": e.summary,
                    "screenshotUrl": entry_screenshot(request, task, e),
                    "hidden": e.hidden,
                    "createdAt": iso(e.at),
                }
                for mid, e in window
            ],
            "hasMore": start + limit < len(entries),
        }
    )


routes = [
    Route("/api/v3/sessions", list_sessions, methods=["GET"]),
    Route("/api/v3/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/api/v3/sessions/{session_id}/messages", get_messages, methods=["GET"]),
    Route("/api/v3/workspaces/{workspace_id}/files", get_workspace_files, methods=["GET"]),
]
