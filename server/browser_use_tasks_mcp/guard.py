"""The one error → output policy, for tools, resources and prompts alike.

Every handler runs its work here, under the call deadline. A `TasksError` (ours, or an
upstream failure parsed into one) becomes the sentence it carries; a timeout says what
timed out; anything else is a bug of ours, logged with its traceback and reported as an
internal error. Nothing escapes as a crash, and no upstream body is ever quoted raw.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from . import render
from .errors import TasksError
from .metrics import METRICS
from .service import TaskService
from .state import app_state

log = logging.getLogger(__name__)

T = TypeVar("T")
Surface = Literal["tool", "resource", "prompt"]


class _Failed(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _describe(exc: BaseException, surface: Surface, name: str, deadline_s: float) -> str:
    if isinstance(exc, TasksError):
        log.info("%s failed: %s", name, exc.title)
        if surface == "tool":
            return render.tool_error(exc)
        return render.resource_error(exc) if surface == "resource" else exc.message
    if isinstance(exc, TimeoutError):
        log.warning("%s hit the %.0fs call deadline", name, deadline_s)
        if surface == "tool":
            return render.timed_out(name, deadline_s)
        return render.resource_timed_out(deadline_s) if surface == "resource" else "it timed out."
    log.error("%s crashed: %s", name, type(exc).__name__, exc_info=exc)
    return render.internal_error(name, exc)


async def _run(
    ctx: Context[Any, Any],
    surface: Surface,
    name: str,
    work: Callable[[TaskService], Awaitable[T]],
    deadline_s: float | None,
) -> T:
    state = app_state(ctx)
    deadline = deadline_s or state.call_deadline_s
    secrets = state.secrets
    try:
        with anyio.fail_after(deadline):
            service, secrets = await state.service_for(ctx)
            return redacted(await work(service), secrets)
    except Exception as exc:  # every failure, ours included, becomes an answer
        raise _Failed(redacted(_describe(exc, surface, name, deadline), secrets)) from None


REDACTED = "[redacted]"


def redacted(value: T, secrets: tuple[str, ...]) -> T:
    """`value` with every secret replaced, in text, structured content and prompt messages alike.

    An upstream may echo the key back (in an error detail, a URL, a task's text); our own
    code never writes it, so this is the one net under everything that leaves.
    """
    if not secrets:
        return value
    return _scrub(value, secrets)  # type: ignore[no-any-return]


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, BaseModel) and any(s in value.model_dump_json() for s in secrets):
        return type(value).model_validate(_scrub(value.model_dump(by_alias=True), secrets))
    return value


async def run_tool(
    ctx: Context[Any, Any],
    name: str,
    work: Callable[[TaskService], Awaitable[CallToolResult]],
    *,
    deadline_s: float | None = None,
) -> CallToolResult:
    """A tool's result, or an `isError` result that says what to do next."""
    try:
        result = await _run(ctx, "tool", name, work, deadline_s)
    except _Failed as failed:
        result = CallToolResult(content=[TextContent(type="text", text=failed.text)], is_error=True)
    METRICS.call(name, failed=bool(result.is_error))
    return result


async def run_resource(ctx: Context[Any, Any], name: str, work: Callable[[TaskService], Awaitable[T]]) -> T:
    """A resource's contents, or a `ResourceError` the SDK turns into a JSON-RPC error."""
    try:
        return await _run(ctx, "resource", name, work, None)
    except _Failed as failed:
        raise ResourceError(failed.text) from None


async def run_prompt(
    ctx: Context[Any, Any],
    name: str,
    work: Callable[[TaskService], Awaitable[T]],
    *,
    failed: Callable[[str], T],
) -> T:
    """A prompt's messages, or `failed(reason)`: a prompt that says why it could not be filled."""
    try:
        return await _run(ctx, "prompt", name, work, None)
    except _Failed as failure:
        return failed(failure.text)
