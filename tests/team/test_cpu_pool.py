"""Image work in worker processes gives the same bytes as in threads, and stops when abandoned."""

from __future__ import annotations

import os

import anyio
import pytest

from browser_use_tasks_mcp import media
from browser_use_tasks_mcp.cpu_pool import Abandoned, CpuPool, StillWanted
from tests.helpers import images_of, local_settings
from tests.tools.common import FAILED_RUN, SUCCEEDED_RUN

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_a_check_passes_while_its_marker_exists_and_stops_the_work_once_removed(
    tmp_path: os.PathLike[str],
) -> None:
    marker = os.path.join(tmp_path, "wanted")
    open(marker, "w").close()
    check = StillWanted(marker)
    check()  # still wanted: returns
    os.unlink(marker)
    with pytest.raises(Abandoned):
        check()


async def test_previews_and_gifs_from_the_process_pool_match_the_threads() -> None:
    from mcp import Client

    from browser_use_tasks_mcp.app import build_server

    answers = {}
    for processes in (0, 1):
        settings = local_settings().with_overrides(cpu_processes=processes)
        async with Client(build_server(settings)) as client:
            step = await client.call_tool(
                "get_step", {"task_id": FAILED_RUN, "step": 3, "include_screenshot": True}
            )
            gif = await client.call_tool("get_gif", {"task_id": SUCCEEDED_RUN, "include_preview": True})
        assert not step.is_error and not gif.is_error
        answers[processes] = (images_of(step), images_of(gif))
    assert answers[0] == answers[1]
    assert answers[1][0] and len(answers[1][1]) >= 2


async def test_an_abandoned_gif_build_frees_the_pool() -> None:
    """The caller gives up; the child stops at its next frame, so the one process takes new work."""
    frames = [media.Frame(image=_png(), caption=f"Step {n}") for n in range(400)]
    pool = CpuPool(1)
    try:
        with anyio.move_on_after(0.5):
            await pool.run(media.assemble_gif, frames, checked=True)
        with anyio.fail_after(30):  # far less than 400 frames would take had the build gone on
            rendered = await pool.run(media.make_preview, _png())
        assert rendered.mime_type.startswith("image/")
    finally:
        pool.close()


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1280, 960), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()
