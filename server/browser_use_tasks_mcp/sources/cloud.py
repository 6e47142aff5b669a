"""What every Browser Use Cloud generation shares: opening a client, downloads, common answers.

A generation's own module holds only its endpoints and how its JSON maps into the model.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx2

from ..config import ApiVersion, Settings, is_loopback_host
from ..errors import MalformedResponseError, NotFoundError
from ..fetch import SafeFetcher
from ..http import ApiTransport
from ..ids import file_not_found, pick_name, validate_uuid
from ..models import OutputFile, Task
from .base import Locatable, TaskSource


class CloudSource(TaskSource):
    #: The generation's name in messages, e.g. "Browser Use Cloud API v2".
    api_name: ClassVar[str]
    #: The generation's short name, e.g. "v2": where it lives under the API root, and in messages.
    generation: ClassVar[ApiVersion]

    def __init__(self, transport: ApiTransport, fetcher: SafeFetcher, *, base_url: str) -> None:
        self._api = transport
        self._fetcher = fetcher
        self.label = f"{self.api_name} at {base_url}"

    def validate_task_id(self, task_id: object) -> str:
        """Ids of v2 and later are UUIDs: anything else is refused before a request (v1 overrides)."""
        return validate_uuid(task_id)  # type: ignore[arg-type]

    @classmethod
    def auth_headers(cls, key: str) -> dict[str, str]:
        """How this generation wants the key; v2 and later take it in one header."""
        return {"X-Browser-Use-API-Key": key}

    @classmethod
    def open(cls, settings: Settings, client: httpx2.AsyncClient) -> CloudSource:
        """The source on the shared pool, with the settings' base URL, key and retry budget."""
        assert settings.api_key is not None
        base = settings.base_url_for(cls.generation)
        parts = urlsplit(base)
        # Plain http is only ever allowed to the configured API host when it is loopback (tests, proxies).
        loopback_http = parts.scheme == "http" and is_loopback_host(parts.hostname)
        host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
        allowed = {f"{host}:{parts.port or 80}"} if loopback_http else set()
        fetcher = SafeFetcher(
            client, allowed_http_hosts=allowed, timeout_s=min(20.0, settings.call_deadline_s)
        )
        transport = ApiTransport(
            client,
            base_url=base,
            auth_headers=cls.auth_headers(settings.api_key.get_secret_value()),
            api_name=cls.api_name,
            max_retries=settings.max_retries,
        )
        return cls(transport, fetcher, base_url=base)

    def task_not_found(self, task_id: str) -> str:
        return (
            f"Task {task_id} was not found in Browser Use Cloud ({self.generation}). "
            "Call list_tasks to see your task ids."
        )

    def require_object(self, body: Any, what: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise MalformedResponseError(f"The {self.api_name} sent a {what} of an unexpected shape.")
        return body

    @staticmethod
    def listed_file(task: Task, name: str, *, by_id: bool = False) -> OutputFile:
        """The output file the task lists under `name` (or id), or a not-found that names the others."""
        if by_id and (match := next((f for f in task.output_files if f.id == name), None)):
            return match
        index = pick_name([f.name for f in task.output_files], name)
        if index is None:
            raise NotFoundError(file_not_found(task.id, name, [f.name for f in task.output_files]))
        return task.output_files[index]

    async def read_bytes(self, item: Locatable, *, max_bytes: int) -> bytes:
        if not item.url:
            raise NotFoundError("This item has no download link.")
        return (await self._fetcher.fetch(item.url, max_bytes=max_bytes)).data
