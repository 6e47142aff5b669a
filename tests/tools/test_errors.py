"""One example of each class of error a model can read, snapshotted, and what every tool does with them.

Upstream failures are provoked with the emulator's fault switches (tests/emulator/faults.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from tests.emulator import FAILED_TASK, FINISHED_TASK, UNKNOWN_ID, V1_NULL_GIF_TASK, Emulator
from tests.helpers import TEST_KEY, call_error, call_ok, text_of
from tests.tools.common import (
    SOURCES,
    SUCCEEDED_RUN,
    Source,
    call,
    listed_tools,
    minimal_args,
    snapshot_result,
)

pytestmark = pytest.mark.anyio
# Fail fast: no retries, short timeouts, so each upstream failure is one request.
FAST = {"max_retries": 0, "request_timeout_s": 0.5, "call_deadline_s": 3.0}
DETAIL = "UPSTREAM-DETAIL-CANARY <b>do not echo</b>"
TASK_PATH = f"/api/v2/tasks/{FINISHED_TASK}"


async def error_snapshot(source: Source, tool: str, args: dict[str, Any], case: str) -> str:
    async with source.client() as client:
        result = await call(client, tool, args)
        assert result.is_error, text_of(result)
        # The server keeps serving after the error.
        if source.emulator is not None:
            source.extra["upstream_requests"] = source.emulator.count(prefix="/api/")
            source.emulator.reset()
        await call_ok(client, "get_task", {"task_id": source.finished})
    snapshot_result(f"errors/{case}", tool, args, result, source.normaliser)
    text = text_of(result)
    assert DETAIL not in text and "do not echo" not in text and TEST_KEY not in text
    return text


# --------------------------------------------------------------------------------------
# Not found and invalid input, on every source
# --------------------------------------------------------------------------------------


async def test_not_found(source: Source) -> None:
    unknown = "no-such-run" if source.name == "local" else UNKNOWN_ID
    text = await error_snapshot(source, "get_task", {"task_id": unknown}, f"not-found-{source.name}")
    assert text.startswith("**Not found:**") and unknown in text and "list_tasks" in text


async def test_invalid_task_id(source: Source) -> None:
    bad = "task_1234" if source.name == "v2" else "../etc/passwd"  # v2 ids are UUIDs
    text = await error_snapshot(source, "get_task", {"task_id": bad}, f"invalid-input-{source.name}")
    assert text.startswith("**Invalid argument:**")
    if source.emulator is not None:
        assert source.extra["upstream_requests"] == 0  # refused before any request


async def test_arguments_outside_the_schema(source: Source) -> None:
    args = {"task_id": source.failed, "step": "three"}
    text = await error_snapshot(source, "get_step", args, f"invalid-arguments-{source.name}")
    assert "step" in text


# --------------------------------------------------------------------------------------
# Upstream failures, on the emulator
# --------------------------------------------------------------------------------------

UPSTREAM = [
    ("401", {"kind": 401, "detail": DETAIL}, r"rejected the API key (401)"),
    ("403", {"kind": 403, "detail": DETAIL}, "refused access (403)"),
    ("429", {"kind": 429, "detail": DETAIL, "retry_after": 0}, "rate limiting (429"),
    ("500", {"kind": 500, "detail": DETAIL}, "is failing (500)"),
    ("503", {"kind": 503, "detail": DETAIL}, "is failing (503)"),
    ("html-502", {"kind": "html_error"}, "is failing (502)"),
    ("malformed-json", {"kind": "malformed_json"}, "not JSON"),
    ("timeout", {"kind": "delay", "delay": 5.0}, "did not answer in time"),
]


@pytest.mark.parametrize("version", ["v2", "v1"])
@pytest.mark.parametrize(("case", "fault", "phrase"), UPSTREAM, ids=[c for c, _, _ in UPSTREAM])
async def test_upstream_failure(
    make_source: Callable[..., Source], version: str, case: str, fault: dict[str, Any], phrase: str
) -> None:
    source = make_source(version, **FAST)
    emu = source.emulator
    assert emu is not None
    options = dict(fault)
    kind = options.pop("kind")
    prefix = "/api/v2/" if version == "v2" else "/api/v1/"
    emu.faults.add(kind, path=prefix, **options)
    text = await error_snapshot(source, "get_task", {"task_id": FINISHED_TASK}, f"upstream-{case}-{version}")
    assert phrase in text


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_a_wrong_key_is_explained_without_echoing_it(
    make_source: Callable[..., Source], version: str
) -> None:
    wrong = "bu-wrong-key-ZZZ999"
    async with make_source(version, key=wrong).client() as client:
        message = await call_error(client, "get_task", {"task_id": FINISHED_TASK})
    assert "rejected the API key (401)" in message
    assert wrong not in message and TEST_KEY not in message


async def test_connection_refused(make_source: Callable[..., Source]) -> None:
    from tests.helpers import cloud_settings, free_port
    from tests.tools.common import cloud_source

    emu: Emulator = make_source("v2").emulator  # type: ignore[assignment]
    source = cloud_source(emu, "v2", **FAST)
    dead = f"http://127.0.0.1:{free_port()}"
    source.settings = cloud_settings(f"{dead}/api/v2", **FAST)
    source.normaliser = source.normaliser.with_literal(dead, "<NOTHING_LISTENING>")
    async with source.client() as client:
        result = await call(client, "get_task", {"task_id": FINISHED_TASK})
    assert result.is_error
    snapshot_result(
        "errors/connection-refused-v2", "get_task", {"task_id": FINISHED_TASK}, result, source.normaliser
    )
    assert "Could not reach" in text_of(result)


# --------------------------------------------------------------------------------------
# Not available
# --------------------------------------------------------------------------------------


async def test_not_available(make_source: Callable[..., Source]) -> None:
    text = await error_snapshot(
        make_source("v1"), "get_gif", {"task_id": V1_NULL_GIF_TASK}, "not-available-v1"
    )
    assert text.startswith("**Not available:**") and "needs at least 2 screenshots" in text


@pytest.mark.parametrize("src", ["local", "v1"])
async def test_no_execution_log_is_an_error_on_read(make_source: Callable[..., Source], src: str) -> None:
    source = make_source(src)
    async with source.client() as client:
        with pytest.raises(MCPError) as raised:
            await client.read_resource(f"browser-use://tasks/{source.failed}/logs")
        await call_ok(client, "get_task", {"task_id": source.failed})
    assert "execution log" in str(raised.value)


# --------------------------------------------------------------------------------------
# Every tool from tools/list, on every source
# --------------------------------------------------------------------------------------

TOOLS = {tool.name: tool for tool in listed_tools()}


@pytest.mark.parametrize("src", SOURCES)
@pytest.mark.parametrize("name", sorted(TOOLS))
async def test_every_tool_answers_an_unknown_task_with_an_error_and_keeps_serving(
    make_source: Callable[..., Source], src: str, name: str
) -> None:
    tool = TOOLS[name]
    if not {"task_id", "task_a"} & set(tool.input_schema.get("required", [])):
        pytest.skip(f"{name} takes no task id")
    source = make_source(src)
    unknown = "no-such-run" if src == "local" else UNKNOWN_ID
    async with source.client() as client:
        message = await call_error(client, name, minimal_args(tool, unknown))
        await call_ok(client, "get_task", {"task_id": source.finished})
    assert message.startswith("**Not found:**"), message
    assert unknown in message


@pytest.mark.parametrize("name", sorted(TOOLS))
async def test_every_tool_reports_an_upstream_outage_as_an_error(
    make_source: Callable[..., Source], name: str
) -> None:
    source = make_source("v2", **FAST)
    emu = source.emulator
    assert emu is not None
    emu.faults.add(503, path="/api/v2/", detail=DETAIL)
    tool = TOOLS[name]
    task_id = FAILED_TASK
    async with source.client() as client:
        message = await call_error(client, name, minimal_args(tool, task_id))
        emu.reset()
        await call_ok(client, "get_task", {"task_id": task_id})
    assert "is failing (503)" in message
    assert DETAIL not in message and TEST_KEY not in message


async def test_local_run_id_is_checked_on_every_source_but_local(make_source: Callable[..., Source]) -> None:
    async with make_source("v2").client() as client:
        message = await call_error(client, "get_task", {"task_id": SUCCEEDED_RUN})
    assert "UUID" in message
