"""`list_screenshots` on every source: the bundled runs, Cloud v2 and legacy v1 on the emulator."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import (
    FAILED_TASK,
    FINISHED_TASK,
    NO_SCREENSHOTS_TASK,
    V1_UNNUMBERED_SCREENSHOTS_TASK,
    get_seed,
)
from tests.helpers import call_ok, images_of, text_of
from tests.tools.common import (
    FAILED_RUN,
    LOCAL_RUNS,
    MAX_STEPS_RUN,
    SUCCEEDED_RUN,
    Source,
    assert_is_screenshot_of,
    image_size,
    originals_of,
    snapshot_call,
)

pytestmark = pytest.mark.anyio
TOOL = "list_screenshots"

SNAPSHOT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("local", "succeeded", {"task_id": SUCCEEDED_RUN}),
    ("local", "failed", {"task_id": FAILED_RUN}),
    ("local", "max-steps", {"task_id": MAX_STEPS_RUN}),
    (
        "local",
        "images-over-the-limit",
        {"task_id": SUCCEEDED_RUN, "steps": [1, 2, 3, 4], "include_images": True, "max_images": 2},
    ),
    ("v2", "finished", {"task_id": FINISHED_TASK}),
    ("v2", "no-screenshots", {"task_id": NO_SCREENSHOTS_TASK}),
    ("v2", "images", {"task_id": FAILED_TASK, "steps": [2, 3, 4], "include_images": True, "max_images": 2}),
    ("v1", "finished", {"task_id": FINISHED_TASK}),
    ("v1", "unnumbered", {"task_id": V1_UNNUMBERED_SCREENSHOTS_TASK}),
    ("v1", "images", {"task_id": FAILED_TASK, "steps": [3], "include_images": True}),
]


@pytest.mark.parametrize(
    ("src", "case", "args"), SNAPSHOT_CASES, ids=[f"{s}-{c}" for s, c, _ in SNAPSHOT_CASES]
)
async def test_snapshot(
    make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    await snapshot_call(make_source(src), TOOL, args, f"{TOOL}/{src}-{case}")


def local_steps_with_screenshot(run: str) -> tuple[list[int], list[int]]:
    """(steps with a screenshot, steps without) as the run's history file records them."""
    history = json.loads((BUNDLED_RUNS_DIR / run / "AgentHistory.json").read_text())["history"]
    with_shot = [n for n, h in enumerate(history, 1) if (h.get("state") or {}).get("screenshot_path")]
    return with_shot, [n for n in range(1, len(history) + 1) if n not in with_shot]


@pytest.mark.parametrize("run", LOCAL_RUNS)
async def test_local_listing_matches_the_run_folder(make_source: Callable[..., Source], run: str) -> None:
    with_shot, without = local_steps_with_screenshot(run)
    on_disk = sorted(
        int(p.stem.removeprefix("step_")) for p in (BUNDLED_RUNS_DIR / run / "screenshots").iterdir()
    )
    assert with_shot == on_disk
    async with make_source("local").client() as client:
        result = await call_ok(client, TOOL, {"task_id": run})
    data = result.structured_content
    assert data is not None
    assert [s["step"] for s in data["screenshots"]] == with_shot
    assert [s["path"] for s in data["screenshots"]] == [f"{run}/screenshots/step_{n}.png" for n in with_shot]
    assert data["total"] == len(with_shot)
    assert data["steps_without_screenshot"] == without
    text = text_of(result)
    assert f"**Steps without a screenshot:** {len(without)} ({', '.join(map(str, without))})" in text
    for number in with_shot:
        assert f"- step {number}: `browser-use://tasks/{run}/screenshots/{number}`" in text
    # One resource link per screenshot, pointing at that step's preview.
    links = [b for b in result.content if getattr(b, "type", "") == "resource_link"]
    assert [str(b.uri) for b in links] == [f"browser-use://tasks/{run}/screenshots/{n}" for n in with_shot]


