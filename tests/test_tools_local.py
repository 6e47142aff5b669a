"""Every tool and resource through a real in-process MCP client, on the local-runs source."""

from __future__ import annotations

import base64
import io
import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.helpers import call_error, call_ok, client_for, images_of, local_settings, text_of

pytestmark = pytest.mark.anyio
RUN = "order-blue-widget"
TOOLS = {"get_task", "get_step", "list_screenshots", "get_gif", "get_media", "list_tasks", "get_output_file"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    shutil.copytree(BUNDLED_RUNS_DIR / RUN, tmp_path / RUN)
    return tmp_path


async def test_tool_inventory_is_annotated_and_documented(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        tools = (await client.list_tools()).tools
    names = {t.name for t in tools}
    assert names >= TOOLS
    for tool in tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
        assert tool.annotations.idempotent_hint is not None and tool.annotations.open_world_hint is not None
        assert tool.output_schema is not None, tool.name
        assert "Example:" in (tool.description or ""), tool.name
        assert "anyOf" not in tool.input_schema and "oneOf" not in tool.input_schema, tool.name


async def test_get_task_reads_the_sample_run(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "get_task", {"task_id": RUN})
    text = text_of(result)
    data = result.structured_content
    assert data is not None
    assert data["task"]["status"] == "finished"
    assert data["task"]["is_success"] is True
    assert data["step_count"] == 7
    assert data["failing_steps"] == [3]
    assert "Order number: ACME-1042." in data["task"]["output"]
    assert text.startswith(f"# Task {RUN}: finished")
    assert "Order number: ACME-1042" in text
    assert "Navigation failed - site unavailable" in text  # the failing step is shown with its error
    assert 'get_step(task_id="order-blue-widget", step=3)' in text


async def test_get_step_attaches_a_bounded_preview(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "get_step", {"task_id": RUN, "step": 3, "include_screenshot": True})
    images = images_of(result)
    assert len(images) == 1
    mime, data = images[0]
    assert mime in ("image/webp", "image/jpeg")
    with Image.open(io.BytesIO(data)) as image:
        assert max(image.size) <= 1024
    assert len(data) <= 300_000
    assert "**Attached:** screenshot of step 3" in text_of(result)
    step = result.structured_content["step"]  # type: ignore[index]
    assert step["errors"] == ["Navigation failed - site unavailable: http://127.0.0.1:8766/cart.html"]


async def test_get_step_on_a_step_without_screenshot_says_so(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "get_step", {"task_id": RUN, "step": "1", "include_screenshot": True})
    assert images_of(result) == []
    assert "**Not attached:** this step has no screenshot." in text_of(result)


async def test_list_screenshots_counts_steps_without_one(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "list_screenshots", {"task_id": RUN})
    data = result.structured_content
    assert data is not None
    assert [s["step"] for s in data["screenshots"]] == [2, 3, 4, 5, 6, 7]
    assert data["steps_without_screenshot"] == [1]
    assert "**Steps without a screenshot:** 1 (1)" in text_of(result)


async def test_list_screenshots_attaches_at_most_max_images_and_names_the_rest(runs: Path) -> None:
    args = {"task_id": RUN, "steps": [1, 2, 3, 4], "include_images": True, "max_images": 2}
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "list_screenshots", args)
    assert len(images_of(result)) == 2
    text = text_of(result)
    assert "**Attached images:** step 2" in text
    assert "step 1: no screenshot for this step" in text
    assert "step 4: over the limit of 2 images per call" in text


async def test_get_gif_serves_the_runs_own_gif(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "get_gif", {"task_id": RUN})
        data = result.structured_content
        assert data is not None and data["origin"] == "source"
        assert data["frame_count"] == 7
        # browser-use's GIF: a title frame, then one frame per screenshot (steps 2-7).
        assert data["frame_steps"] == [None, 2, 3, 4, 5, 6, 7]
        previews = await call_ok(client, "get_gif", {"task_id": RUN, "include_preview": True})
        assert previews.structured_content["previews"] == ["first frame", "step 3 (failing)", "last frame"]  # type: ignore[index]
        assert len(images_of(previews)) == 3
        gif = await client.read_resource(data["resource_uri"])
    blob = gif.contents[0]
    assert blob.mime_type == "image/gif"
    assert base64.b64decode(blob.blob).startswith(b"GIF89a")  # type: ignore[union-attr]


async def test_get_gif_assembles_one_when_the_run_has_none(runs: Path) -> None:
    (runs / RUN / "agent_history.gif").unlink()
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "get_gif", {"task_id": RUN, "include_preview": True})
    data = result.structured_content
    assert data is not None
    assert data["origin"] == "assembled"
    assert data["frame_count"] == 6
    assert data["frame_steps"] == [2, 3, 4, 5, 6, 7]
    assert data["previews"][0] == "first frame"
    assert "step 3 (failing)" in data["previews"]
    assert len(images_of(result)) == len(data["previews"])


