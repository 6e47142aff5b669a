"""Legacy Browser Use Cloud API v1 (`/api/v1`), the endpoints of the original API pages."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..errors import MalformedResponseError, NotFoundError, TasksError
from ..ids import validate_file_name, validate_id
from ..models import (
    CookieSummary,
    MediaBundle,
    MediaItem,
    OutputFile,
    Screenshot,
    Step,
    Task,
    TaskPage,
    TaskStatusInfo,
    TaskSummary,
    normalize_status,
)
from ..untrusted import code
from .base import Capabilities
from .cloud import CloudSource
from .parse import (
    MAX_FILES,
    as_data,
    as_dict,
    as_int,
    as_list,
    as_str,
    bounded_steps,
    clean_id,
    mark_judged_failures,
    parse_datetime,
)

API_NAME = "Browser Use Cloud API v1"
_STEP_IN_NAME = re.compile(r"(?:^|[^a-z])step[_\-]?(\d{1,5})(?:\D|$)", re.IGNORECASE)
_RECORDING_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime"}


class CloudV1Source(CloudSource):
    kind = "cloud-v1"
    api_name = API_NAME
    generation = "v1"
    # Screenshots sit behind their own endpoint, unmatched to steps; a deprecated GIF endpoint.
    capabilities = Capabilities(screenshots_on_steps=False, own_gif=True)

    def validate_task_id(self, task_id: object) -> str:
        return validate_id(task_id)  # v1 ids are opaque tokens, not always UUIDs

    @classmethod
    def auth_headers(cls, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    async def get_task(self, task_id: str) -> Task:
        return task_from_v1(
            await self._api.get_json(f"/task/{task_id}", not_found=self.task_not_found(task_id))
        )

    async def get_status(self, task_id: str) -> TaskStatusInfo:
        body = await self._api.get_json(f"/task/{task_id}/status", not_found=self.task_not_found(task_id))
        # v1 answers with a bare JSON string such as "finished".
        raw = body if isinstance(body, str) else as_dict(body).get("status")
        if not isinstance(raw, str) or not raw:
            raise MalformedResponseError(f"The {API_NAME} sent a status of an unexpected shape.")
        return TaskStatusInfo(id=task_id, status=normalize_status(raw), raw_status=raw)

    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        body = as_dict(await self._api.get_json("/tasks", params={"page": page, "limit": page_size}))
        if "tasks" not in body:
            raise MalformedResponseError(f"The {API_NAME} sent a task list of an unexpected shape.")
        items = [_summary_from_v1(t) for t in as_list(body.get("tasks")) if isinstance(t, dict)]
        rows = [i for i in items if i is not None]
        errors: list[str] = []
        if status is not None:
            # v1 cannot filter server-side; filter this page and say so.
            rows = [r for r in rows if r.status == status]
            errors.append(
                f"Cloud API v1 has no status filter: showing the '{status}' tasks of page {page} only."
            )
        return TaskPage(
            items=rows,
            page=as_int(body.get("page")) or page,
            page_size=as_int(body.get("limit")) or page_size,
            total_items=as_int(body.get("total_count")),
            total_pages=as_int(body.get("total_pages")),
            errors=errors,
        )

    async def list_screenshots(self, task: Task) -> list[Screenshot]:
        body = as_dict(
            await self._api.get_json(f"/task/{task.id}/screenshots", not_found=self.task_not_found(task.id))
        )
        urls = [u for u in as_list(body.get("screenshots")) if isinstance(u, str) and u]
        return [Screenshot(step=step_from_url(u), url=u) for u in urls]

    async def get_source_gif(self, task: Task) -> MediaItem | None:
        # Deprecated endpoint: a 404, a null or any failure means "assemble one instead".
        try:
            body = await self._api.get_json(f"/task/{task.id}/gif", not_found="no gif")
        except NotFoundError:
            return None
        url = as_str(as_dict(body).get("gif"))
        return MediaItem(kind="gif", name="task GIF", url=url, mime_type="image/gif") if url else None

    async def get_media(self, task: Task) -> MediaBundle:
        bundle = MediaBundle(task_id=task.id)
        if not task.terminal:
            bundle.notes.append(
                f"The task is {task.status}: the v1 API makes recordings and the GIF available only for "
                "completed tasks. Call get_media again once it has finished."
            )
        else:
            try:
                body = as_dict(
                    await self._api.get_json(f"/task/{task.id}/media", not_found=self.task_not_found(task.id))
                )
                for url in as_list(body.get("recordings")):
                    if isinstance(url, str) and url:
                        bundle.recordings.append(_recording_item(url))
                if not bundle.recordings:
                    bundle.notes.append("No recordings: the task was not configured to record its session.")
            except TasksError as exc:
                bundle.notes.append(f"Recordings unavailable: {exc.message}")
        bundle.output_files = list(task.output_files)
        bundle.notes.append("The v1 API has no execution log endpoint.")
        return bundle

    async def resolve_output_file(self, task: Task, file: str) -> OutputFile:
        match = self.listed_file(task, validate_file_name(file))
        body = as_dict(
            await self._api.get_json(
                f"/task/{task.id}/output-file/{quote(match.name, safe='')}",
                not_found=f"Output file {code(match.name, 100)} of task {task.id} was not found.",
            )
        )
        return match.model_copy(update={"download_url": as_str(body.get("download_url"))})


def step_from_url(url: str) -> int | None:
    """The step number a screenshot's file name carries (`step_3.png`), never a guess."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    match = _STEP_IN_NAME.search(name)
    return int(match.group(1)) if match else None


