"""`BROWSER_USE_API_VERSION=auto`: one key reads v4 runs, v3 sessions and v2 tasks as one source.

The emulator keeps each replayed task in one generation (`AUTO_OWNERS`), as a real account
does. What is checked: the configuration defaults, the merged listing, finding a bare id once
and remembering it, a generation the key cannot read (skipped with one line), a generation
that is down (the others still answer), per-task capabilities, and `check` per generation.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import TextResourceContents
from pydantic import SecretStr

from browser_use_tasks_mcp.check import run_check
from browser_use_tasks_mcp.config import Settings, settings_from_env
from browser_use_tasks_mcp.errors import NotFoundError
from browser_use_tasks_mcp.service import TaskService
from browser_use_tasks_mcp.sources import choose
from browser_use_tasks_mcp.sources.cloud_auto import MERGED_LISTING_MAX, AutoCloudSource
from tests.emulator import FAILED_TASK, FILES_TASK, FINISHED_TASK, UNKNOWN_ID, Emulator, media
from tests.helpers import TEST_KEY, call_error, call_ok, text_of
from tests.tools.common import AUTO_OWNERS, Source, cloud_source

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def auto(fresh_emulator: Emulator) -> Iterator[Source]:
    yield cloud_source(fresh_emulator, "auto", max_retries=0)


def requests_to(emu: Emulator, version: str) -> int:
    return emu.count(prefix=f"/api/{version}/")


# -- configuration ---------------------------------------------------------------------------


def test_a_key_alone_reads_every_generation_from_the_api_root() -> None:
    settings = Settings(api_key=SecretStr(TEST_KEY)).validate()
    assert settings.effective_source == "cloud"
    assert settings.effective_api_version == "auto"
    assert settings.effective_base_url == "https://api.browser-use.com"
    assert settings.base_url_for("v4") == "https://api.browser-use.com/api/v4"
    row = choose(settings)
    assert row is not None and row.name == "cloud-auto"
    from_env = settings_from_env({"BROWSER_USE_API_KEY": TEST_KEY, "BROWSER_USE_API_VERSION": "AUTO"})
    assert from_env.effective_api_version == "auto"


def test_a_url_ending_in_a_generation_still_pins_it() -> None:
    pinned = Settings(api_key=SecretStr(TEST_KEY), base_url="https://proxy.example/api/v2/")
    assert pinned.effective_api_version == "v2"
    assert pinned.effective_base_url == "https://proxy.example/api/v2"
    rooted = Settings(api_key=SecretStr(TEST_KEY), base_url="https://proxy.example", api_version="v3")
    assert rooted.effective_base_url == "https://proxy.example/api/v3"
    # `auto` asked for explicitly reads every generation under that URL's root.
    forced = Settings(
        api_key=SecretStr(TEST_KEY), base_url="https://proxy.example/api/v2", api_version="auto"
    )
    assert forced.effective_api_version == "auto"
    assert forced.base_url_for("v4") == "https://proxy.example/api/v4"
    assert forced.base_url_for("v2") == "https://proxy.example/api/v2"


# -- the merged listing ------------------------------------------------------------------------


async def test_the_listing_merges_every_generation_newest_first(auto: Source) -> None:
    async with auto.client() as client:
        result = await call_ok(client, "list_tasks", {"page_size": 100})
        second = await call_ok(client, "list_tasks", {"page": 2, "page_size": 100})
    page = result.structured_content["page"]  # type: ignore[index]
    items = page["items"] + second.structured_content["page"]["items"]  # type: ignore[index]
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == page["total_items"]
    created = [i["created_at"] for i in items]
    assert created == sorted(created, reverse=True)
    where = {i["id"]: i["source"] for i in items}
    for task_id, generation in AUTO_OWNERS.items():
        assert where[task_id] == f"cloud-{generation}"
    assert {i["source"] for i in items} == {"cloud-v4", "cloud-v3", "cloud-v2"}
    assert f"`{FINISHED_TASK}` **finished** ✓ · v3 · " in text_of(result)


async def test_a_page_past_the_merged_window_says_how_to_page_further(auto: Source) -> None:
    async with auto.client() as client:
        message = await call_error(
            client, "list_tasks", {"page": MERGED_LISTING_MAX // 100 + 1, "page_size": 100}
        )
        await call_ok(client, "list_tasks", {})
    assert "BROWSER_USE_API_VERSION" in message


# -- finding a bare id -------------------------------------------------------------------------


async def test_a_bare_id_is_looked_up_once_then_read_from_its_generation(auto: Source) -> None:
    emu = auto.emulator
    assert emu is not None
    async with httpx2.AsyncClient() as http:
        source = AutoCloudSource.open(auto.settings, http)
        task = await source.get_task(FILES_TASK)
        assert task.source == "cloud-v2"
        assert (requests_to(emu, "v4"), requests_to(emu, "v3")) == (1, 1)  # one 404 each, asked at once
        emu.log.clear()
        assert (await source.get_task(FILES_TASK)).id == FILES_TASK
        assert await source.get_status(FILES_TASK)
        assert (requests_to(emu, "v4"), requests_to(emu, "v3")) == (0, 0)
        assert requests_to(emu, "v2") >= 2
        # Ids a listing showed are known already: no search at all.
        await source.list_tasks(status=None, page=1, page_size=10)
        emu.log.clear()
        assert (await source.get_task(FINISHED_TASK)).source == "cloud-v3"
        assert (requests_to(emu, "v4"), requests_to(emu, "v2")) == (0, 0)
        with pytest.raises(NotFoundError, match="v4 or v3 or v2"):
            await source.get_task(UNKNOWN_ID)


async def test_each_task_keeps_its_own_generations_capabilities(auto: Source) -> None:
    async with httpx2.AsyncClient() as http:
        service = TaskService(AutoCloudSource.open(auto.settings, http))
        v3_task = await service.get_task(FINISHED_TASK)
        v2_task = await service.get_task(FILES_TASK)
        # v3 screenshot links live 5 minutes: the task is not kept past them; v2 has an execution log.
        ttl = service.task_ttl(v3_task)
        assert ttl is not None and ttl <= 300 - 30
        assert service.capabilities_for(v2_task).execution_log
        assert not service.capabilities_for(v3_task).execution_log
    emu = auto.emulator
    assert emu is not None
    async with auto.client() as client:
        log = await client.read_resource(f"browser-use://tasks/{FILES_TASK}/logs")
        (content,) = log.contents
        expected = media.log_text(emu.seed.tasks[FILES_TASK]).decode()
        assert isinstance(content, TextResourceContents) and expected[-2000:] in content.text
        message = await call_error(client, "get_media", {"task_id": UNKNOWN_ID})
        assert "not found" in message.lower()
        with pytest.raises(MCPError, match="no execution log"):
            await client.read_resource(f"browser-use://tasks/{FINISHED_TASK}/logs")


# -- generations that cannot be read -----------------------------------------------------------


async def test_a_generation_the_key_cannot_read_is_skipped_with_one_line(auto: Source) -> None:
    emu = auto.emulator
    assert emu is not None
    emu.faults.add(403, path="/api/v4/")
    async with auto.client() as client:
        listed = await call_ok(client, "list_tasks", {"page_size": 50})
        found = await call_ok(client, "get_task", {"task_id": FINISHED_TASK})
        missing = await call_error(client, "get_task", {"task_id": FAILED_TASK})
        v4_asked = requests_to(emu, "v4")
        await call_error(client, "get_task", {"task_id": UNKNOWN_ID})
        assert requests_to(emu, "v4") == v4_asked, "a generation that refused the key is not asked again"
    notices = listed.structured_content["page"]["notices"]  # type: ignore[index]
    assert [n for n in notices if n.startswith("Cloud v4 skipped")] == [notices[0]]
    assert "403" in notices[0]
    sources = {i["source"] for i in listed.structured_content["page"]["items"]}  # type: ignore[index]
    assert sources == {"cloud-v3", "cloud-v2"}
    assert text_of(listed).count("Cloud v4 skipped") == 1
    assert found.structured_content["task"]["source"] == "cloud-v3"  # type: ignore[index]
    assert "Cloud v4 skipped" in missing and "v3 or v2" in missing


async def test_a_key_no_generation_accepts_is_an_authentication_error(fresh_emulator: Emulator) -> None:
    source = cloud_source(fresh_emulator, "auto", key="bu_not_the_right_key")
    async with source.client() as client:
        listed = await client.call_tool("list_tasks", {})
        task = await client.call_tool("get_task", {"task_id": FINISHED_TASK})
    for result in (listed, task):
        assert result.is_error
        assert "Authentication failed" in text_of(result) and "bu_not_the_right_key" not in text_of(result)


async def test_a_generation_that_is_down_leaves_the_others_answering(auto: Source) -> None:
    emu = auto.emulator
    assert emu is not None
    emu.faults.add(503, path="/api/v3/")
    async with auto.client() as client:
        listed = await call_ok(client, "list_tasks", {"page_size": 50})
        other = await call_ok(client, "get_task", {"task_id": FILES_TASK})
        # The task may be in the generation that did not answer: that is what the error says.
        unknown = await call_error(client, "get_task", {"task_id": UNKNOWN_ID})
    errors = listed.structured_content["page"]["errors"]  # type: ignore[index]
    assert len(errors) == 1 and errors[0].startswith("Cloud v3 could not be listed")
    assert "503" in errors[0] or "unavailable" in errors[0].lower()
    assert other.structured_content["task"]["id"] == FILES_TASK  # type: ignore[index]
    assert "not found" not in unknown.lower()


# -- check -------------------------------------------------------------------------------------


def test_check_reports_each_generation(auto: Source, capsys: pytest.CaptureFixture[str]) -> None:
    emu = auto.emulator
    assert emu is not None
    emu.faults.add(403, path="/api/v4/")
    assert run_check(auto.settings) == 0
    out = capsys.readouterr().out
    assert "API version: auto" in out
    assert "v4: not readable: Permission denied" in out
    assert "v3: key accepted, 3 tasks." in out
    assert "v2: key accepted," in out
    emu.faults.clear()
    wrong = cloud_source(emu, "auto", key="bu_wrong_key_for_check")
    assert run_check(wrong.settings) == 1
    out = capsys.readouterr().out
    assert "FAIL: no Cloud generation could be read" in out and "bu_wrong_key_for_check" not in out
