"""Recordings: read whole as a resource (local runs and every Cloud generation), and, for local runs,
the frame where a step begins.

The bundled runs carry real recordings made by browser-use (h264 mp4). The frame is checked
against PyAV decoding the file directly at the step's share of the run, computed here from the
history's own step times.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import av
import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import BlobResourceContents
from PIL import Image

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import NAMED_V2_TASKS, Emulator
from tests.helpers import call_error, call_ok, client_for, cloud_settings, local_settings, text_of
from tests.tools.common import image_distance

pytestmark = pytest.mark.anyio
RUN = "red-gadget-expired-coupon"
VIDEO = next((BUNDLED_RUNS_DIR / RUN / "video").glob("*.mp4"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def blob(read: object) -> bytes:
    import base64

    (content,) = read.contents  # type: ignore[attr-defined]
    assert isinstance(content, BlobResourceContents)
    return base64.b64decode(content.blob)


def frame_by_av(fraction: float) -> bytes:
    with av.open(str(VIDEO)) as container:
        stream = container.streams.video[0]
        target = fraction * container.duration / 1_000_000
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time >= target - 1e-6:
                break
        assert chosen is not None
        out = io.BytesIO()
        chosen.to_image().save(out, "PNG")
        return out.getvalue()


def share_of_run(step: int) -> float:
    history = json.loads((BUNDLED_RUNS_DIR / RUN / "AgentHistory.json").read_text())["history"]
    times = [h["metadata"] for h in history]
    start, end = times[0]["step_start_time"], times[-1]["step_end_time"]
    return (times[step - 1]["step_start_time"] - start) / (end - start)


async def test_get_media_names_the_recording_resource_and_it_holds_the_file() -> None:
    async with client_for(local_settings()) as client:
        media = await call_ok(client, "get_media", {"task_id": RUN})
        (item,) = media.structured_content["recordings"]  # type: ignore[index]
        assert item["resource_uri"] == f"browser-use://tasks/{RUN}/recordings/{VIDEO.name}"
        assert f"resource `browser-use://tasks/{RUN}/recordings/{VIDEO.name}/steps/{{step}}`" in text_of(
            media
        )
        data = blob(await client.read_resource(item["resource_uri"]))
    assert data == VIDEO.read_bytes()


@pytest.mark.parametrize("step", [1, 4, 7])
async def test_the_frame_at_a_step_is_that_point_of_the_recording(step: int) -> None:
    async with client_for(local_settings()) as client:
        preview = blob(
            await client.read_resource(f"browser-use://tasks/{RUN}/recordings/{VIDEO.name}/steps/{step}")
        )
    with Image.open(io.BytesIO(preview)) as image:
        assert image.format == "WEBP" and max(image.size) == 1024
    assert image_distance(preview, frame_by_av(share_of_run(step))) < 4


async def test_frames_without_the_decoder_say_how_to_add_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now fails, as without the extra
    async with client_for(local_settings()) as client:
        with pytest.raises(MCPError, match=r"pip install -e '\.\[video\]'"):
            await client.read_resource(f"browser-use://tasks/{RUN}/recordings/{VIDEO.name}/steps/2")
        assert blob(await client.read_resource(f"browser-use://tasks/{RUN}/recordings/{VIDEO.name}"))


async def test_unknown_hostile_and_broken_recordings_are_clear_errors(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_RUNS_DIR / RUN, tmp_path / RUN)
    (tmp_path / RUN / "video" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 500)
    async with client_for(local_settings(tmp_path)) as client:
        with pytest.raises(MCPError, match="no recording `nope.mp4`. Available: `" + VIDEO.name[:8]):
            await client.read_resource(f"browser-use://tasks/{RUN}/recordings/nope.mp4")
        with pytest.raises(MCPError, match=r"could not be decoded|no video stream|no decodable frame"):
            await client.read_resource(f"browser-use://tasks/{RUN}/recordings/broken.mp4/steps/2")
        with pytest.raises(MCPError):
            await client.read_resource(f"browser-use://tasks/{RUN}/recordings/..%2F..%2Fsecret/steps/2")
        assert "Task" in await call_error(client, "get_step", {"task_id": RUN, "step": 99})
        await call_ok(client, "get_task", {"task_id": RUN})


@pytest.mark.parametrize("version", ["v2", "v3", "v4"])
async def test_cloud_recordings_are_resources_too(fresh_emulator: Emulator, version: str) -> None:
    emu = fresh_emulator
    url = {"v2": emu.v2_url, "v3": emu.v3_url, "v4": emu.v4_url}[version]
    async with client_for(cloud_settings(url, version=version)) as client:
        for task_id in NAMED_V2_TASKS.values():
            media = await client.call_tool("get_media", {"task_id": task_id})  # not every task is in v3/v4
            if media.is_error:
                continue
            if recordings := media.structured_content["recordings"]:  # type: ignore[index]
                break
        else:
            raise AssertionError(f"no seeded task has a recording on {version}")
        (first, *_) = recordings
        data = blob(await client.read_resource(first["resource_uri"]))
    assert data == httpx2.get(first["url"]).content and data[4:8] == b"ftyp"
