"""`compare_tasks` on every source, on the recorded pair of one instruction (order-blue-widget worked,
blue-widget-order-timeout met a 504), across sources, and on hostile input."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp_types import ImageContent

from tests.emulator import FAILED_TASK, FINISHED_TASK, HUNDRED_STEP_TASK, LONG_TASK, UNKNOWN_ID
from tests.helpers import call_error, call_ok, client_for, cloud_settings, text_of
from tests.tools.common import (
    FAILED_RUN,
    SUCCEEDED_RUN,
    TIMEOUT_RUN,
    Source,
    across_runs_dir,
    assert_is_screenshot_of,
    assert_only_inside_fences,
    local_screenshots,
    local_source,
    originals_of,
    snapshot_call,
)

pytestmark = pytest.mark.anyio
TOOL = "compare_tasks"
PAIR = {"task_a": SUCCEEDED_RUN, "task_b": TIMEOUT_RUN}


def _images(result: Any) -> list[bytes]:
    return [base64.b64decode(b.data) for b in result.content if isinstance(b, ImageContent)]


async def test_local_snapshot_of_the_recorded_pair(tmp_path: Path) -> None:
    await snapshot_call(
        local_source(across_runs_dir(tmp_path)), TOOL, PAIR, f"{TOOL}/local-worked-vs-timeout"
    )


@pytest.mark.parametrize("src", ["v2", "v1", "v3", "v4", "auto"])
async def test_cloud_snapshot(make_source: Callable[..., Source], src: str) -> None:
    source = make_source(src)
    args = {"task_a": FINISHED_TASK, "task_b": FAILED_TASK}
    result = await snapshot_call(source, TOOL, args, f"{TOOL}/{src}-finished-vs-failed")
    structured = result.structured_content
    assert structured is not None and structured["same_instruction"] is False
    parting = structured["alignment"]["parting"]
    assert parting is not None
    # In one generation both start by navigating away from a blank page, then part; under auto the
    # two live in v3 and v4, whose steps differ from the first (v4 opens with `browser.ready`).
    assert structured["alignment"]["matched"] >= (0 if src == "auto" else 1)
    images = _images(result)
    assert len(images) + len(structured["skipped"]) == 2
    for image, (task, step) in zip(
        images,
        [(FINISHED_TASK, parting["screenshot_a"]), (FAILED_TASK, parting["screenshot_b"])],
        strict=False,
    ):
        assert_is_screenshot_of(image, originals_of(source, task), step)


async def test_the_recorded_pair_parts_where_the_order_timed_out(tmp_path: Path) -> None:
    runs = across_runs_dir(tmp_path)
    async with local_source(runs).client() as client:
        result = await call_ok(client, TOOL, PAIR)
    structured = result.structured_content
    assert structured is not None and structured["same_instruction"] is True
    alignment = structured["alignment"]
    # order-blue-widget took a detour to the (unreachable) cart at steps 3-4; the timeout run did not.
    assert alignment["segments"][:3] == [
        {"kind": "same", "a": [1, 2], "b": [1, 2]},
        {"kind": "only_a", "a": [3, 4], "b": []},
        {"kind": "same", "a": [5, 6], "b": [3, 4]},
    ]
    parting = alignment["parting"]
    # "Place order": the same click on the same form, judged failed by the next step in B only.
    assert (parting["a_step"], parting["b_step"]) == (6, 4)
    assert "failed in run B only" in parting["why"]
    assert alignment["only_b"] == [5, 6] and alignment["meet_again"] == [7, 7]
    assert structured["b"]["parting_step"]["actions"] == ["click"]
    # The screenshots show where each click led: the confirmation page (A 7) and the 504 page (B 5).
    images = _images(result)
    assert len(images) == 2
    assert_is_screenshot_of(images[0], local_screenshots(SUCCEEDED_RUN, runs), 7)
    assert_is_screenshot_of(images[1], local_screenshots(TIMEOUT_RUN, runs), 5)
    assert [i["step"] for i in structured["images"]] == [7, 5]
    assert all(i["width"] <= 1024 for i in structured["images"])  # previews
    text = text_of(result)
    assert "## Where they part: A step 6, B step 4" in text
    assert assert_only_inside_fences(text, "504 Gateway Timeout") >= 2
    assert f'get_step(task_id="{TIMEOUT_RUN}", step=4, include_screenshot=true)' in text


async def test_a_run_compared_with_itself_does_not_part(tmp_path: Path) -> None:
    async with local_source().client() as client:
        result = await call_ok(client, TOOL, {"task_a": FAILED_RUN, "task_b": FAILED_RUN})
    assert result.structured_content["alignment"]["parting"] is None  # type: ignore[index]
    assert _images(result) == []
    assert "Nowhere: every step matches" in text_of(result)


async def test_a_local_run_against_a_cloud_run(tmp_path: Path, fresh_emulator: Any) -> None:
    emu = fresh_emulator
    settings = cloud_settings(emu.v2_url, version="v2", runs_dir=across_runs_dir(tmp_path))
    async with client_for(settings) as client:
        result = await call_ok(client, TOOL, {"task_a": f"local:{SUCCEEDED_RUN}", "task_b": FINISHED_TASK})
        unknown = await call_error(client, TOOL, {"task_a": "local:no-such-run", "task_b": FINISHED_TASK})
    structured = result.structured_content
    assert structured is not None
    assert structured["a"]["source"] == "local" and structured["b"]["source"] == "cloud-v2"
    assert structured["a"]["task_id"] == f"local:{SUCCEEDED_RUN}"
    assert len(_images(result)) == 2
    assert f'get_step(task_id="local:{SUCCEEDED_RUN}"' in text_of(result)
    assert "no-such-run" in unknown and unknown.startswith("**Not found:**")


async def test_local_prefix_without_a_runs_folder(make_source: Callable[..., Source]) -> None:
    async with make_source("v2").client() as client:
        message = await call_error(
            client, TOOL, {"task_a": f"local:{SUCCEEDED_RUN}", "task_b": FINISHED_TASK}
        )
    assert "BROWSER_USE_RUNS_DIR" in message


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"task_a": SUCCEEDED_RUN, "task_b": "no-such-run"}, "**Not found:**"),
        ({"task_a": "../../etc/passwd", "task_b": SUCCEEDED_RUN}, "**Invalid argument:**"),
        ({"task_a": "x" * 5000, "task_b": SUCCEEDED_RUN}, "task_a"),
        ({"task_a": SUCCEEDED_RUN}, "task_b"),
    ],
)
async def test_hostile_input(args: dict[str, Any], expected: str) -> None:
    async with local_source().client() as client:
        message = await call_error(client, TOOL, args)
        assert expected in message
        await call_ok(client, TOOL, {"task_a": SUCCEEDED_RUN, "task_b": FAILED_RUN})


async def test_unknown_cloud_id(make_source: Callable[..., Source]) -> None:
    async with make_source("v2").client() as client:
        message = await call_error(client, TOOL, {"task_a": FINISHED_TASK, "task_b": UNKNOWN_ID})
    assert message.startswith("**Not found:**") and UNKNOWN_ID in message


async def test_long_runs_are_compared_within_bounds(make_source: Callable[..., Source]) -> None:
    async with make_source("v2").client() as client:
        result = await call_ok(client, TOOL, {"task_a": LONG_TASK, "task_b": HUNDRED_STEP_TASK})
    text = text_of(result)
    structured = result.structured_content
    assert structured is not None
    assert len(text) < 20_000
    assert len(structured["alignment"]["segments"]) <= 200
    assert len(_images(result)) <= 2
    if len(structured["alignment"]["segments"]) > 20:
        assert "see `alignment` in the structured content" in text
