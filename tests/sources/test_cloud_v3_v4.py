"""Cloud v3 (sessions) and v4 (runs) read through the MCP surface from the emulator.

How each generation maps into tasks: statuses, steps from messages and events (unknown types
kept), screenshots, files resolved fresh, recordings, listings, and how long a task holding
v3's 5-minute links may be cached.
"""

from __future__ import annotations

from typing import Any

import pytest

from browser_use_tasks_mcp.config import ConfigError, Settings
from browser_use_tasks_mcp.models import Screenshot, Step, Task
from browser_use_tasks_mcp.service import TaskService
from browser_use_tasks_mcp.sources import SOURCES, choose
from browser_use_tasks_mcp.sources.cloud_v3 import CloudV3Source, status_from_v3
from browser_use_tasks_mcp.sources.cloud_v4 import CloudV4Source, step_from_event, steps_from_events
from browser_use_tasks_mcp.sources.parse import MAX_STEPS
from tests.emulator import (
    CREATED_TASK,
    FAILED_TASK,
    FILES_TASK,
    FINISHED_TASK,
    NO_SCREENSHOTS_TASK,
    RUNNING_TASK,
    STOPPED_TASK,
    UNKNOWN_ID,
    Emulator,
    get_seed,
)
from tests.helpers import TEST_KEY, call_error, call_ok, client_for, cloud_settings, text_of

pytestmark = pytest.mark.anyio
SEED = get_seed()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def settings(emu: Emulator, version: str) -> Settings:
    return cloud_settings(emu.v3_url if version == "v3" else emu.v4_url, version=version)


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_version_and_base_url_select_the_row(version: str) -> None:
    from pydantic import SecretStr

    by_url = Settings(
        source="cloud", api_key=SecretStr(TEST_KEY), base_url=f"https://proxy.example/api/{version}"
    )
    assert by_url.effective_api_version == version
    by_env = Settings(source="cloud", api_key=SecretStr(TEST_KEY), api_version=version)  # type: ignore[arg-type]
    assert by_env.effective_base_url == f"https://api.browser-use.com/api/{version}"
    row = choose(by_env.validate())
    assert row is not None and row.name == f"cloud-{version}"
    assert sum(r.api_version == version for r in SOURCES) == 1


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ConfigError, match="v1, v2, v3 or v4"):
        Settings(api_version="v9").validate()  # type: ignore[arg-type]


# -- statuses and mapping --------------------------------------------------------------------


def test_v3_statuses_map_into_the_common_vocabulary() -> None:
    assert status_from_v3("stopped", has_result=True) == "finished"
    assert status_from_v3("stopped", has_result=False) == "stopped"
    assert status_from_v3("idle", has_result=True) == "finished"
    assert status_from_v3("idle", has_result=False) == "created"
    assert status_from_v3("timed_out", has_result=False) == "failed"
    assert status_from_v3("error", has_result=True) == "failed"
    assert status_from_v3("running", has_result=False) == "running"


def test_unknown_and_odd_events_become_steps_without_a_crash() -> None:
    events: list[Any] = [
        {
            "id": 1,
            "type": "browser.ready",
            "ts": "2026-01-01T00:00:00Z",
            "data": {"live_view_url": "https://x"},
        },
        {"id": 2, "type": "x.new.thing", "ts": "nonsense", "data": {"a": [1, {"b": None}], "n": 1e308}},
        {"id": 3, "type": None, "data": "not an object"},
        {"id": 4, "type": "run.failed", "data": {}},
        {
            "id": 5,
            "type": "tool.result",
            "data": {"out": "x" * 50_000, "img": "https://cdn.example/a/b.PNG?sig=1"},
        },
    ]
    steps = [Step.model_validate(fields) for fields in steps_from_events(events, [])]
    assert [s.number for s in steps] == [1, 2, 3, 4, 5]
    assert [s.actions[0].name for s in steps] == [
        "browser.ready",
        "x.new.thing",
        "event",
        "run.failed",
        "tool.result",
    ]
    assert steps[3].errors == ["The event run.failed reports a failure."]
    assert steps[4].screenshot is not None and steps[4].screenshot.url == "https://cdn.example/a/b.PNG?sig=1"
    assert all(len(r) < 3_000 for r in steps[4].results)
    assert step_from_event({"type": "agent.step", "data": {"error": "boom"}}, 9)["errors"] == ["boom"]


def test_events_are_bounded_by_the_step_cap() -> None:
    notes: list[str] = []
    events = [{"id": i, "type": "tick", "data": {}} for i in range(MAX_STEPS + 10)]
    steps = steps_from_events(events, notes)
    assert len(steps) == MAX_STEPS and notes and steps[-1]["number"] == MAX_STEPS + 10


