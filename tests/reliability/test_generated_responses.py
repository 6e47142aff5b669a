"""Responses the official Cloud v3 and v4 documents allow, at random: every tool still answers.

Bodies are generated from the vendored OpenAPI documents (`tests/schema_strategies.py`), so
every optional field comes and goes, every enum value and null appears, and free-form event
data takes any JSON shape. Many go straight into the mappers and renderers (fast); fewer go
end to end, served by the emulator in place of a session or run, through the MCP tools: each
answer is a clean error or a success whose structured content fits the tool's output schema.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import anyio.from_thread
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client

from browser_use_tasks_mcp.errors import MalformedResponseError
from browser_use_tasks_mcp.sources.cloud_v3 import task_from_v3
from browser_use_tasks_mcp.sources.cloud_v4 import task_from_v4
from tests.emulator import Emulator
from tests.helpers import client_for, cloud_settings
from tests.reliability.test_hostile_input import call, check_answer, exercise
from tests.schema_strategies import SchemaStrategies

DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "openapi"
SCHEMAS = "#/components/schemas/"


@cache
def strategies(version: str) -> SchemaStrategies:
    return SchemaStrategies(json.loads((DOCS / f"browser-use-cloud-{version}.json").read_text()))


def v3_bodies() -> st.SearchStrategy[tuple[Any, Any]]:
    s = strategies("v3")
    return st.tuples(s.for_ref(SCHEMAS + "SessionResponse"), s.for_ref(SCHEMAS + "MessageListResponse"))


def v4_bodies() -> st.SearchStrategy[tuple[Any, Any]]:
    s = strategies("v4")
    return st.tuples(s.for_ref(SCHEMAS + "RunSummary"), s.for_ref(SCHEMAS + "RunEventsResponse"))


def listed(body: Any, key: str) -> list[dict[str, Any]]:
    """What a source takes from a list body: its dict entries."""
    return [e for e in body.get(key, []) if isinstance(e, dict)] if isinstance(body, dict) else []


# -- straight into the mappers -----------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(v3_bodies())
def test_v3_documented_sessions_map_and_render(bodies: tuple[Any, Any]) -> None:
    session, messages = bodies
    try:
        task = task_from_v3(session, listed(messages, "messages"), [])
    except MalformedResponseError:
        return
    assert task.source == "cloud-v3"
    exercise(task)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(v4_bodies())
def test_v4_documented_runs_map_and_render(bodies: tuple[Any, Any]) -> None:
    run, events = bodies
    try:
        task = task_from_v4(run, listed(events, "events"), [])
    except MalformedResponseError:
        return
    assert task.source == "cloud-v4"
    # Every event is a step: none is dropped, whatever its type or data.
    assert len(task.steps) == len(listed(events, "events"))
    exercise(task)


# -- end to end --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portal() -> Iterator[anyio.from_thread.BlockingPortal]:
    with anyio.from_thread.start_blocking_portal("asyncio") as running:
        yield running


def open_client(portal: anyio.from_thread.BlockingPortal, url: str, version: str) -> Any:
    return portal.wrap_async_context_manager(
        client_for(cloud_settings(url, version=version, call_deadline_s=5.0, max_retries=0))
    )


PATHS = {
    "v3": (r"^/api/v3/sessions/{id}$", r"^/api/v3/sessions/{id}/messages$"),
    "v4": (r"^/api/v4/runs/{id}$", r"^/api/v4/runs/{id}/events$"),
}
LISTS = {"v3": ("/api/v3/sessions", "SessionListResponse"), "v4": ("/api/v4/runs", "RunListResponse")}
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_task", {}),
    ("get_step", {"step": 1}),
    ("list_screenshots", {}),
    ("get_media", {}),
]


def assert_fits(client: Client, portal: anyio.from_thread.BlockingPortal, tool: str, content: Any) -> None:
    tools = {t.name: t for t in portal.call(client.list_tools).tools}
    schema = tools[tool].output_schema
    assert schema is not None
    jsonschema.validate(content, schema)


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_documented_responses_end_to_end(
    version: str, portal: anyio.from_thread.BlockingPortal, fresh_emulator: Emulator
) -> None:
    emu = fresh_emulator
    url = emu.v3_url if version == "v3" else emu.v4_url
    bodies = v3_bodies() if version == "v3" else v4_bodies()
    list_path, list_schema = LISTS[version]
    pages = strategies(version).for_ref(SCHEMAS + list_schema)
    with open_client(portal, url, version) as client:

        @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
        @given(bodies, pages, st.uuids())
        def one(pair: tuple[Any, Any], page: Any, task_uuid: uuid.UUID) -> None:
            task_id = str(task_uuid)
            added = [
                emu.faults.add("wrong_shape", regex=pattern.format(id=task_id), body=body)
                for pattern, body in zip(PATHS[version], pair, strict=True)
            ]
            added.append(emu.faults.add("wrong_shape", regex=f"^{list_path}$", body=page))
            try:
                for tool, args in [*CALLS, ("list_tasks", {})]:
                    arguments = {} if tool == "list_tasks" else {"task_id": task_id, **args}
                    result = call(portal, client, tool, arguments)
                    text = check_answer(result)
                    if not result.is_error:
                        assert_fits(client, portal, tool, result.structured_content)
                    else:
                        assert "Internal" not in text
            finally:
                for fault in added:
                    emu.faults.remove(fault)

        one()