async def test_max_images_below_the_steps_asked_skips_the_rest_and_says_why(
    make_source: Callable[..., Source],
) -> None:
    source = make_source("local")
    args = {"task_id": SUCCEEDED_RUN, "steps": [1, 2, 3, 4, 5], "include_images": True, "max_images": 2}
    async with source.client() as client:
        result = await call_ok(client, TOOL, args)
    data = result.structured_content
    assert data is not None
    # Step 1 has no screenshot; of steps 2-5, the first two are attached, the other two skipped.
    assert [a["step"] for a in data["attached"]] == [2, 3]
    assert data["skipped"] == [
        {"step": 1, "reason": "no screenshot for this step"},
        {"step": 4, "reason": "over the limit of 2 images per call"},
        {"step": 5, "reason": "over the limit of 2 images per call"},
    ]
    text = text_of(result)
    assert "**Attached images:** step 2 (1024×576, " in text and ", step 3 (1024×576, " in text
    assert "- step 1: no screenshot for this step" in text
    assert "- step 4: over the limit of 2 images per call" in text
    assert "- step 5: over the limit of 2 images per call" in text
    # The two images are those of steps 2 and 3, in that order.
    images = images_of(result)
    originals = originals_of(source, SUCCEEDED_RUN)
    assert len(images) == 2
    for (mime, image), number in zip(images, [2, 3], strict=True):
        assert mime == "image/webp"
        assert_is_screenshot_of(image, originals, number)


async def test_attached_images_are_the_steps_asked_for(source: Source) -> None:
    originals = originals_of(source, source.failed)
    steps = sorted(originals)[-3:]
    args = {"task_id": source.failed, "steps": steps, "include_images": True, "max_images": 10}
    async with source.client() as client:
        result = await call_ok(client, TOOL, args)
    data = result.structured_content
    assert data is not None
    assert [a["step"] for a in data["attached"]] == steps and data["skipped"] == []
    images = images_of(result)
    assert len(images) == len(steps)
    for (_, image), number, info in zip(images, steps, data["attached"], strict=True):
        assert_is_screenshot_of(image, originals, number)
        assert image_size(image) == (info["width"], info["height"])
        assert (info["original_width"], info["original_height"]) == image_size(originals[number])


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_cloud_listing_matches_the_seed(make_source: Callable[..., Source], version: str) -> None:
    source = make_source(version)
    assert source.emulator is not None
    seeded = get_seed().tasks[FINISHED_TASK]
    async with source.client() as client:
        listing = await call_ok(client, TOOL, {"task_id": FINISHED_TASK})
        none = await call_ok(client, TOOL, {"task_id": NO_SCREENSHOTS_TASK})
    shots = listing.structured_content["screenshots"]  # type: ignore[index]
    assert [s["step"] for s in shots] == [s.number for s in seeded.screenshot_steps] == list(range(1, 9))
    base = f"{source.emulator.base_url}/media/screenshots/{FINISHED_TASK}/"
    assert [s["url"].split("?")[0] for s in shots] == [base + s.screenshot for s in seeded.screenshot_steps]  # type: ignore[operator]
    assert none.structured_content["total"] == 0  # type: ignore[index]
    assert none.structured_content["screenshots"] == []  # type: ignore[index]


async def test_v1_unnumbered_screenshots_are_not_given_invented_steps(
    make_source: Callable[..., Source],
) -> None:
    source = make_source("v1")
    assert source.emulator is not None
    seeded = get_seed().tasks[V1_UNNUMBERED_SCREENSHOTS_TASK]
    async with source.client() as client:
        listing = await call_ok(client, TOOL, {"task_id": V1_UNNUMBERED_SCREENSHOTS_TASK})
        preview = await client.read_resource(
            f"browser-use://tasks/{V1_UNNUMBERED_SCREENSHOTS_TASK}/screenshots/capture-2"
        )
    shots = listing.structured_content["screenshots"]  # type: ignore[index]
    assert len(shots) == len(seeded.screenshot_steps) and all(s["step"] is None for s in shots)
    assert [s["resource_uri"].rsplit("/", 1)[1] for s in shots] == ["capture-1", "capture-2", "capture-3"]
    assert preview.contents[0].mime_type == "image/webp"
    # capture-2 is the second screenshot the API listed, not another one.
    data = base64.b64decode(preview.contents[0].blob)  # type: ignore[union-attr]
    originals = {
        n: source.emulator.media[
            f"/media/screenshots/{V1_UNNUMBERED_SCREENSHOTS_TASK}/{s.screenshot}"
        ].produce()
        for n, s in enumerate(seeded.screenshot_steps, 1)
    }
    assert_is_screenshot_of(data, originals, 2)
