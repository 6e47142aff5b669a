"""`get_step` on every source: the bundled runs, and Cloud v1 to v4 and `auto` on the emulator."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import EXPIRED_SCREENSHOT_TASK, FAILED_TASK, FINISHED_TASK, NO_SCREENSHOTS_TASK, get_seed
from tests.emulator.seed import step_error
from tests.helpers import call_error, call_ok, images_of, text_of
from tests.tools.common import (
    FAILED_RUN,
    LOCAL_RUNS,
    MAX_STEPS_RUN,
    SUCCEEDED_RUN,
    Source,
    assert_is_screenshot_of,
    generation_of,
    image_size,
    originals_of,
    served_step,
    snapshot_call,
)

pytestmark = pytest.mark.anyio
TOOL = "get_step"

SNAPSHOT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("local", "succeeded-step3-failing", {"task_id": SUCCEEDED_RUN, "step": 3, "include_screenshot": True}),
    (
        "local",
        "succeeded-step1-no-screenshot",
        {"task_id": SUCCEEDED_RUN, "step": 1, "include_screenshot": True},
    ),
    ("local", "failed-step5", {"task_id": FAILED_RUN, "step": 5}),
    ("local", "max-steps-step6", {"task_id": MAX_STEPS_RUN, "step": 6, "include_screenshot": True}),
    ("v2", "failed-step3", {"task_id": FAILED_TASK, "step": 3}),
    ("v2", "finished-step2-screenshot", {"task_id": FINISHED_TASK, "step": 2, "include_screenshot": True}),
    ("v2", "expired-screenshot", {"task_id": EXPIRED_SCREENSHOT_TASK, "step": 2, "include_screenshot": True}),
    ("v2", "no-screenshots", {"task_id": NO_SCREENSHOTS_TASK, "step": 1, "include_screenshot": True}),
    ("v1", "failed-step3", {"task_id": FAILED_TASK, "step": 3}),
    ("v1", "finished-step2-screenshot", {"task_id": FINISHED_TASK, "step": 2, "include_screenshot": True}),
]


@pytest.mark.parametrize(
    ("src", "case", "args"), SNAPSHOT_CASES, ids=[f"{s}-{c}" for s, c, _ in SNAPSHOT_CASES]
)
async def test_snapshot(
    make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    await snapshot_call(make_source(src), TOOL, args, f"{TOOL}/{src}-{case}")


async def test_the_attached_preview_is_that_steps_screenshot(source: Source) -> None:
    """The image is the step's own screenshot, scaled to a preview: not another step's, not cropped."""
    task_id = source.finished
    originals = originals_of(source, task_id)
    steps = sorted(originals)
    async with source.client() as client:
        for number in (steps[0], steps[len(steps) // 2], steps[-1]):
            result = await call_ok(
                client, TOOL, {"task_id": task_id, "step": number, "include_screenshot": True}
            )
            ((mime, data),) = images_of(result)
            assert mime == "image/webp" and data[8:12] == b"WEBP"
            assert_is_screenshot_of(data, originals, number)
            original = image_size(originals[number])
            width, height = image_size(data)
            scale = 1024 / max(original)
            assert (width, height) == (round(original[0] * scale), round(original[1] * scale))
            info = result.structured_content["image"]  # type: ignore[index]
            assert (info["width"], info["height"]) == (width, height)
            assert (info["original_width"], info["original_height"]) == original
            assert info["original_size_bytes"] == len(originals[number])
            assert info["size_bytes"] == len(data) <= 300_000
            assert info["step"] == number and info["resolution"] == "preview"
            assert f"**Attached:** screenshot of step {number} (preview, {width}×{height}," in text_of(result)


async def test_full_resolution_is_the_original_size(source: Source) -> None:
    task_id = source.finished
    originals = originals_of(source, task_id)
    number = sorted(originals)[1]
    args = {"task_id": task_id, "step": number, "include_screenshot": True, "resolution": "full"}
    async with source.client() as client:
        result = await call_ok(client, TOOL, args)
    ((_, data),) = images_of(result)
    assert image_size(data) == image_size(originals[number])
    assert_is_screenshot_of(data, originals, number)
    assert result.structured_content["image"]["resolution"] == "full"  # type: ignore[index]


async def test_failing_step_carries_its_error(source: Source) -> None:
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": source.failed, "step": source.failing_step})
    step = result.structured_content["step"]  # type: ignore[index]
    assert step["number"] == source.failing_step
    if source.name == "local":
        history = json.loads((BUNDLED_RUNS_DIR / FAILED_RUN / "AgentHistory.json").read_text())["history"]
        expected = [r["error"] for r in history[source.failing_step - 1]["result"] if r.get("error")]
        verdict = history[source.failing_step]["model_output"]["evaluation_previous_goal"]
        if verdict.startswith("Failed"):  # the next step's own verdict on this one
            expected.append(f"Step {source.failing_step + 1} judged it: {verdict}")
    else:
        seeded = get_seed().tasks[FAILED_TASK]
        index = (
            next(
                s.number
                for s in seeded.steps
                if served_step(source, FAILED_TASK, s.number) == source.failing_step
            )
            - 1
        )
        judged_by = seeded.steps[index + 1]  # the next step judges this one
        if generation_of(source, FAILED_TASK) in ("v3", "v4"):
            expected = [step_error(seeded, index)]  # v3 and v4 carry the error itself
        else:
            expected = [f"Step {judged_by.number} judged it: {judged_by.evaluation_previous_goal}"]
    assert step["errors"] == expected
    text = text_of(result)
    assert text.startswith(f"# Step {source.failing_step} of task {source.failed} (with errors)\n")
    assert f"## Errors\n```untrusted\n{expected[0]}\n```" in text


async def test_step_fields_match_the_source(source: Source) -> None:
    """Every field of one step equals what the run recorded (local) or the emulator seeded (cloud)."""
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": source.finished, "step": 2})
    step = result.structured_content["step"]  # type: ignore[index]
    if source.name == "local":
        raw = json.loads((BUNDLED_RUNS_DIR / SUCCEEDED_RUN / "AgentHistory.json").read_text())["history"][1]
        out = raw["model_output"]
        assert step["memory"] == out["memory"]
        assert step["next_goal"] == out["next_goal"]
        assert step["evaluation_previous_goal"] == out["evaluation_previous_goal"]
        assert step["thinking"] == out["thinking"]
        assert [{a["name"]: a["params"]} for a in step["actions"]] == out["action"]
        assert step["url"] == raw["state"]["url"]
    else:
        generation = generation_of(source, FINISHED_TASK)
        number = next(n for n in range(1, 9) if served_step(source, FINISHED_TASK, n) == 2)
        seeded = get_seed().tasks[FINISHED_TASK].steps[number - 1]
        # Only v2 keeps the agent's memory; v3 messages and v4 events keep no evaluation either.
        assert step["memory"] == (seeded.memory if generation == "v2" else None)
        assert step["next_goal"] == seeded.next_goal
        judged = generation in ("v1", "v2")
        assert step["evaluation_previous_goal"] == (seeded.evaluation_previous_goal if judged else None)
        # A v3 message names a URL only when its action navigates.
        assert step["url"] == (None if generation == "v3" and number > 1 else seeded.url)
        # Legacy v1 steps carry no actions.
        expected = [] if generation == "v1" else [json.loads(a) for a in seeded.actions]
        assert [{a["name"]: a["params"]} for a in step["actions"]] == expected


async def test_unknown_step_lists_the_range(source: Source) -> None:
    async with source.client() as client:
        message = await call_error(client, TOOL, {"task_id": source.failed, "step": 99})
        await call_ok(client, TOOL, {"task_id": source.failed, "step": 1})
    # v4 adds the browser.ready and run.failed events to the six steps.
    count = {"local": 7, "v4": 8}.get(generation_of(source, FAILED_TASK), 6)
    assert "has no step 99" in message and f"1 to {count}" in message


@pytest.mark.parametrize("run", LOCAL_RUNS)
async def test_local_step_without_screenshot_says_so(make_source: Callable[..., Source], run: str) -> None:
    async with make_source("local").client() as client:
        result = await call_ok(client, TOOL, {"task_id": run, "step": "1", "include_screenshot": True})
    assert images_of(result) == []
    assert "**Not attached:** this step has no screenshot." in text_of(result)
    assert result.structured_content["image"] is None  # type: ignore[index]
    assert result.structured_content["step"]["screenshot"] is None  # type: ignore[index]


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_expired_screenshot_is_named_not_attached(
    make_source: Callable[..., Source], version: str
) -> None:
    async with make_source(version).client() as client:
        result = await call_ok(
            client, TOOL, {"task_id": EXPIRED_SCREENSHOT_TASK, "step": 2, "include_screenshot": True}
        )
        # The neighbouring step's screenshot is fine and is attached.
        fine = await call_ok(
            client, TOOL, {"task_id": EXPIRED_SCREENSHOT_TASK, "step": 3, "include_screenshot": True}
        )
    assert images_of(result) == []
    text = text_of(result)
    assert "**Not attached:** screenshot of step 2" in text and "expired" in text
    ((_, data),) = images_of(fine)
    with Image.open(io.BytesIO(data)) as image:
        assert max(image.size) == 1024


async def test_the_screenshot_line_agrees_with_the_attachment(source: Source) -> None:
    # v1 keeps screenshots apart from steps: get_step looks the step's one up in the task's list.
    number = sorted(originals_of(source, source.finished))[0]
    async with source.client() as client:
        result = await call_ok(
            client, TOOL, {"task_id": source.finished, "step": number, "include_screenshot": True}
        )
    assert len(images_of(result)) == 1
    assert "**Screenshot:** yes" in text_of(result)
    assert result.structured_content["step"]["screenshot"]["step"] == number  # type: ignore[index]
