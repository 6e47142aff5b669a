"""Resources on every source: step logs, one step as JSON, execution logs, conversations, screenshots."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from mcp_types import TextResourceContents

from browser_use_tasks_mcp.apps import VIEWER_URI
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import FAILED_TASK, FILES_TASK, UNTRUSTED_CONTENT_TASK
from tests.helpers import call_ok
from tests.snapshot import assert_snapshot
from tests.tools.common import (
    FAILED_RUN,
    LOCAL_RUNS,
    MAX_STEPS_RUN,
    SUCCEEDED_RUN,
    Source,
    assert_is_screenshot_of,
    image_size,
    originals_of,
    render_resource,
    same_pixels,
)

pytestmark = pytest.mark.anyio

TEXT_RESOURCES: list[tuple[str, str, str]] = [
    ("local", "succeeded-steps", f"browser-use://tasks/{SUCCEEDED_RUN}/steps"),
    ("local", "failed-steps", f"browser-use://tasks/{FAILED_RUN}/steps"),
    ("local", "max-steps-steps", f"browser-use://tasks/{MAX_STEPS_RUN}/steps"),
    ("local", "succeeded-step3", f"browser-use://tasks/{SUCCEEDED_RUN}/steps/3"),
    ("local", "max-steps-step6", f"browser-use://tasks/{MAX_STEPS_RUN}/steps/6"),
    ("local", "succeeded-conversation3", f"browser-use://tasks/{SUCCEEDED_RUN}/conversations/3"),
    ("v2", "failed-steps", f"browser-use://tasks/{FAILED_TASK}/steps"),
    ("v2", "failed-step3", f"browser-use://tasks/{FAILED_TASK}/steps/3"),
    ("v2", "failed-execution-log", f"browser-use://tasks/{FAILED_TASK}/logs"),
    ("v2", "files-execution-log", f"browser-use://tasks/{FILES_TASK}/logs"),
    ("v2", "untrusted-steps", f"browser-use://tasks/{UNTRUSTED_CONTENT_TASK}/steps"),
    ("v1", "failed-steps", f"browser-use://tasks/{FAILED_TASK}/steps"),
    ("v1", "failed-step3", f"browser-use://tasks/{FAILED_TASK}/steps/3"),
]


@pytest.mark.parametrize(
    ("src", "case", "uri"), TEXT_RESOURCES, ids=[f"{s}-{c}" for s, c, _ in TEXT_RESOURCES]
)
async def test_snapshot(make_source: Callable[..., Source], src: str, case: str, uri: str) -> None:
    source = make_source(src)
    async with source.client() as client:
        result = await client.read_resource(uri)
    assert all(isinstance(c, TextResourceContents) for c in result.contents)
    assert_snapshot(f"resources/{src}-{case}.md", source.normaliser.text(render_resource(uri, result)))


@pytest.mark.parametrize("run", LOCAL_RUNS)
async def test_local_step_log_has_every_step_and_its_errors(
    make_source: Callable[..., Source], run: str
) -> None:
    history = json.loads((BUNDLED_RUNS_DIR / run / "AgentHistory.json").read_text())["history"]
    async with make_source("local").client() as client:
        log = await client.read_resource(f"browser-use://tasks/{run}/steps")
    text = log.contents[0].text  # type: ignore[union-attr]
    assert log.contents[0].mime_type == "text/markdown"
    assert text.count("\n## Step ") == len(history)
    for number, item in enumerate(history, 1):
        errors = [r["error"] for r in item["result"] if r.get("error")]
        after = history[number]["model_output"] if number < len(history) else None
        if after and after["evaluation_previous_goal"].startswith("Failed"):  # judged failed by the next step
            errors.append(f"Step {number + 1} judged it: {after['evaluation_previous_goal']}")
        heading = f"\n## Step {number}{' ✗' if errors else ''}\n"
        assert heading in text, heading
        for error in errors:
            assert f"Error: {error.splitlines()[0]}" in text


async def test_step_json_is_the_same_step_get_step_gives(source: Source) -> None:
    uri = f"browser-use://tasks/{source.failed}/steps/{source.failing_step}"
    async with source.client() as client:
        read = await client.read_resource(uri)
        step = await call_ok(client, "get_step", {"task_id": source.failed, "step": source.failing_step})
    assert read.contents[0].mime_type == "application/json"
    assert json.loads(read.contents[0].text) == {  # type: ignore[union-attr]
        "task_id": source.failed,
        **step.structured_content["step"],  # type: ignore[index]
    }


async def test_local_conversation_is_the_file_of_that_step(make_source: Callable[..., Source]) -> None:
    folder = BUNDLED_RUNS_DIR / SUCCEEDED_RUN / "conversation"
    async with make_source("local").client() as client:
        for number in (1, 3, 7):
            read = await client.read_resource(f"browser-use://tasks/{SUCCEEDED_RUN}/conversations/{number}")
            (path,) = folder.glob(f"conversation_*_{number}.txt")
            assert read.contents[0].text == path.read_text(encoding="utf-8")  # type: ignore[union-attr]


async def test_screenshot_resources_are_that_steps_screenshot(source: Source) -> None:
    originals = originals_of(source, source.failed)
    number = sorted(originals)[1]
    async with source.client() as client:
        preview = await client.read_resource(f"browser-use://tasks/{source.failed}/screenshots/{number}")
        full = await client.read_resource(f"browser-use://tasks/{source.failed}/screenshots/{number}/full")
    preview_bytes = base64.b64decode(preview.contents[0].blob)  # type: ignore[union-attr]
    assert preview.contents[0].mime_type == "image/webp" and preview_bytes[8:12] == b"WEBP"
    assert max(image_size(preview_bytes)) == 1024
    assert_is_screenshot_of(preview_bytes, originals, number)
    # Full resolution has the original's every pixel (the PNG may be re-encoded).
    full_bytes = base64.b64decode(full.contents[0].blob)  # type: ignore[union-attr]
    assert full.contents[0].mime_type == "image/png" and full_bytes.startswith(b"\x89PNG")
    assert same_pixels(full_bytes, originals[number])


async def test_execution_log_is_the_seeded_log(make_source: Callable[..., Source]) -> None:
    source = make_source("v2")
    assert source.emulator is not None
    async with source.client() as client:
        log = await client.read_resource(f"browser-use://tasks/{FAILED_TASK}/logs")
    expected = source.emulator.media[f"/media/logs/{FAILED_TASK}/execution.log"].produce().decode()
    assert log.contents[0].text == expected  # type: ignore[union-attr]


async def test_templates_are_listed(source: Source) -> None:
    async with source.client() as client:
        templates = await client.list_resource_templates()
    uris = {t.uri_template for t in templates.resource_templates}
    assert {
        "browser-use://tasks/{task_id}/steps",
        "browser-use://tasks/{task_id}/steps/from/{start}",
        "browser-use://tasks/{task_id}/steps/{step}",
        "browser-use://tasks/{task_id}/steps/{step}/page",
        "browser-use://tasks/{task_id}/gif",
        "browser-use://tasks/{task_id}/logs",
        "browser-use://tasks/{task_id}/conversations/{step}",
        "browser-use://tasks/{task_id}/screenshots/{ref}",
        "browser-use://tasks/{task_id}/screenshots/{ref}/full",
        "browser-use://tasks/{task_id}/files/{name}",
        "browser-use://tasks/{task_id}/recordings/{name}",
        "browser-use://tasks/{task_id}/recordings/{name}/steps/{step}",
    } == uris


async def test_resources_list_shows_recent_step_logs(make_source: Callable[..., Source]) -> None:
    source = make_source("v2")
    emu = source.emulator
    assert emu is not None
    async with source.client() as client:
        resources = (await client.list_resources()).resources
        listing = await call_ok(client, "list_tasks", {"page_size": 20})
    uris = [str(r.uri) for r in resources]
    newest = [i["id"] for i in listing.structured_content["page"]["items"]]  # type: ignore[index]
    # The run viewer (an MCP App) first, then the newest tasks' step logs.
    assert uris == [VIEWER_URI] + [f"browser-use://tasks/{task_id}/steps" for task_id in newest]
    # resources/list and list_tasks share one query: the second listing came from it.
    assert emu.count("/api/v2/tasks") == 1


async def test_local_resources_list_shows_every_run(make_source: Callable[..., Source]) -> None:
    async with make_source("local").client() as client:
        resources = (await client.list_resources()).resources
    assert [str(r.uri) for r in resources] == [VIEWER_URI] + [
        f"browser-use://tasks/{run}/steps" for run in (MAX_STEPS_RUN, FAILED_RUN, SUCCEEDED_RUN)
    ]
