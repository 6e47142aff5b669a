"""Each user's own Browser Use key, for a server a team shares (`BROWSER_USE_MCP_CLIENT_KEYS=1`).

An HTTP request may carry its user's key in `X-Browser-Use-API-Key`, as Browser Use's own
hosted MCP server accepts it. That request's upstream calls then use that key and nothing
else: each key gets its own service (source, caches), filed in the shared cache under a keyed
hash of the key, so one user is never served what only another's key may read. The key itself
is never logged, stored or written anywhere; it lives in the service's request headers while
the service is in use, and every answer is scrubbed of it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx2
from mcp.server.mcpserver import Context
from pydantic import SecretStr

from .config import Settings
from .cpu_pool import CpuPool
from .errors import InvalidInputError, NotConfiguredError
from .service import TaskService
from .shared_cache import SharedCache, scope_of
from .sources import make_source

CLIENT_KEY_HEADER = "x-browser-use-api-key"
#: Services kept for recently seen keys; the least recently used one is closed beyond this.
MAX_KEYS = 64
#: Each user's caches are a share of the process's: a key's own tasks, not everyone's.
KEY_TASK_CACHE_BYTES = 16 * 1024 * 1024
KEY_MEDIA_CACHE_BYTES = 24 * 1024 * 1024
_PLAUSIBLE_KEY = re.compile(r"[\x21-\x7e]{8,256}")

NO_KEY = (
    "This server reads Browser Use Cloud with each user's own API key, and this request carried none. "
    "Send your key (from https://cloud.browser-use.com) in the X-Browser-Use-API-Key header of your "
    "MCP client's HTTP configuration, then try again."
)


def request_headers(ctx: Context[Any, Any]) -> Mapping[str, str] | None:
    """The HTTP headers of the request being answered; None on stdio and in-process."""
    request = ctx.request_context.request
    headers = getattr(request, "headers", None)
    return headers if isinstance(headers, Mapping) else None


class KeyedServices:
    """One `TaskService` per user key, least recently used closed first."""

    def __init__(
        self,
        settings: Settings,
        client: httpx2.AsyncClient,
        *,
        shared: SharedCache | None,
        cpu_pool: CpuPool | None = None,
        scope_secret: bytes,
        fallback: TaskService | None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._shared = shared
        self._cpu_pool = cpu_pool
        self._secret = scope_secret
        #: The server's own key's service, for requests without a key; None when it has no key.
        self._fallback = fallback
        self._services: OrderedDict[str, TaskService] = OrderedDict()

    async def for_request(self, ctx: Context[Any, Any]) -> tuple[TaskService, str | None]:
        """The service for this request, and the key it carried (to scrub from the answer)."""
        headers = request_headers(ctx)
        key = (headers.get(CLIENT_KEY_HEADER) or "").strip() if headers is not None else ""
        if not key:
            if self._fallback is None:
                raise NotConfiguredError(NO_KEY)
            return self._fallback, None
        if not _PLAUSIBLE_KEY.fullmatch(key):
            raise InvalidInputError(
                "The X-Browser-Use-API-Key header does not hold an API key (8 to 256 printable characters, "
                "no spaces). Check the key in your MCP client's configuration."
            )
        return await self._service_for(key), key

    async def _service_for(self, key: str) -> TaskService:
        scope = scope_of(key, self._secret)
        service = self._services.get(scope)
        if service is not None:
            self._services.move_to_end(scope)
            return service
        settings = replace(self._settings, api_key=SecretStr(key), source="cloud")
        service = TaskService(
            make_source(settings, self._client),
            task_cache_bytes=KEY_TASK_CACHE_BYTES,
            media_cache_bytes=KEY_MEDIA_CACHE_BYTES,
            shared=self._shared,
            scope=scope,
            cpu_pool=self._cpu_pool,
        )
        self._services[scope] = service
        while len(self._services) > MAX_KEYS:
            _, oldest = self._services.popitem(last=False)
            await oldest.aclose()
        return service

    async def aclose(self) -> None:
        while self._services:
            _, service = self._services.popitem()
            await service.aclose()
