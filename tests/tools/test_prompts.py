"""The `debug_task` and `summarize_task` prompts on every source."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp_types import ImageContent, TextContent

from tests.emulator import UNKNOWN_ID
from tests.helpers import call_ok, text_of
from tests.snapshot import assert_snapshot
from tests.tools.common import (
    FAILED_RUN,
    MAX_STEPS_RUN,
    SUCCEEDED_RUN,
    TIMEOUT_RUN,
    Source,
    across_runs_dir,
    assert_is_screenshot_of,
    local_source,
    originals_of,
    render_prompt,
)

pytestmark = pytest.mark.anyio
PROMPTS = ("debug_task", "summarize_task")

CASES: list[tuple[str, str, str]] = [
    ("local", "succeeded", SUCCEEDED_RUN),
    ("local", "failed", FAILED_RUN),
    ("local", "max-steps", MAX_STEPS_RUN),
    ("local", "unknown", "no-such-run"),
    ("v2", "failed", "FAILED"),
    ("v2", "finished", "FINISHED"),
    ("v2", "unknown", UNKNOWN_ID),
    ("v1", "failed", "FAILED"),
]


@pytest.mark.parametrize("prompt", PROMPTS)
@pytest.mark.parametrize(("src", "case", "task_id"), CASES, ids=[f"{s}-{c}" for s, c, _ in CASES])
async def test_snapshot(
    make_source: Callable[..., Source], prompt: str, src: str, case: str, task_id: str
) -> None:
    source = make_source(src)
    task_id = {"FAILED": source.failed, "FINISHED": source.finished}.get(task_id, task_id)
    async with source.client() as client:
        result = await client.get_prompt(prompt, {"task_id": task_id})
    rendered = render_prompt(prompt, {"task_id": task_id}, result)
    assert_snapshot(f"prompts/{prompt}-{src}-{case}.md", source.normaliser.text(rendered))


async def test_prompts_are_listed_with_their_argument(source: Source) -> None:
    async with source.client() as client:
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == set(PROMPTS)
    for prompt in prompts.values():
        assert [(a.name, a.required) for a in prompt.arguments or []] == [("task_id", True)]


async def test_debug_task_gathers_the_failure_and_the_screenshots_around_it(source: Source) -> None:
    async with source.client() as client:
        result = await client.get_prompt("debug_task", {"task_id": source.failed})
        task = await call_ok(client, "get_task", {"task_id": source.failed})
    texts = [m.content.text for m in result.messages if isinstance(m.content, TextContent)]
    assert all(m.role == "user" for m in result.messages)
    # The task as get_task renders it, then the first failing step in full.
    assert text_of(task) in texts
    assert any(
        t.startswith(f"# Step {source.failing_step} of task {source.failed} (with errors)\n") for t in texts
    )
    assert "Diagnose the run" in texts[-1]
    # Each image follows a "Screenshot of step N:" line and is step N's screenshot.
    originals = originals_of(source, source.failed)
    shown: list[int] = []
    for before, message in zip(result.messages, result.messages[1:], strict=False):
        if isinstance(message.content, ImageContent):
            assert isinstance(before.content, TextContent)
            match = re.fullmatch(r"Screenshot of step (\d+):", before.content.text)
            assert match, before.content.text
            number = int(match.group(1))
            assert message.content.mime_type == "image/webp"
            assert_is_screenshot_of(base64.b64decode(message.content.data), originals, number)
            shown.append(number)
    assert source.failing_step in shown and 1 <= len(shown) <= 3


async def test_summarize_task_carries_the_task_and_asks_for_a_summary(source: Source) -> None:
    async with source.client() as client:
        result = await client.get_prompt("summarize_task", {"task_id": source.finished})
        task = await call_ok(client, "get_task", {"task_id": source.finished})
    texts = [m.content.text for m in result.messages if isinstance(m.content, TextContent)]
    assert texts[0] == text_of(task)
    assert texts[-1].startswith("Summarize this Browser Use run")


async def test_prompts_on_an_unknown_task_explain_instead_of_failing(source: Source) -> None:
    unknown = "no-such-run" if source.name == "local" else UNKNOWN_ID
    async with source.client() as client:
        result = await client.get_prompt("summarize_task", {"task_id": unknown})
    (message,) = result.messages
    assert isinstance(message.content, TextContent)
    assert unknown in message.content.text and "list_tasks" in message.content.text


async def test_debug_task_compares_a_failed_run_with_a_successful_one_of_the_same_instruction(
    tmp_path: Path,
) -> None:
    async with local_source(across_runs_dir(tmp_path)).client() as client:
        failed = await client.get_prompt("debug_task", {"task_id": TIMEOUT_RUN})
        other = await client.get_prompt("debug_task", {"task_id": FAILED_RUN})
    texts = [m.content.text for m in failed.messages if isinstance(m.content, TextContent)]
    intro = next(t for t in texts if t.startswith("A recent run of the same instruction succeeded"))
    assert f"({SUCCEEDED_RUN})" in intro
    assert f'compare_tasks(task_a="{SUCCEEDED_RUN}", task_b="{TIMEOUT_RUN}")' in intro
    comparison = texts[texts.index(intro) + 1]
    assert "## Where they part: A step 6, B step 4" in comparison
    assert texts[-1].startswith("Diagnose the run")
    # No successful run shares red-gadget-expired-coupon's instruction: no comparison.
    other_texts = [m.content.text for m in other.messages if isinstance(m.content, TextContent)]
    assert not any("same instruction succeeded" in t for t in other_texts)


async def test_debug_task_reads_only_runs_listed_with_the_same_instruction(
    make_source: Callable[..., Source],
) -> None:
    source = make_source("v2")
    assert source.emulator is not None
    async with source.client() as client:
        await client.get_prompt("debug_task", {"task_id": source.failed})
    # The failed task itself, and no other: no finished run shares its instruction.
    reads = [r.path for r in source.emulator.requests("/api/v2/tasks/") if r.path.count("/") == 4]
    assert set(reads) == {f"/api/v2/tasks/{source.failed}"}
