"""The source served when the cloud is chosen without a key: every call says how to configure."""

from __future__ import annotations

from typing import Any

from ..errors import NotConfiguredError
from ..models import Task, TaskPage
from .base import Locatable, TaskSource


class UnconfiguredSource(TaskSource):
    kind = "cloud-v2"
    label = "Browser Use Cloud (not configured: no API key)"

    def _fail(self) -> NotConfiguredError:
        return NotConfiguredError(
            "No Browser Use API key is configured. Set BROWSER_USE_API_KEY (from https://cloud.browser-use.com) "
            "in the server's environment, or set BROWSER_USE_RUNS_DIR to a folder of local browser-use runs, "
            "then restart the server."
        )

    async def get_task(self, task_id: str) -> Task:
        raise self._fail()

    async def list_tasks(self, *, status: str | None, page: int, page_size: int) -> TaskPage:
        raise self._fail()

    async def get_media(self, task: Task) -> Any:
        raise self._fail()

    async def resolve_output_file(self, task: Task, file: str) -> Any:
        raise self._fail()

    async def read_bytes(self, item: Locatable, *, max_bytes: int) -> bytes:
        raise self._fail()
