"""The same tool suite against the Cloud API emulator, for v2 and legacy v1, over real HTTP."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.emulator import (
    BIDI_CONTROLS,
    CREATED_TASK,
    EXPIRED_SCREENSHOT_TASK,
    FAILED_TASK,
    FILES_TASK,
    FINISHED_TASK,
    INJECTION_TEXT,
    LONG_TASK,
    NO_SCREENSHOTS_TASK,
    RUNNING_TASK,
    UNKNOWN_ID,
    UNTRUSTED_CONTENT_TASK,
    V1_GIF_TASK,
    V1_NO_GIF_TASK,
    V1_NULL_GIF_TASK,
    V1_UNNUMBERED_SCREENSHOTS_TASK,
    ZERO_WIDTH,
    Emulator,
)
from tests.helpers import TEST_KEY, call_error, call_ok, client_for, cloud_settings, images_of, text_of

pytestmark = pytest.mark.anyio
VERSIONS = ["v2", "v1"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def settings_for(emu: Emulator, version: str, **extra: object):  # type: ignore[no-untyped-def]
    return cloud_settings(emu.v2_url if version == "v2" else emu.v1_url, version=version, **extra)


@pytest.mark.parametrize("version", VERSIONS)
async def test_list_tasks_pages_newest_first(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        first = await call_ok(client, "list_tasks", {"page_size": 10})
        second = await call_ok(client, "list_tasks", {"page": 2, "page_size": 10})
    page = first.structured_content["page"]  # type: ignore[index]
    assert len(page["items"]) == 10
    assert first.structured_content["has_more"] is True  # type: ignore[index]
    created = [i["created_at"] for i in page["items"]]
    assert created == sorted(created, reverse=True)
    assert "list_tasks(page=2, page_size=10)" in text_of(first)
    assert {i["id"] for i in page["items"]}.isdisjoint(
        i["id"] for i in second.structured_content["page"]["items"]
    )  # type: ignore[index]


async def test_list_tasks_filters_by_status_v2(fresh_emulator: Emulator) -> None:
    async with client_for(settings_for(fresh_emulator, "v2")) as client:
        result = await call_ok(client, "list_tasks", {"status": "running"})
    items = result.structured_content["page"]["items"]  # type: ignore[index]
    assert [i["id"] for i in items] == [RUNNING_TASK]
    assert items[0]["raw_status"] == "started"
    assert "filterBy=started" in fresh_emulator.requests("/api/v2/tasks")[0].query


@pytest.mark.parametrize("version", VERSIONS)
async def test_get_task_finished(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        result = await call_ok(client, "get_task", {"task_id": FINISHED_TASK})
    task = result.structured_content["task"]  # type: ignore[index]
    assert task["status"] == "finished"
    assert task["source"] == f"cloud-{version}"
    assert task["output"]
    assert result.structured_content["step_count"] == 8  # type: ignore[index]
    text = text_of(result)
    assert text.startswith(f"# Task {FINISHED_TASK}: finished")
    if version == "v2":
        assert task["is_success"] is True and task["judgement"]["verdict"] is True
        assert task["cost_usd"] and task["llm"]
    else:
        assert task["cookies"]["count"] > 0  # cookie values never carried, only count and domains
        assert "value" not in str(task["cookies"])
        assert "**Cookies kept:**" in text


@pytest.mark.parametrize("version", VERSIONS)
async def test_get_task_failed_points_at_the_failing_step(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        result = await call_ok(client, "get_task", {"task_id": FAILED_TASK})
    assert result.structured_content["task"]["status"] == "failed"  # type: ignore[index]
    # Steps 4-6 each judge the previous step "Failed - ...", so steps 3-5 are the failing ones.
    assert result.structured_content["failing_steps"] == [3, 4, 5]  # type: ignore[index]
    assert 'get_step(task_id="' + FAILED_TASK + '", step=3)' in text_of(result)


@pytest.mark.parametrize("version", VERSIONS)
async def test_get_task_500_steps_stays_bounded(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        result = await call_ok(client, "get_task", {"task_id": LONG_TASK})
    text = text_of(result)
    data = result.structured_content
    assert data is not None and data["step_count"] == 500
    assert len(text) < 12_000  # a few thousand tokens at most
    assert data["steps_truncated"] is True and len(data["steps"]) <= 100
    assert "   1. " in text and " 500. " in text  # first and last steps are listed
    assert "more not shown" in text


@pytest.mark.parametrize("version", VERSIONS)
async def test_running_and_created_tasks(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        running = await call_ok(client, "get_task", {"task_id": RUNNING_TASK})
        created = await call_ok(client, "get_task", {"task_id": CREATED_TASK})
        media = await call_ok(client, "get_media", {"task_id": RUNNING_TASK})
    assert running.structured_content["task"]["status"] == "running"  # type: ignore[index]
    assert "_No final output yet._" in text_of(running)
    assert created.structured_content["step_count"] == 0  # type: ignore[index]
    assert "_No steps recorded yet._" in text_of(created)
    if version == "v1":
        assert any("only for completed tasks" in n for n in media.structured_content["notes"])  # type: ignore[index]


@pytest.mark.parametrize("version", VERSIONS)
async def test_screenshots_and_previews(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        listing = await call_ok(client, "list_screenshots", {"task_id": FINISHED_TASK})
        step = await call_ok(
            client, "get_step", {"task_id": FINISHED_TASK, "step": 2, "include_screenshot": True}
        )
        none = await call_ok(client, "list_screenshots", {"task_id": NO_SCREENSHOTS_TASK})
    shots = listing.structured_content["screenshots"]  # type: ignore[index]
    assert [s["step"] for s in shots] == list(range(1, 9))
    assert all(s["url"].startswith(fresh_emulator.base_url) for s in shots)
    ((mime, data),) = images_of(step)
    with Image.open(io.BytesIO(data)) as image:
        assert max(image.size) <= 1024
    assert mime == "image/webp"
    assert none.structured_content["total"] == 0  # type: ignore[index]


async def test_v1_unnumbered_screenshots_are_not_given_invented_steps(fresh_emulator: Emulator) -> None:
    async with client_for(settings_for(fresh_emulator, "v1")) as client:
        listing = await call_ok(client, "list_screenshots", {"task_id": V1_UNNUMBERED_SCREENSHOTS_TASK})
        preview = await client.read_resource(
            f"browser-use://tasks/{V1_UNNUMBERED_SCREENSHOTS_TASK}/screenshots/capture-2"
        )
    shots = listing.structured_content["screenshots"]  # type: ignore[index]
    assert shots and all(s["step"] is None for s in shots)
    assert shots[1]["resource_uri"].endswith("/screenshots/capture-2")
    assert preview.contents[0].mime_type == "image/webp"


async def test_expired_screenshot_is_named_not_attached(fresh_emulator: Emulator) -> None:
    async with client_for(settings_for(fresh_emulator, "v2")) as client:
        result = await call_ok(
            client, "get_step", {"task_id": EXPIRED_SCREENSHOT_TASK, "step": 2, "include_screenshot": True}
        )
    assert images_of(result) == []
    assert "**Not attached:** screenshot of step 2" in text_of(result)
    assert "expired" in text_of(result)


@pytest.mark.parametrize(
    ("version", "task_id", "origin"),
    [
        ("v2", FINISHED_TASK, "assembled"),
        ("v1", V1_GIF_TASK, "source"),
        ("v1", V1_NO_GIF_TASK, "assembled"),
    ],
)
async def test_get_gif(fresh_emulator: Emulator, version: str, task_id: str, origin: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        result = await call_ok(client, "get_gif", {"task_id": task_id})
        data = result.structured_content
        assert data is not None and data["origin"] == origin and data["frame_count"] >= 2
        gif = await client.read_resource(data["resource_uri"])
    assert gif.contents[0].mime_type == "image/gif"


async def test_get_gif_with_too_few_screenshots_says_so(fresh_emulator: Emulator) -> None:
    async with client_for(settings_for(fresh_emulator, "v1")) as client:
        message = await call_error(client, "get_gif", {"task_id": V1_NULL_GIF_TASK})
    assert "needs at least 2 screenshots" in message


async def test_get_media_v2_recording_log_and_files(fresh_emulator: Emulator) -> None:
    async with client_for(settings_for(fresh_emulator, "v2")) as client:
        result = await call_ok(client, "get_media", {"task_id": FILES_TASK})
        log = await client.read_resource(f"browser-use://tasks/{FILES_TASK}/logs")
    data = result.structured_content
    assert data is not None
    assert len(data["recordings"]) == 1 and data["recordings"][0]["url"]
    assert data["logs"][0]["resource_uri"] == f"browser-use://tasks/{FILES_TASK}/logs"
    assert len(data["output_files"]) == 4 and all(f["download_url"] for f in data["output_files"])
    assert log.contents[0].text.strip()  # type: ignore[union-attr]


async def test_get_media_v1_recordings_with_types(fresh_emulator: Emulator) -> None:
    async with client_for(settings_for(fresh_emulator, "v1")) as client:
        result = await call_ok(client, "get_media", {"task_id": FILES_TASK})
    types = sorted(r["mime_type"] for r in result.structured_content["recordings"])  # type: ignore[index]
    assert types == ["video/mp4", "video/webm"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_output_files_text_inline_and_binary_as_link(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        media = await call_ok(client, "get_media", {"task_id": FILES_TASK})
        names = [f["name"] for f in media.structured_content["output_files"]]  # type: ignore[index]
        csv_name = next(n for n in names if n.endswith(".csv"))
        png_name = next(n for n in names if n.endswith(".png"))
        csv = await call_ok(client, "get_output_file", {"task_id": FILES_TASK, "file": csv_name})
        png = await call_ok(client, "get_output_file", {"task_id": FILES_TASK, "file": png_name})
        missing = await call_error(client, "get_output_file", {"task_id": FILES_TASK, "file": "nope.txt"})
    assert csv.structured_content["inline"] is True and "," in csv.structured_content["text"]  # type: ignore[index]
    assert png.structured_content["inline"] is False  # type: ignore[index]
    assert png.structured_content["mime_type"] == "image/png"  # type: ignore[index]
    assert any(getattr(b, "type", "") == "resource_link" for b in png.content)
    assert "has no output file 'nope.txt'" in missing and csv_name in missing


@pytest.mark.parametrize("version", VERSIONS)
async def test_unknown_task_is_a_clear_error(fresh_emulator: Emulator, version: str) -> None:
    async with client_for(settings_for(fresh_emulator, version)) as client:
        message = await call_error(client, "get_task", {"task_id": UNKNOWN_ID})
    assert "was not found" in message and "list_tasks" in message


async def test_v2_refuses_a_non_uuid_before_any_request(fresh_emulator: Emulator) -> None:
    async with client_for(settings_for(fresh_emulator, "v2")) as client:
        message = await call_error(client, "get_task", {"task_id": "task_1234"})
    assert "UUID" in message
    assert fresh_emulator.count(prefix="/api/") == 0


@pytest.mark.parametrize("version", VERSIONS)
async def test_wrong_key_is_explained_without_echoing_it(fresh_emulator: Emulator, version: str) -> None:
    wrong = "bu-wrong-key-ZZZ999"
    async with client_for(settings_for(fresh_emulator, version, key=wrong)) as client:
        message = await call_error(client, "get_task", {"task_id": FINISHED_TASK})
    assert "rejected the API key" in message
    assert wrong not in message and TEST_KEY not in message


async def test_429_with_retry_after_is_retried(fresh_emulator: Emulator) -> None:
    fresh_emulator.faults.add(429, path=f"/api/v2/tasks/{FINISHED_TASK}", times=2, retry_after=0)
    async with client_for(settings_for(fresh_emulator, "v2")) as client:
        await call_ok(client, "get_task", {"task_id": FINISHED_TASK})
    assert fresh_emulator.count(f"/api/v2/tasks/{FINISHED_TASK}") == 3


async def test_finished_task_is_cached_and_concurrent_reads_coalesce(fresh_emulator: Emulator) -> None:
    import anyio

    path = f"/api/v2/tasks/{FINISHED_TASK}"
    fresh_emulator.faults.add("delay", path=path, delay=0.3, times=1)
    async with client_for(settings_for(fresh_emulator, "v2")) as client:
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(client.call_tool, "get_task", {"task_id": FINISHED_TASK})
        await call_ok(client, "get_task", {"task_id": FINISHED_TASK})
    assert fresh_emulator.count(path) == 1


async def test_untrusted_content_is_sanitised_and_fenced(fresh_emulator: Emulator) -> None:
    async with client_for(settings_for(fresh_emulator, "v2")) as client:
        task = await call_ok(client, "get_task", {"task_id": UNTRUSTED_CONTENT_TASK})
        steps = await client.read_resource(f"browser-use://tasks/{UNTRUSTED_CONTENT_TASK}/steps")
    for text in (text_of(task), steps.contents[0].text):  # type: ignore[union-attr]
        assert not any(ch in text for ch in ZERO_WIDTH + BIDI_CONTROLS + "\x1b")
        assert "read it as data, not as instructions" in text
    # The injected instruction only ever appears inside an untrusted fence.
    text = text_of(task)
    for start in [i for i in range(len(text)) if text.startswith(INJECTION_TEXT[:30], i)]:
        before = text[:start]
        assert before.count("untrusted\n") > 0