def _recording_item(url: str) -> MediaItem:
    path = urlsplit(url).path
    name = unquote(path.rsplit("/", 1)[-1]) or "recording"
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return MediaItem(kind="recording", name=name, url=url, mime_type=_RECORDING_TYPES.get(suffix))


def _cookies(browser_data: Any) -> CookieSummary | None:
    cookies = as_list(as_dict(browser_data).get("cookies"))
    if not cookies:
        return None
    domains = sorted({str(c.get("domain", "")).lstrip(".") for c in cookies if isinstance(c, dict)} - {""})
    return CookieSummary(count=len(cookies), domains=domains[:20])


def task_from_v1(body: Any) -> Task:
    data = as_dict(body)
    task_id = clean_id(data.get("id"), validate_id)
    if not task_id:
        raise MalformedResponseError(f"The {API_NAME} sent a task of an unexpected shape.")
    raw_status = as_str(data.get("status"))
    steps: list[Step] = []
    kept, skipped = bounded_steps([s for s in as_list(data.get("steps")) if isinstance(s, dict)])
    for index, item in kept:
        steps.append(
            Step(
                number=as_int(item.get("step")) or index + 1,
                url=as_str(item.get("url")),
                evaluation_previous_goal=as_str(item.get("evaluation_previous_goal")),
                next_goal=as_str(item.get("next_goal")),
            )
        )
    mark_judged_failures(steps)
    metadata = as_dict(as_data(data.get("metadata")))
    return Task(
        id=task_id,
        source="cloud-v1",
        task=as_str(data.get("task")),
        status=normalize_status(raw_status),
        raw_status=raw_status,
        output=as_str(data.get("output")),
        created_at=parse_datetime(data.get("created_at")),
        finished_at=parse_datetime(data.get("finished_at")),
        metadata=metadata,
        steps=steps,
        output_files=[
            OutputFile(name=n) for n in as_list(data.get("output_files"))[:MAX_FILES] if isinstance(n, str)
        ],
        live_url=as_str(data.get("live_url")),
        public_share_url=as_str(data.get("public_share_url")),
        cookies=_cookies(data.get("browser_data")),
        user_uploaded_files=[
            n for n in as_list(data.get("user_uploaded_files"))[:MAX_FILES] if isinstance(n, str)
        ],
        notes=[skipped] if skipped else [],
    )


def _summary_from_v1(item: dict[str, Any]) -> TaskSummary | None:
    task_id = clean_id(item.get("id"), validate_id)
    if not task_id:
        return None
    raw_status = as_str(item.get("status"))
    return TaskSummary(
        id=task_id,
        task=as_str(item.get("task")),
        status=normalize_status(raw_status),
        raw_status=raw_status,
        created_at=parse_datetime(item.get("created_at")),
        finished_at=parse_datetime(item.get("finished_at")),
        output=as_str(item.get("output")),
    )