@pytest.mark.parametrize("source", [CloudV3Source, CloudV4Source])
def test_a_task_with_short_lived_links_is_not_cached_past_them(source: type[Any]) -> None:
    class Fake(source):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.label = "fake"

    service = TaskService(Fake())
    shot = Screenshot(step=1, url="https://cdn.example/shot.png")  # says nothing about its expiry
    task = Task(id=FINISHED_TASK, source="x", status="finished", steps=[Step(number=1, screenshot=shot)])
    ttl = service.task_ttl(task)
    assert ttl is not None and 0 < ttl <= 300
    assert service.task_ttl(task.model_copy(update={"steps": []})) == 1800  # no links: the usual


# -- end to end ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v3", "v4"])
async def test_tasks_read_end_to_end(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings(fresh_emulator, version)) as client:
        finished = (await call_ok(client, "get_task", {"task_id": FINISHED_TASK})).structured_content
        failed = (await call_ok(client, "get_task", {"task_id": FAILED_TASK})).structured_content
        running = (await call_ok(client, "get_task", {"task_id": RUNNING_TASK})).structured_content
        listing = (await call_ok(client, "list_tasks", {"page_size": 100})).structured_content
        missing = await call_error(client, "get_task", {"task_id": UNKNOWN_ID})
        waited = await call_ok(client, "wait_for_task", {"task_id": STOPPED_TASK, "timeout_s": 1})
    assert finished is not None and failed is not None and running is not None and listing is not None
    assert finished["task"]["source"] == f"cloud-{version}" and finished["task"]["status"] == "finished"
    assert failed["task"]["status"] == "failed" and running["task"]["status"] == "running"
    assert finished["task"]["cost_usd"] == ("0.047312500" if version == "v4" else "0.0473")  # exact
    ids = [i["id"] for i in listing["page"]["items"]]
    seeded = SEED.v3_list() if version == "v3" else SEED.v4_list()
    assert ids == [s.id for s in seeded]
    statuses = {i["id"]: i["status"] for i in listing["page"]["items"]}
    assert statuses[CREATED_TASK] == "created" and statuses[STOPPED_TASK] == "stopped"
    assert "not found" in missing and f"({version})" in missing
    assert "ended: stopped" in text_of(waited)


async def test_v3_steps_follow_the_messages(fresh_emulator: Emulator) -> None:
    async with client_for(settings(fresh_emulator, "v3")) as client:
        result = await call_ok(client, "get_task", {"task_id": RUNNING_TASK})
        step = await call_ok(client, "get_step", {"task_id": FAILED_TASK, "step": 3})
    task = SEED.tasks[RUNNING_TASK]
    text = text_of(result)
    assert task.task in text  # the user's message is the instruction, not a step
    for kind in ("planning", "file_operation", "sandbox_telemetry", "assistant_message"):
        assert f"[{kind}]" in text  # unknown and hidden types are kept
    errors = step.structured_content["step"]["errors"]  # type: ignore[index]
    assert errors == [SEED.tasks[FAILED_TASK].steps[3].evaluation_previous_goal]


async def test_v4_status_polls_the_cheap_endpoint(fresh_emulator: Emulator) -> None:
    async with client_for(settings(fresh_emulator, "v4")) as client:
        await call_ok(client, "wait_for_task", {"task_id": RUNNING_TASK, "timeout_s": 1})
    assert fresh_emulator.count(f"/api/v4/runs/{RUNNING_TASK}/status") >= 1


@pytest.mark.parametrize("version", ["v3", "v4"])
async def test_files_get_a_fresh_link_each_time(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings(fresh_emulator, version)) as client:
        for _ in range(2):
            result = await call_ok(
                client, "get_output_file", {"task_id": FILES_TASK, "file": "sales_q1_q4.csv"}
            )
            assert "quarter,revenue_usd" in text_of(result)
        media = await call_ok(client, "get_media", {"task_id": FILES_TASK})
        none = await call_ok(client, "get_media", {"task_id": NO_SCREENSHOTS_TASK})
    listings = [
        r for r in fresh_emulator.requests(f"/api/{version}/workspaces/") if "includeUrls=true" in r.query
    ]
    assert len(listings) == 3  # two reads and get_media: never a link kept from before
    bundle = media.structured_content
    assert bundle is not None and len(bundle["recordings"]) == 1 and len(bundle["output_files"]) == 4
    assert "60 seconds" in text_of(media)
    assert "recording" in text_of(none).lower()


async def test_v4_run_without_screenshots_says_so(fresh_emulator: Emulator) -> None:
    async with client_for(settings(fresh_emulator, "v4")) as client:
        result = await call_ok(client, "list_screenshots", {"task_id": NO_SCREENSHOTS_TASK})
    assert result.structured_content["screenshots"] == []  # type: ignore[index]
