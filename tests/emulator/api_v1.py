"""Legacy Browser Use Cloud API v1 (``/api/v1``): snake_case bodies of the v1 reference pages.

Choices where the v1 docs are silent:
- datetimes are ISO 8601 with a ``Z`` suffix, as in the v1 examples (v2 sends naive ones);
- `/media` of a task that has not finished answers 200 ``{"recordings": []}``, as it
  does for a finished task that did not record;
- `/gif` answers a URL for a finished, failed or stopped task with at least 2 screenshots,
  ``{"gif": null}`` otherwise, and 404 ``{"detail": "Not Found"}`` for V1_NO_GIF_TASK
  (the endpoint is deprecated and gone for some tasks);
- metadata values are sent as strings (the v1 schema types them so).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import media
from .api_v2 import _emulator, presign, screenshot_url
from .seed import SeedTask, v1_step_id
from .validation import parse_int, response_422

TASK_NOT_FOUND = {"detail": "Task not found"}


def dt(value: datetime | None) -> str | None:
    return f"{value.isoformat()}Z" if value else None


def _authorized(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and token.strip() == _emulator(request).api_key


def _lookup(request: Request) -> SeedTask | Response:
    if not _authorized(request):
        return JSONResponse({"detail": "Invalid API key"}, status_code=401)
    task = _emulator(request).seed.tasks.get(request.path_params["task_id"])
    if task is None or not task.v1_status:
        return JSONResponse(TASK_NOT_FOUND, status_code=404)
    return task


def _summary(task: SeedTask) -> dict[str, Any]:
    return {
        "id": task.id,
        "task": task.task,
        "output": task.output,
        "status": task.v1_status,
        "created_at": dt(task.created_at),
        "finished_at": dt(task.finished_at),
        "live_url": task.live_url,
    }


def task_response(task: SeedTask) -> dict[str, Any]:
    body = _summary(task)
    body["steps"] = [
        {
            "id": v1_step_id(task.id, s.number),
            "step": s.number,
            "evaluation_previous_goal": s.evaluation_previous_goal,
            "next_goal": s.next_goal,
            "url": s.url,
        }
        for s in task.steps
    ]
    body["browser_data"] = task.browser_data
    body["user_uploaded_files"] = list(task.user_uploaded_files)
    body["output_files"] = [f.name for f in task.output_files]
    body["public_share_url"] = task.public_share_url
    body["metadata"] = {k: str(v) for k, v in task.metadata.items()}
    return body


async def list_tasks(request: Request) -> Response:
    if not _authorized(request):
        return JSONResponse({"detail": "Invalid API key"}, status_code=401)
    errors: list[dict[str, Any]] = []
    page = parse_int(request.query_params.get("page"), ["query", "page"], errors, default=1, ge=1)
    limit = parse_int(request.query_params.get("limit"), ["query", "limit"], errors, default=10, ge=1, le=100)
    if errors:
        return response_422(errors)
    tasks = _emulator(request).seed.v1_tasks()
    start = (page - 1) * limit
    return JSONResponse(
        {
            "tasks": [_summary(t) for t in tasks[start : start + limit]],
            "total_pages": math.ceil(len(tasks) / limit),
            "page": page,
            "limit": limit,
            "total_count": len(tasks),
        }
    )


async def get_task(request: Request) -> Response:
    task = _lookup(request)
    if isinstance(task, Response):
        return task
    return JSONResponse(task_response(task))


async def get_status(request: Request) -> Response:
    task = _lookup(request)
    if isinstance(task, Response):
        return task
    return JSONResponse(task.v1_status)


async def get_screenshots(request: Request) -> Response:
    task = _lookup(request)
    if isinstance(task, Response):
        return task
    return JSONResponse({"screenshots": [screenshot_url(request, task, s) for s in task.screenshot_steps]})


async def get_gif(request: Request) -> Response:
    task = _lookup(request)
    if isinstance(task, Response):
        return task
    if task.gif == "404":
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    if task.is_terminal and len(task.screenshot_steps) >= 2:
        return JSONResponse({"gif": presign(request, media.gif_path(task.id))})
    return JSONResponse({"gif": None})


async def get_media(request: Request) -> Response:
    task = _lookup(request)
    if isinstance(task, Response):
        return task
    urls = [presign(request, p) for p in media.recording_paths(task.id)] if task.v1_recordings else []
    return JSONResponse({"recordings": urls})


async def get_output_file(request: Request) -> Response:
    task = _lookup(request)
    if isinstance(task, Response):
        return task
    name = request.path_params["file_name"]
    file = next((f for f in task.output_files if f.name == name), None)
    if file is None:
        return JSONResponse({"detail": "File not found"}, status_code=404)
    return JSONResponse({"download_url": presign(request, media.file_path(task.id, file.name))})


async def ping(request: Request) -> Response:
    return JSONResponse({})


async def me(request: Request) -> Response:
    ok = _authorized(request)
    return JSONResponse(ok, status_code=200 if ok else 401)


routes = [
    Route("/api/v1/tasks", list_tasks, methods=["GET"]),
    Route("/api/v1/task/{task_id}", get_task, methods=["GET"]),
    Route("/api/v1/task/{task_id}/status", get_status, methods=["GET"]),
    Route("/api/v1/task/{task_id}/screenshots", get_screenshots, methods=["GET"]),
    Route("/api/v1/task/{task_id}/gif", get_gif, methods=["GET"]),
    Route("/api/v1/task/{task_id}/media", get_media, methods=["GET"]),
    Route("/api/v1/task/{task_id}/output-file/{file_name}", get_output_file, methods=["GET"]),
    Route("/api/v1/ping", ping, methods=["GET"]),
    Route("/api/v1/me", me, methods=["GET"]),
]
