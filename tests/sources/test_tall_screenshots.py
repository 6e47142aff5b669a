"""A full-page screenshot (1280×6000) is previewed in readable square parts, not as a thin strip.

The page here has five bands of distinct colours, one per 1280-pixel square from the top (the
last one 880 pixels high), so each preview can be checked to be exactly the part it claims.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.media.images import parts_of
from tests.helpers import call_ok, client_for, images_of, local_settings, text_of

pytestmark = pytest.mark.anyio
RUN = "order-blue-widget"
WIDTH, HEIGHT = 1280, 6000
BANDS = [(200, 30, 30), (30, 160, 30), (30, 30, 200), (220, 200, 40), (120, 40, 160)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    shutil.copytree(BUNDLED_RUNS_DIR / RUN, tmp_path / RUN)
    page = Image.new("RGB", (WIDTH, HEIGHT))
    for index, colour in enumerate(BANDS):
        page.paste(colour, (0, index * WIDTH, WIDTH, min(HEIGHT, (index + 1) * WIDTH)))
    page.save(tmp_path / RUN / "screenshots" / "step_3.png")
    return tmp_path


def colour_of(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
        return rgb.getpixel((rgb.width // 2, rgb.height // 2))  # type: ignore[return-value]


def near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return all(abs(x - y) <= 12 for x, y in zip(a, b, strict=True))


def test_only_pages_much_taller_than_wide_have_parts() -> None:
    assert parts_of(1280, 800) == parts_of(1280, 1920) == 1
    assert parts_of(1280, 1921) == 2
    assert parts_of(WIDTH, HEIGHT) == 5


async def test_each_part_is_that_square_of_the_page_at_a_readable_width(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        for part, colour in enumerate(BANDS, 1):
            args = {"task_id": RUN, "step": 3, "include_screenshot": True, "part": part}
            result = await call_ok(client, "get_step", args)
            ((_, data),) = images_of(result)
            image = result.structured_content["image"]  # type: ignore[index]
            assert (image["part"], image["parts"]) == (part, 5)
            assert (image["original_width"], image["original_height"]) == (WIDTH, HEIGHT)
            expected = (1024, 1024) if part < 5 else (1024, round((HEIGHT - 4 * WIDTH) * 1024 / WIDTH))
            assert (image["width"], image["height"]) == expected
            assert near(colour_of(data), colour), (part, colour_of(data))
            assert f"this preview is part {part} of 5" in text_of(result)
        first = await call_ok(client, "get_step", {"task_id": RUN, "step": 3, "include_screenshot": True})
        assert 'get_step(task_id="order-blue-widget", step=3, include_screenshot=true, part=2)' in text_of(
            first
        )
        past = await call_ok(
            client, "get_step", {"task_id": RUN, "step": 3, "include_screenshot": True, "part": 6}
        )
        full = await call_ok(
            client, "get_step", {"task_id": RUN, "step": 3, "include_screenshot": True, "resolution": "full"}
        )
        listed = await call_ok(
            client, "list_screenshots", {"task_id": RUN, "steps": [3], "include_images": True}
        )
        ordinary = await call_ok(client, "get_step", {"task_id": RUN, "step": 2, "include_screenshot": True})
    assert images_of(past) == [] and "ask for a part from 1 to 5" in text_of(past)
    assert full.structured_content["image"]["width"] == WIDTH  # type: ignore[index]
    assert full.structured_content["image"]["height"] == HEIGHT  # type: ignore[index]
    assert "the top of a tall page: part 1 of 5" in text_of(listed)
    ((_, top),) = images_of(listed)
    assert near(colour_of(top), BANDS[0])
    assert ordinary.structured_content["image"]["parts"] == 1  # type: ignore[index]
    assert "part 1 of" not in text_of(ordinary)
