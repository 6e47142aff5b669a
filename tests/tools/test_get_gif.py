"""`get_gif` on every source: the bundled runs, Cloud v2 and legacy v1 on the emulator."""

from __future__ import annotations

import base64
import copy
import json
import shutil
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import FAILED_TASK, FINISHED_TASK, V1_GIF_TASK, V1_NO_GIF_TASK, V1_NULL_GIF_TASK
from tests.helpers import call_error, call_ok, images_of, text_of
from tests.tools.common import (
    FAILED_RUN,
    LOCAL_RUNS,
    MAX_STEPS_RUN,
    SUCCEEDED_RUN,
    Source,
    assert_is_screenshot_of,
    crop_to_aspect,
    gif_frames,
    image_size,
    local_source,
    originals_of,
    snapshot_call,
)

pytestmark = pytest.mark.anyio
TOOL = "get_gif"
MAX_FRAMES = 60  # the most frames an assembled GIF may have

SNAPSHOT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("local", "succeeded", {"task_id": SUCCEEDED_RUN, "include_preview": True}),
    ("local", "failed", {"task_id": FAILED_RUN, "include_preview": True}),
    ("local", "max-steps", {"task_id": MAX_STEPS_RUN}),
    ("v2", "finished", {"task_id": FINISHED_TASK}),
    ("v2", "failed-previews", {"task_id": FAILED_TASK, "include_preview": True}),
    ("v1", "own-gif", {"task_id": V1_GIF_TASK, "include_preview": True}),
    ("v1", "no-gif-endpoint", {"task_id": V1_NO_GIF_TASK}),
    ("v1", "too-few-screenshots", {"task_id": V1_NULL_GIF_TASK}),
]


