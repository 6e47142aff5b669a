"""Browser Use Cloud API v4 (``/api/v4``): runs, their events, workspace files, browsers.

A v4 run here replays one seeded task under the task's id, in the task's session
(`SeedV4Run`); its events come from the task's steps (`seed.v4_events`). There is no step
array: each event is what a reader turns into a step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import media
from .api_v3 import auth, entry_screenshot, get_workspace_files, iso, presign_now
from .seed import SeedV4Run, v4_events
from .validation import parse_int, parse_uuid, response_422

if TYPE_CHECKING:
    from .server import Emulator

RUN_NOT_FOUND = {"detail": "Run not found"}


def _emulator(request: Request) -> Emulator:
    return request.app.state.emulator  # type: ignore[no-any-return]


def run_view(run: SeedV4Run, request: Request) -> dict[str, Any]:
    task = _emulator(request).seed.tasks[run.id]
    return {
        "id": run.id,
        "task": task.task,
        "title": run.title,
        "model": run.model,
        "contextLimit": 200_000,
        "status": run.status,
        "result": task.output if run.status == "completed" else None,
        "error": run.error,
        "sessionId": task.session_id,
        "workspaceId": run.workspace_id,
        "attachedFileIds": None,
        "judgement": run.judgement,
        "totalInputTokens": run.total_input_tokens,
        "totalOutputTokens": run.total_output_tokens,
        "totalCostUsd": run.total_cost_usd,
        "createdAt": iso(task.created_at),
        "updatedAt": iso(run.updated_at),
    }


def _lookup(request: Request) -> SeedV4Run | Response:
    if (denied := auth(request)) is not None:
        return denied
    errors: list[dict[str, Any]] = []
    run_id = parse_uuid(request.path_params["run_id"], ["path", "run_id"], errors)
    if errors or run_id is None:
        return response_422(errors)
    run = _emulator(request).seed.v4_runs.get(run_id)
    if run is None or not _emulator(request).serves("v4", run_id):
        return JSONResponse(RUN_NOT_FOUND, status_code=404)
    return run


async def list_runs(request: Request) -> Response:
    if (denied := auth(request)) is not None:
        return denied
    q = request.query_params
    errors: list[dict[str, Any]] = []
    limit = parse_int(q.get("limit"), ["query", "limit"], errors, default=50, ge=1, le=100)
    session_id = parse_uuid(q["sessionId"], ["query", "sessionId"], errors) if "sessionId" in q else None
    cursor = q.get("cursor")
    if errors:
        return response_422(errors)
    runs = [r for r in _emulator(request).seed.v4_list() if _emulator(request).serves("v4", r.id)]
    if session_id:
        runs = [r for r in runs if _emulator(request).seed.tasks[r.id].session_id == session_id]
    start = 0
    if cursor:
        ids = [r.id for r in runs]
        if not cursor.startswith("after:") or cursor[6:] not in ids:
            return JSONResponse({"detail": "Invalid cursor"}, status_code=400)
        start = ids.index(cursor[6:]) + 1
    window = runs[start : start + limit]
    more = start + limit < len(runs)
    return JSONResponse(
        {
            "runs": [run_view(r, request) for r in window],
            "nextCursor": f"after:{window[-1].id}" if more and window else None,
            "hasMore": more,
        }
    )


async def get_run(request: Request) -> Response:
    run = _lookup(request)
    return run if isinstance(run, Response) else JSONResponse(run_view(run, request))


async def get_run_status(request: Request) -> Response:
    run = _lookup(request)
    return run if isinstance(run, Response) else JSONResponse({"status": run.status})


async def get_events(request: Request) -> Response:
    run = _lookup(request)
    if isinstance(run, Response):
        return run
    errors: list[dict[str, Any]] = []
    limit = parse_int(request.query_params.get("limit"), ["query", "limit"], errors, default=200, ge=1)
    after = parse_int(request.query_params.get("after"), ["query", "after"], errors, default=0, ge=0)
    if errors:
        return response_422(errors)
    task = _emulator(request).seed.tasks[run.id]
    events = []
    # Event ids are 1, 2, ... in order; `after` is the highest id already seen.
    for number, entry in enumerate(v4_events(run, task), 1):
        data = dict(entry.data)
        shot = entry_screenshot(request, task, entry)
        if shot:
            data["screenshot_url"] = shot
        events.append({"runId": run.id, "id": number, "ts": iso(entry.at), "type": entry.type, "data": data})
    window = [e for e in events if e["id"] > after][:limit]
    more = bool(window) and window[-1]["id"] < len(events)
    return JSONResponse(
        {"events": window, "nextAfter": window[-1]["id"] if window else None, "hasMore": more}
    )


def _browser(run: SeedV4Run, request: Request, *, detail: bool) -> dict[str, Any]:
    task = _emulator(request).seed.tasks[run.id]
    ended = run.status in ("completed", "failed", "cancelled")
    return {
        "id": run.browser_id,
        "status": "stopped" if ended else "active",
        "liveUrl": None,
        "cdpUrl": None,
        "timeoutAt": iso(task.created_at.replace(hour=23, minute=59, second=0, microsecond=0)),
        "startedAt": iso(task.started_at or task.created_at),
        "finishedAt": iso(task.finished_at) if ended else None,
        "proxyUsedMb": "0",
        "proxyCost": "0",
        "browserCost": "0",
        "agentSessionId": task.session_id,
        "recordingUrl": presign_now(request, media.session_recording_path(f"v4-{run.id}"), 3600)
        if detail and run.recorded
        else None,
    }


def _browsers_of(request: Request, session_id: str | None) -> list[SeedV4Run]:
    seed = _emulator(request).seed
    return [r for r in seed.v4_list() if session_id is None or seed.tasks[r.id].session_id == session_id]


async def list_browsers(request: Request) -> Response:
    if (denied := auth(request)) is not None:
        return denied
    q = request.query_params
    errors: list[dict[str, Any]] = []
    size = parse_int(q.get("pageSize"), ["query", "pageSize"], errors, default=10, ge=1, le=100)
    page = parse_int(q.get("pageNumber"), ["query", "pageNumber"], errors, default=1, ge=1)
    session_id = (
        parse_uuid(q["agentSessionId"], ["query", "agentSessionId"], errors)
        if "agentSessionId" in q
        else None
    )
    if errors:
        return response_422(errors)
    runs = _browsers_of(request, session_id)
    start = (page - 1) * size
    return JSONResponse(
        {
            "items": [_browser(r, request, detail=False) for r in runs[start : start + size]],
            "totalItems": len(runs),
            "pageNumber": page,
            "pageSize": size,
        }
    )


async def get_browser(request: Request) -> Response:
    if (denied := auth(request)) is not None:
        return denied
    errors: list[dict[str, Any]] = []
    browser_id = parse_uuid(request.path_params["session_id"], ["path", "session_id"], errors)
    if errors:
        return response_422(errors)
    run = next((r for r in _browsers_of(request, None) if r.browser_id == browser_id), None)
    if run is None:
        return JSONResponse({"detail": "Session not found"}, status_code=404)
    return JSONResponse(_browser(run, request, detail=True))


routes = [
    Route("/api/v4/runs", list_runs, methods=["GET"]),
    Route("/api/v4/runs/{run_id}", get_run, methods=["GET"]),
    Route("/api/v4/runs/{run_id}/status", get_run_status, methods=["GET"]),
    Route("/api/v4/runs/{run_id}/events", get_events, methods=["GET"]),
    Route("/api/v4/workspaces/{workspace_id}/files", get_workspace_files, methods=["GET"]),
    Route("/api/v4/browsers", list_browsers, methods=["GET"]),
    Route("/api/v4/browsers/{session_id}", get_browser, methods=["GET"]),
]