async def test_get_media_lists_recording_and_conversations(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "get_media", {"task_id": RUN})
    data = result.structured_content
    assert data is not None
    assert [r["mime_type"] for r in data["recordings"]] == ["video/mp4"]
    assert len(data["conversations"]) == 7
    step3 = next(c for c in data["conversations"] if c["resource_uri"].endswith("/conversations/3"))
    assert step3["name"].endswith("_3.txt")
    assert data["gif_resource_uri"] == f"browser-use://tasks/{RUN}/gif"
    assert "## Recordings (1)" in text_of(result)


async def test_list_tasks_sees_a_run_added_while_serving(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        first = await call_ok(client, "list_tasks", {})
        assert [i["id"] for i in first.structured_content["page"]["items"]] == [RUN]  # type: ignore[index]
        shutil.copytree(runs / RUN, runs / "copy-of-run")
        second = await call_ok(client, "list_tasks", {"page_size": "5"})
    ids = {i["id"] for i in second.structured_content["page"]["items"]}  # type: ignore[index]
    assert ids == {RUN, "copy-of-run"}


async def test_output_file_text_inline(runs: Path) -> None:
    (runs / RUN / "report.csv").write_text("sku,qty\nBW-100,3\n")
    async with client_for(local_settings(runs)) as client:
        result = await call_ok(client, "get_output_file", {"task_id": RUN, "file": "report.csv"})
    data = result.structured_content
    assert data is not None and data["inline"] is True and data["text"] == "sku,qty\nBW-100,3\n"
    assert "BW-100,3" in text_of(result)


async def test_resources_steps_log_and_one_step(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        log = await client.read_resource(f"browser-use://tasks/{RUN}/steps")
        step = await client.read_resource(f"browser-use://tasks/{RUN}/steps/3")
        conversation = await client.read_resource(f"browser-use://tasks/{RUN}/conversations/3")
        preview = await client.read_resource(f"browser-use://tasks/{RUN}/screenshots/2")
        full = await client.read_resource(f"browser-use://tasks/{RUN}/screenshots/2/full")
        templates = await client.list_resource_templates()
    text = log.contents[0].text  # type: ignore[union-attr]
    assert text.count("\n## Step ") == 7
    assert json.loads(step.contents[0].text)["errors"][0].startswith("Navigation failed")  # type: ignore[union-attr]
    assert "Open the shopping cart" in conversation.contents[0].text  # type: ignore[union-attr]
    assert preview.contents[0].mime_type == "image/webp"
    assert base64.b64decode(preview.contents[0].blob)[8:12] == b"WEBP"  # type: ignore[union-attr]
    full_bytes = base64.b64decode(full.contents[0].blob)  # type: ignore[union-attr]
    assert full.contents[0].mime_type == "image/png" and full_bytes.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(full_bytes)) as image:
        assert image.size == (1920, 1080)
    uris = {t.uri_template for t in templates.resource_templates}
    assert "browser-use://tasks/{task_id}/steps" in uris
    assert "browser-use://tasks/{task_id}/steps/{step}" in uris
    assert "browser-use://tasks/{task_id}/gif" in uris
    assert "browser-use://tasks/{task_id}/logs" in uris


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"task_id": "../etc/passwd"}, "not a valid id"),
        ({"task_id": "%2e%2e"}, "not a valid id"),
        ({"task_id": "no-such-run"}, "No run named 'no-such-run'"),
        ({"task_id": "a" * 150}, "at most 128"),
    ],
)
async def test_bad_task_ids_give_clear_errors_and_the_server_keeps_serving(
    runs: Path, args: dict, needle: str
) -> None:
    async with client_for(local_settings(runs)) as client:
        message = await call_error(client, "get_task", args)
        assert needle in message
        await call_ok(client, "get_task", {"task_id": RUN})


async def test_unknown_step_lists_the_range(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        message = await call_error(client, "get_step", {"task_id": RUN, "step": 99})
    assert "has no step 99" in message and "1 to 7" in message
