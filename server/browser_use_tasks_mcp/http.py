"""JSON over HTTP to the Browser Use Cloud API: retries, deadlines and typed errors.

Both API generations use this. It owns no connection pool: the server lifespan opens one
`httpx2.AsyncClient` and hands it here and to the safe fetcher. The key travels as a
per-request header, so the shared pool can never send it to a media host.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio
import httpx2

from .errors import (
    AuthenticationError,
    ConnectionFailedError,
    MalformedResponseError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TasksError,
    UpstreamError,
    UpstreamTimeoutError,
    UpstreamValidationError,
)
from .jsondata import loads
from .metrics import METRICS
from .untrusted import code, inline

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_JSON_BYTES = 20 * 1024 * 1024
RETRY_AFTER_CAP_S = 10.0


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


class ApiTransport:
    """GET JSON from one API base with the right auth header, retrying what is worth retrying."""

    def __init__(
        self,
        client: httpx2.AsyncClient,
        *,
        base_url: str,
        auth_headers: Mapping[str, str],
        api_name: str,
        max_retries: int = 3,
        backoff_base_s: float = 0.4,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._auth_headers = dict(auth_headers)
        self._api_name = api_name
        self._max_retries = max_retries
        self._backoff_base_s = backoff_base_s
        self._sleep = sleep

    async def get_json(
        self, path: str, *, params: Mapping[str, Any] | None = None, not_found: str | None = None
    ) -> Any:
        """GET `path` (already built from validated segments) and decode JSON.

        `not_found` is the sentence a 404 becomes; it is written by the caller from ids
        it validated, so nothing upstream-controlled reaches the model.
        """
        url = f"{self._base_url}{path}"
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        attempt = 0
        started = time.perf_counter()
        while True:
            try:
                body = await self._get_once(url, clean_params, not_found)
                METRICS.upstream(time.perf_counter() - started, failed=False)
                return body
            except UpstreamError as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    METRICS.upstream(time.perf_counter() - started, failed=True)
                    raise
                attempt += 1
                log.info("retrying GET %s after %s (attempt %d, wait %.2fs)", path, exc.title, attempt, delay)
                await self._sleep(delay)

    def _retry_delay(self, exc: UpstreamError, attempt: int) -> float | None:
        """How long to wait before the next attempt, or None to give up now."""
        retryable = isinstance(exc, UpstreamTimeoutError | ConnectionFailedError) or (
            exc.status_code in RETRY_STATUSES
        )
        if not retryable or attempt >= self._max_retries:
            return None
        if exc.retry_after_s is not None:
            delay = min(exc.retry_after_s, RETRY_AFTER_CAP_S)
        else:
            # Exponential backoff with full jitter keeps many clients from retrying in step.
            delay = random.uniform(0, self._backoff_base_s * (2**attempt))  # noqa: S311 - not crypto
        # Never sleep past the tool call's deadline: better to answer with the error now.
        remaining = anyio.current_effective_deadline() - anyio.current_time()
        if delay >= remaining - 0.5:
            return None
        return delay

    async def _get_once(self, url: str, params: Mapping[str, Any], not_found: str | None) -> Any:
        try:
            async with self._client.stream("GET", url, params=params, headers=self._auth_headers) as response:
                body = await _read_capped(response, MAX_JSON_BYTES, self._api_name)
        except httpx2.TimeoutException:
            raise UpstreamTimeoutError(
                f"The {self._api_name} did not answer in time. Try again in a moment."
            ) from None
        except (httpx2.ConnectError, httpx2.ProxyError) as exc:
            raise ConnectionFailedError(
                f"Could not reach the {self._api_name} ({type(exc).__name__}). Check the network and "
                "BROWSER_USE_BASE_URL, then try again."
            ) from None
        except (httpx2.TransportError, httpx2.DecodingError) as exc:
            # Connected, then the exchange broke (reset mid-body, protocol error, bad encoding).
            raise ConnectionFailedError(
                f"The connection to the {self._api_name} broke off mid-answer ({type(exc).__name__}). "
                "Try again in a moment."
            ) from None
        log.debug(
            "GET %s -> %d (%d bytes)", response.url.copy_with(query=None), response.status_code, len(body)
        )
        if response.status_code >= 400:
            raise self._error_for(response, body, not_found)
        try:
            return loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            raise MalformedResponseError(
                f"The {self._api_name} answered with something that is not JSON "
                f"(content type {code(response.headers.get('content-type', 'unknown'), 40)}). "
                "It may be having an outage; try again later."
            ) from None

    def _error_for(self, response: httpx2.Response, body: bytes, not_found: str | None) -> TasksError:
        status = response.status_code
        detail = _parse_detail(body)
        name = self._api_name
        if status == 401:
            return AuthenticationError(
                f"The {name} rejected the API key (401). Check BROWSER_USE_API_KEY: create or copy a key at "
                "https://cloud.browser-use.com and restart the server. If the key is right, check the API "
                "generation: the legacy v1 API authenticates differently from v2 (set BROWSER_USE_API_VERSION "
                "to the one your key and tasks belong to).",
                status_code=status,
            )
        if status == 403:
            return PermissionDeniedError(
                f"The {name} refused access (403): this API key may not see this task or project. Check that "
                "BROWSER_USE_API_KEY belongs to the project that ran the task.",
                status_code=status,
            )
        if status == 402:
            return PaymentRequiredError(
                f"The {name} requires payment (402){_payment_detail(detail)}. Add credits or raise the "
                "spend cap in the Browser Use dashboard.",
                status_code=status,
            )
        if status == 404:
            return NotFoundError(not_found or f"The {name} has no such resource (404).")
        if status == 422:
            return UpstreamValidationError(
                f"The {name} rejected the request (422){_validation_detail(detail)}. The API may have changed: "
                "check for a newer browser-use-tasks-mcp.",
                status_code=status,
            )
        if status == 429:
            return RateLimitError(
                f"The {name} is rate limiting (429: too many concurrent requests or sessions). "
                "Wait a few seconds and try again.",
                status_code=status,
                retry_after_s=parse_retry_after(response.headers.get("retry-after")),
            )
        if status == 408:
            return UpstreamTimeoutError(f"The {name} timed out (408). Try again.", status_code=status)
        if status >= 500:
            return ServerError(
                f"The {name} is failing ({status}). This is on Browser Use's side; try again later.",
                status_code=status,
                retry_after_s=parse_retry_after(response.headers.get("retry-after")),
            )
        return UpstreamError(f"The {name} answered with HTTP {status}.", status_code=status)


async def _read_capped(response: httpx2.Response, cap: int, api_name: str) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise MalformedResponseError(
            f"The {api_name} sent a response larger than {cap // 2**20} MB; refused. It may be having "
            "an outage; try again later."
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            raise MalformedResponseError(
                f"The {api_name} sent a response larger than {cap // 2**20} MB; refused. It may be having "
                "an outage; try again later."
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_detail(body: bytes) -> Any:
    try:
        parsed = loads(body)
    except (ValueError, RecursionError):
        return None
    return parsed.get("detail") if isinstance(parsed, dict) else None


def _payment_detail(detail: Any) -> str:
    if isinstance(detail, dict):
        parts = []
        if "spent" in detail and "cap" in detail:
            parts.append(f"spent {code(str(detail['spent']), 20)} of cap {code(str(detail['cap']), 20)}")
        if detail.get("message"):
            parts.append(_quoted(detail["message"]))
        return ": " + "; ".join(parts) if parts else ""
    if isinstance(detail, str):
        return ": " + _quoted(detail)
    return ""


def _quoted(text: object) -> str:
    """The API's own words inside our sentence: one escaped line, marked as quoted (no links, no markup)."""
    return f"the API says “{inline(str(text), 160).rstrip('.')}”"


def _validation_detail(detail: Any) -> str:
    if not isinstance(detail, list):
        return ""
    items = []
    for entry in detail[:3]:
        if isinstance(entry, dict):
            loc = ".".join(str(p) for p in entry.get("loc", []) if p not in ("path", "query"))
            items.append(f"{code(loc, 40)}: {inline(str(entry.get('msg', '')), 100)}")
    return ": " + "; ".join(items) if items else ""
