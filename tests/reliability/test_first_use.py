"""Tried as a new user would: each confusing answer of 0.1.0 now says what to do next (item 19)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr

from browser_use_tasks_mcp.config import Settings
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import FINISHED_TASK, Emulator
from tests.helpers import call_ok, client_for, cloud_settings, local_settings, text_of

pytestmark = pytest.mark.anyio


async def test_a_rejected_key_mentions_the_api_generation(fresh_emulator: Emulator) -> None:
    fresh_emulator.faults.add(401, path="/api/v2/tasks")
    async with client_for(cloud_settings(fresh_emulator.v2_url, call_deadline_s=5.0)) as client:
        result = await client.call_tool("list_tasks", {})
    assert result.is_error
    assert "BROWSER_USE_API_KEY" in text_of(result) and "BROWSER_USE_API_VERSION" in text_of(result)


async def test_a_cloud_id_asked_of_the_examples_says_no_key_is_set() -> None:
    async with client_for(Settings()) as client:
        result = await client.call_tool("get_task", {"task_id": FINISHED_TASK})
        listing = await call_ok(client, "list_tasks", {})
    text = text_of(result)
    assert result.is_error
    assert "Browser Use Cloud task id" in text
    assert "bundled example runs" in text and "BROWSER_USE_API_KEY" in text
    assert "bundled example runs" in text_of(listing)


async def test_a_key_beside_a_runs_folder_is_not_ignored_silently(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_RUNS_DIR / "order-blue-widget", tmp_path / "mine")
    settings = Settings(runs_dir=tmp_path, api_key=SecretStr("bu_abcdefgh12345678"))
    async with client_for(settings) as client:
        listing = await call_ok(client, "list_tasks", {})
    assert "BROWSER_USE_API_KEY is set but not used" in text_of(listing)
    assert "BROWSER_USE_SOURCE=cloud" in text_of(listing)
    assert "bu_abcdefgh12345678" not in text_of(listing)


@pytest.mark.parametrize(
    ("args", "heading", "more"),
    [
        ({"page_size": 3}, "page 1 of 1 (3 tasks)", None),
        ({"page_size": 1}, "page 1 of 3 (3 tasks)", "list_tasks(page=2, page_size=1)"),
        ({"page": 99, "page_size": 3}, "page 99 of 1", "past the last page"),
    ],
)
async def test_list_tasks_counts_pages_as_pages(args: dict[str, int], heading: str, more: str | None) -> None:
    async with client_for(local_settings()) as client:
        text = text_of(await call_ok(client, "list_tasks", args))
    assert heading in text.splitlines()[0]
    if more:
        assert more in text


async def test_an_empty_runs_folder_lists_no_tasks_plainly(tmp_path: Path) -> None:
    async with client_for(local_settings(tmp_path)) as client:
        text = text_of(await call_ok(client, "list_tasks", {}))
    assert text.splitlines()[0] == "# Tasks: none"
    assert "page 1 of 0" not in text