@pytest.mark.parametrize(
    ("src", "case", "args"), SNAPSHOT_CASES, ids=[f"{s}-{c}" for s, c, _ in SNAPSHOT_CASES]
)
async def test_snapshot(
    make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    await snapshot_call(make_source(src), TOOL, args, f"{TOOL}/{src}-{case}")


@pytest.fixture
def runs_without_gif(tmp_path: Path) -> Path:
    """The bundled runs copied to tmp_path, each without its agent_history.gif."""
    for run in LOCAL_RUNS:
        shutil.copytree(BUNDLED_RUNS_DIR / run, tmp_path / run)
        (tmp_path / run / "agent_history.gif").unlink()
    return tmp_path


async def test_snapshot_local_assembled(runs_without_gif: Path) -> None:
    source = local_source(runs_without_gif)
    args = {"task_id": SUCCEEDED_RUN, "include_preview": True}
    await snapshot_call(source, TOOL, args, f"{TOOL}/local-assembled")


@pytest.mark.parametrize("run", LOCAL_RUNS)
async def test_local_runs_own_gif_is_served_byte_for_byte(
    make_source: Callable[..., Source], run: str
) -> None:
    on_disk = (BUNDLED_RUNS_DIR / run / "agent_history.gif").read_bytes()
    frames = gif_frames(on_disk)
    async with make_source("local").client() as client:
        result = await call_ok(client, TOOL, {"task_id": run})
        data = result.structured_content
        assert data is not None
        gif = await client.read_resource(data["resource_uri"])
    blob = gif.contents[0]
    assert blob.mime_type == "image/gif"
    assert base64.b64decode(blob.blob) == on_disk  # type: ignore[union-attr]
    assert data["origin"] == "source"
    assert data["frame_count"] == len(frames)
    assert data["size_bytes"] == len(on_disk)
    assert (data["width"], data["height"]) == image_size(on_disk)
    # browser-use's GIF: a title frame, then one frame per screenshot.
    shots = sorted(originals_of(local_source(), run))
    assert data["frame_steps"] == [None, *shots]


async def test_previews_are_the_first_failing_and_last_frames(make_source: Callable[..., Source]) -> None:
    on_disk = (BUNDLED_RUNS_DIR / SUCCEEDED_RUN / "agent_history.gif").read_bytes()
    frames = dict(enumerate(gif_frames(on_disk)))
    async with make_source("local").client() as client:
        result = await call_ok(client, TOOL, {"task_id": SUCCEEDED_RUN, "include_preview": True})
    data = result.structured_content
    assert data is not None
    assert data["previews"] == ["first frame", "step 3 (failing)", "last frame"]
    previews = images_of(result)
    assert len(previews) == 3
    failing_frame = data["frame_steps"].index(3)
    for (mime, image), frame in zip(previews, [0, failing_frame, len(frames) - 1], strict=True):
        assert mime == "image/webp"
        assert_is_screenshot_of(image, frames, frame)
    assert "**Attached previews:** first frame, step 3 (failing), last frame" in text_of(result)


async def check_assembled(source: Source, task_id: str, result: Any, gif: bytes) -> None:
    """An assembled GIF: its frames are the screenshots of `frame_steps`, in order."""
    data = result.structured_content
    assert data["origin"] == "assembled"
    frames = gif_frames(gif)
    assert data["frame_count"] == len(frames)
    assert (data["width"], data["height"]) == image_size(gif)
    assert data["size_bytes"] == len(gif)
    originals = originals_of(source, task_id)
    assert data["frame_steps"] == sorted(originals)[: len(frames)]
    aspect = image_size(next(iter(originals.values())))
    for frame, step in zip(frames, data["frame_steps"], strict=True):
        # Each frame is the screenshot scaled down, with a caption strip below it.
        assert_is_screenshot_of(crop_to_aspect(frame, aspect), originals, step)


async def test_local_gif_is_assembled_when_the_run_has_none(runs_without_gif: Path) -> None:
    source = local_source(runs_without_gif)
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": SUCCEEDED_RUN, "include_preview": True})
        gif = await client.read_resource(result.structured_content["resource_uri"])  # type: ignore[index]
    data = base64.b64decode(gif.contents[0].blob)  # type: ignore[union-attr]
    assert gif.contents[0].mime_type == "image/gif"
    await check_assembled(source, SUCCEEDED_RUN, result, data)
    assert result.structured_content["frame_steps"] == [2, 3, 4, 5, 6, 7]  # type: ignore[index]
    assert result.structured_content["previews"] == ["first frame", "step 3 (failing)", "last frame"]  # type: ignore[index]
    assert len(images_of(result)) == 3


async def test_cloud_v2_gif_is_assembled_from_the_seeded_screenshots(
    make_source: Callable[..., Source],
) -> None:
    source = make_source("v2")
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": FAILED_TASK})
        gif = await client.read_resource(result.structured_content["resource_uri"])  # type: ignore[index]
    await check_assembled(source, FAILED_TASK, result, base64.b64decode(gif.contents[0].blob))  # type: ignore[union-attr]


async def test_v1_own_gif_is_the_one_the_api_serves(make_source: Callable[..., Source]) -> None:
    source = make_source("v1")
    assert source.emulator is not None
    served = source.emulator.media[f"/media/gifs/{V1_GIF_TASK}/execution.gif"].produce()
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": V1_GIF_TASK})
        gif = await client.read_resource(result.structured_content["resource_uri"])  # type: ignore[index]
    assert base64.b64decode(gif.contents[0].blob) == served  # type: ignore[union-attr]
    data = result.structured_content
    assert data is not None
    assert data["origin"] == "source" and data["frame_count"] == len(gif_frames(served))


async def test_v1_without_a_gif_endpoint_assembles_one(make_source: Callable[..., Source]) -> None:
    source = make_source("v1")
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": V1_NO_GIF_TASK})
        gif = await client.read_resource(result.structured_content["resource_uri"])  # type: ignore[index]
    await check_assembled(source, V1_NO_GIF_TASK, result, base64.b64decode(gif.contents[0].blob))  # type: ignore[union-attr]


async def test_too_few_screenshots_is_an_error_that_says_so(make_source: Callable[..., Source]) -> None:
    async with make_source("v1").client() as client:
        message = await call_error(client, TOOL, {"task_id": V1_NULL_GIF_TASK})
        await call_ok(client, TOOL, {"task_id": V1_GIF_TASK})
    assert "needs at least 2 screenshots" in message and "has 1" in message


# --------------------------------------------------------------------------------------
# Frame capping: a local run with more screenshots than a GIF may have frames
# --------------------------------------------------------------------------------------

LONG_RUN = "long-run"
LONG_STEPS = 75
LONG_FAILING = 37


def build_long_run(runs_dir: Path) -> None:
    """A run folder of LONG_STEPS steps, each with a screenshot copied from a bundled run.

    The history has the bundled AgentHistory.json's shape; step LONG_FAILING fails; there is
    no agent_history.gif, so the server must assemble one.
    """
    template_run = BUNDLED_RUNS_DIR / SUCCEEDED_RUN
    template = json.loads((template_run / "AgentHistory.json").read_text())["history"]
    pngs = sorted((template_run / "screenshots").glob("step_*.png"))
    folder = runs_dir / LONG_RUN
    (folder / "screenshots").mkdir(parents=True)
    history = []
    start = template[0]["metadata"]["step_start_time"]
    for number in range(1, LONG_STEPS + 1):
        item = copy.deepcopy(template[1])  # a plain step with a screenshot and no error
        shot = folder / "screenshots" / f"step_{number}.png"
        shutil.copyfile(pngs[number % len(pngs)], shot)
        item["state"]["screenshot_path"] = f"/tmp/bu-agent/screenshots/step_{number}.png"
        item["metadata"].update(
            step_number=number, step_start_time=start + number, step_end_time=start + number + 0.5
        )
        if number == LONG_FAILING:
            item["result"] = [{"is_done": False, "error": "Element not found: index 99"}]
        if number == LONG_STEPS:
            item["result"] = [copy.deepcopy(template[-1]["result"][-1])]  # done, success
        history.append(item)
    (folder / "AgentHistory.json").write_text(json.dumps({"history": history}))


async def test_an_assembled_gif_has_at_most_60_frames_keeping_first_failing_and_last(tmp_path: Path) -> None:
    build_long_run(tmp_path)
    source = local_source(tmp_path)
    async with source.client() as client:
        task = await call_ok(client, "get_task", {"task_id": LONG_RUN})
        assert task.structured_content["step_count"] == LONG_STEPS  # type: ignore[index]
        assert task.structured_content["failing_steps"] == [LONG_FAILING]  # type: ignore[index]
        result = await call_ok(client, TOOL, {"task_id": LONG_RUN, "include_preview": True})
        gif = await client.read_resource(result.structured_content["resource_uri"])  # type: ignore[index]
    data = result.structured_content
    assert data is not None
    frames = gif_frames(base64.b64decode(gif.contents[0].blob))  # type: ignore[union-attr]
    assert data["origin"] == "assembled"
    assert len(frames) == data["frame_count"] == len(data["frame_steps"])
    assert len(frames) <= MAX_FRAMES
    steps = data["frame_steps"]
    assert steps == sorted(set(steps)) and set(steps) <= set(range(1, LONG_STEPS + 1))
    assert {1, LONG_FAILING, LONG_STEPS} <= set(steps)
    # The leftover frames are spread over the run, not bunched at one end.
    assert max(b - a for a, b in pairwise(steps)) <= 3
    assert any(f"{LONG_STEPS} screenshots" in note for note in data["notes"])
    assert data["previews"] == ["first frame", f"step {LONG_FAILING} (failing)", "last frame"]
    # The frame of the failing step is that step's screenshot.
    originals = originals_of(source, LONG_RUN)
    index = steps.index(LONG_FAILING)
    aspect = image_size(originals[LONG_FAILING])
    assert_is_screenshot_of(crop_to_aspect(frames[index], aspect), originals, LONG_FAILING)
