"""`browser-use-tasks-mcp check`: is the configuration usable? Plain words, non-zero exit on failure."""

from __future__ import annotations

import sys
from typing import TextIO

import anyio
import httpx2

from .app import HTTP_LIMITS
from .config import Settings
from .errors import TasksError
from .logs import RedactingFilter
from .shared_cache import SharedCache
from .sources import TaskSource, UnconfiguredSource, make_source
from .sources.cloud_auto import AutoCloudSource
from .sources.local import LocalRunsSource


class RedactingOutput:
    """stdout with the configured secrets removed: an upstream that echoes the API key (in an error
    message, a task's text, an id) must not have it printed."""

    def __init__(self, stream: TextIO, settings: Settings) -> None:
        self._stream = stream
        secrets = [s.get_secret_value() for s in (settings.api_key, settings.auth_token) if s is not None]
        self._filter = RedactingFilter(secrets)

    def write(self, text: str) -> int:
        return self._stream.write(self._filter.redact(text))

    def flush(self) -> None:
        self._stream.flush()


async def _check(settings: Settings) -> int:
    out = RedactingOutput(sys.stdout, settings)
    print(f"Source: {settings.effective_source}", file=out)
    if settings.effective_source == "cloud":
        print(f"API version: {settings.effective_api_version}", file=out)
        print(f"Base URL: {settings.effective_base_url}", file=out)
        print(f"API key: {'set' if settings.api_key else 'MISSING'}", file=out)
    if settings.cache_url is not None and not await _check_shared_cache(settings, out):
        return 1
    if settings.client_keys and settings.api_key is None:
        print(
            "Keys: each user sends their own in X-Browser-Use-API-Key; the server has none to try.", file=out
        )
        return 0
    timeout = httpx2.Timeout(settings.request_timeout_s)
    async with httpx2.AsyncClient(timeout=timeout, limits=HTTP_LIMITS) as client:
        source = make_source(settings, client)
        print(f"Serving: {source.label}", file=out)
        if isinstance(source, UnconfiguredSource):
            print(
                "FAIL: no API key. Set BROWSER_USE_API_KEY, or BROWSER_USE_RUNS_DIR for local runs.", file=out
            )
            return 1
        try:
            if isinstance(source, AutoCloudSource):
                return await _check_generations(source, settings, out)
            return await _check_source(source, settings, out)
        finally:
            await source.aclose()


async def _check_shared_cache(settings: Settings, out: RedactingOutput) -> bool:
    assert settings.cache_url is not None
    cache = SharedCache(settings.cache_url.get_secret_value())
    try:
        await cache.put("check", b"ok", ttl_s=5)
        answered = await cache.get("check") == b"ok"
    finally:
        await cache.aclose()
    print(f"Shared cache {cache.where}: {'OK' if answered else 'FAIL: not reachable'}", file=out)
    return answered


async def _check_source(source: TaskSource, settings: Settings, out: RedactingOutput) -> int:
    """One source: list its newest tasks, and for an empty runs folder say why nothing was found."""
    try:
        with anyio.fail_after(settings.call_deadline_s):
            page = await source.list_tasks(status=None, page=1, page_size=5)
            no_runs = (
                await source.diagnose_empty()
                if isinstance(source, LocalRunsSource) and not page.items and not page.total_items
                else []
            )
    except TasksError as exc:
        print(f"FAIL: {exc.title}: {exc.message}", file=out)
        return 1
    except TimeoutError:
        print(
            f"FAIL: no answer within {settings.call_deadline_s:.0f}s. The API is slow or unreachable; "
            "try again, or raise BROWSER_USE_CALL_DEADLINE.",
            file=out,
        )
        return 1
    if no_runs and isinstance(source, LocalRunsSource):
        for error in page.errors:
            print(f"WARN: {error}", file=out)
        print(f"FAIL: no runs found in {source.runs_dir}.", file=out)
        for reason in no_runs:
            print(f"  - {reason}", file=out)
        return 1
    total = page.total_items if page.total_items is not None else len(page.items)
    print(f"OK: listed tasks ({total} in total).", file=out)
    if page.items:
        print(f"Newest: {page.items[0].id} ({page.items[0].status})", file=out)
    for error in page.errors:
        print(f"WARN: {error}", file=out)
    problems = len(page.errors) if settings.effective_source == "local" else 0
    print(
        "All checks passed." if not problems else f"{problems} warning(s); the server will still run.",
        file=out,
    )
    return 0


async def _check_generations(source: AutoCloudSource, settings: Settings, out: RedactingOutput) -> int:
    """`auto`: per generation, whether the key is accepted and how many tasks it sees; fails only when
    no generation can be read."""
    readable = 0
    for member in source.members:
        try:
            with anyio.fail_after(settings.call_deadline_s):
                page = await member.list_tasks(status=None, page=1, page_size=5)
        except TasksError as exc:
            print(f"{member.generation}: not readable: {exc.title}: {exc.message}", file=out)
            continue
        except TimeoutError:
            print(f"{member.generation}: no answer within {settings.call_deadline_s:.0f}s.", file=out)
            continue
        readable += 1
        seen = (
            f"{page.total_items} tasks"
            if page.total_items is not None
            else f"more than {len(page.items)} tasks"
        )
        print(f"{member.generation}: key accepted, {seen}.", file=out)
    if not readable:
        print("FAIL: no Cloud generation could be read with this key.", file=out)
        return 1
    print(
        "All checks passed."
        if readable == len(source.members)
        else "Some generations are skipped; the server will still run.",
        file=out,
    )
    return 0


def run_check(settings: Settings) -> int:
    return anyio.run(_check, settings)
