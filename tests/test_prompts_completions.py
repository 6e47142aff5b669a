"""Prompts, completions, the recent step logs in resources/list, and wait_for_task's progress."""

from __future__ import annotations

import pytest
from mcp_types import ImageContent, PromptReference, ResourceTemplateReference, TextContent

from tests.emulator import FAILED_TASK, RUNNING_TASK, Emulator
from tests.helpers import call_ok, client_for, cloud_settings, local_settings, text_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_debug_task_gathers_the_failure_and_its_screenshots(fresh_emulator: Emulator) -> None:
    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        result = await client.get_prompt("debug_task", {"task_id": FAILED_TASK})
    assert set(prompts) == {"debug_task", "summarize_task"}
    assert [a.name for a in prompts["debug_task"].arguments or []] == ["task_id"]
    texts = [m.content.text for m in result.messages if isinstance(m.content, TextContent)]
    images = [m.content for m in result.messages if isinstance(m.content, ImageContent)]
    assert any(t.startswith(f"# Task {FAILED_TASK}: failed") for t in texts)
    assert any(t.startswith("# Step 3 of task") for t in texts)  # the first failing step in full
    assert 1 <= len(images) <= 3 and all(i.mime_type == "image/webp" for i in images)
    assert "Diagnose the run" in texts[-1]


async def test_prompts_on_an_unknown_task_explain_instead_of_failing() -> None:
    async with client_for(local_settings()) as client:
        result = await client.get_prompt("summarize_task", {"task_id": "no-such-run"})
    (message,) = result.messages
    assert isinstance(message.content, TextContent) and "No run named 'no-such-run'" in message.content.text


async def test_completions_offer_recent_task_ids_and_step_numbers() -> None:
    async with client_for(local_settings()) as client:
        ids = await client.complete(PromptReference(name="debug_task"), {"name": "task_id", "value": "red"})
        all_ids = await client.complete(
            ResourceTemplateReference(uri="browser-use://tasks/{task_id}/steps"),
            {"name": "task_id", "value": ""},
        )
        steps = await client.complete(
            ResourceTemplateReference(uri="browser-use://tasks/{task_id}/steps/{step}"),
            {"name": "step", "value": "1"},
            context_arguments={"task_id": "order-blue-widget"},
        )
    assert ids.completion.values == ["red-gadget-expired-coupon"]
    assert set(all_ids.completion.values) == {
        "order-blue-widget",
        "red-gadget-expired-coupon",
        "trade-login-max-steps",
    }
    assert steps.completion.values == ["1"]


async def test_resources_list_shows_recent_step_logs(fresh_emulator: Emulator) -> None:
    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        resources = (await client.list_resources()).resources
        await call_ok(client, "list_tasks", {"page_size": 20})
    uris = [str(r.uri) for r in resources]
    assert len(uris) == 20 and all(
        u.startswith("browser-use://tasks/") and u.endswith("/steps") for u in uris
    )
    # resources/list and list_tasks share one query: the second listing came from it.
    assert fresh_emulator.count("/api/v2/tasks") == 1


async def test_wait_for_task_reports_progress_and_says_still_running(fresh_emulator: Emulator) -> None:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        result = await client.call_tool(
            "wait_for_task", {"task_id": RUNNING_TASK, "timeout_s": 2}, progress_callback=on_progress
        )
    assert not result.is_error
    data = result.structured_content
    assert data is not None and data["finished"] is False and data["timed_out"] is True
    assert 1.5 <= data["waited_s"] <= 4
    assert "still running" in text_of(result) and "wait_for_task(" in text_of(result)
    assert progress and all(total == 2 for _, total, _ in progress)
    assert all(message and message.startswith("status running") for _, _, message in progress)
    assert fresh_emulator.count(f"/api/v2/tasks/{RUNNING_TASK}/status") >= 2


async def test_wait_for_task_returns_at_once_for_a_finished_task() -> None:
    async with client_for(local_settings()) as client:
        result = await call_ok(client, "wait_for_task", {"task_id": "order-blue-widget", "timeout_s": 30})
    assert result.structured_content["finished"] is True  # type: ignore[index]
    assert result.structured_content["waited_s"] < 5  # type: ignore[index]
    assert "ended: finished" in text_of(result)
