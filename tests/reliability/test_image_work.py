"""Image work is bounded and stops when its call does (the hardening issue's items 3, 4 and 14).

A GIF is refused from its frame headers before any pixel is decoded; a call that runs out
of time answers at its deadline and its worker thread stops within a frame; a GIF whose
identical frames were merged still gives key frames.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from PIL import Image

from browser_use_tasks_mcp import media
from browser_use_tasks_mcp.errors import MediaError
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.helpers import client_for, images_of, local_settings, server_env, text_of

SAMPLE = BUNDLED_RUNS_DIR / "order-blue-widget"


def growing_gif(later_side: int, later_frames: int = 1) -> bytes:
    """A GIF whose logical screen and first frame are 1×1 and whose later frames are huge."""

    def frame(width: int, height: int) -> bytes:
        descriptor = (
            b"\x2c" + b"\x00\x00\x00\x00" + width.to_bytes(2, "little") + height.to_bytes(2, "little")
        )
        return descriptor + b"\x00" + b"\x02" + b"\x02\x44\x01" + b"\x00"  # LZW size 2, one tiny sub-block

    screen = (1).to_bytes(2, "little") * 2 + bytes([0x80, 0, 0]) + b"\x00\x00\x00\xff\xff\xff"
    later = frame(later_side, later_side) * later_frames
    return b"GIF89a" + screen + frame(1, 1) + later + b"\x3b"


@pytest.mark.parametrize(
    ("side", "frames", "says"),
    [(8000, 1, "Frame 1 of this GIF needs a canvas of 64 megapixels"), (7000, 45, "frames means decoding")],
)
def test_a_gif_growing_past_the_pixel_limits_is_refused_before_decoding(
    side: int, frames: int, says: str
) -> None:
    """[4] Frame 0 is 1×1, later frames 7000×7000: once 2.2 billion pixels decoded, 10 s, 686 MiB."""
    data = growing_gif(side, frames)
    started = time.perf_counter()
    for work in (media.probe_image, media.make_preview, lambda d: media.gif_frames(d, [1])):
        with pytest.raises(MediaError, match=says):
            work(data)
    assert time.perf_counter() - started < 1.0


def test_a_gif_under_the_limit_still_opens() -> None:
    data = (SAMPLE / "agent_history.gif").read_bytes()
    info = media.probe_image(data)
    assert info.frames > 2
    assert len(media.gif_frames(data, [0, info.frames - 1])) == 2


def _noise_png(width: int, height: int) -> bytes:
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


def _run_with_screenshots(root: Path, name: str, pngs: list[bytes], goals: list[str]) -> None:
    folder = root / name
    (folder / "screenshots").mkdir(parents=True)
    history = []
    for number, (png, goal) in enumerate(zip(pngs, goals, strict=True), start=1):
        shot = folder / "screenshots" / f"step_{number}.png"
        shot.write_bytes(png)
        history.append(
            {
                "model_output": {"next_goal": goal, "action": [{"click": {"index": number}}]},
                "result": [{"error": "failed" if number == 2 else None}],
                "state": {"url": f"http://127.0.0.1/{number}", "screenshot_path": str(shot)},
                "metadata": {
                    "step_number": number,
                    "step_start_time": 1.0 * number,
                    "step_end_time": number + 0.5,
                },
            }
        )
    (folder / "AgentHistory.json").write_text(json.dumps({"history": history}))


@pytest.fixture(scope="module")
def heavy_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder with one run of 60 large noisy screenshots: several seconds of GIF work."""
    root = tmp_path_factory.mktemp("heavy-runs")
    pngs = [_noise_png(1200, 1200) for _ in range(60)]
    _run_with_screenshots(root, "heavy", pngs, [f"goal {n}" for n in range(len(pngs))])
    return root


@pytest.mark.anyio
async def test_gif_work_stops_at_the_call_deadline(heavy_runs: Path) -> None:
    """[3] get_gif against a 2 s deadline once answered after 22 s and kept burning CPU."""
    async with client_for(local_settings(heavy_runs, call_deadline_s=1.0)) as client:
        started = time.perf_counter()
        result = await client.call_tool("get_gif", {"task_id": "heavy"})
        answered = time.perf_counter() - started
        cpu_before = time.process_time()
        await anyio.sleep(3.0)  # an abandoned worker would keep a core busy through this
        burned = time.process_time() - cpu_before
        after = await client.call_tool("get_task", {"task_id": "heavy"})
    assert result.is_error and "Timed out" in text_of(result)
    assert answered < 2.5, f"answered after {answered:.1f}s"
    assert burned < 1.0, f"{burned:.2f}s of CPU spent after the call had ended"
    assert not after.is_error


@pytest.mark.anyio
async def test_key_frames_of_a_gif_with_merged_frames(tmp_path: Path) -> None:
    """[14] A GIF whose identical frames were merged on saving once failed with 'Frame 1 does not exist'."""
    folder = tmp_path / "merged"
    shutil.copytree(SAMPLE, folder)
    shots = sorted((folder / "screenshots").iterdir())
    frames = [Image.open(shots[0]).convert("RGB")] * 4 + [Image.open(shots[-1]).convert("RGB")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=500)
    (folder / "agent_history.gif").write_bytes(out.getvalue())
    assert media.probe_image(out.getvalue()).frames < len(frames)
    async with client_for(local_settings(tmp_path)) as client:
        result = await client.call_tool("get_gif", {"task_id": "merged", "include_preview": True})
    assert not result.is_error, text_of(result)
    assert len(images_of(result)) >= 2


def test_closing_stdin_mid_gif_exits_promptly(heavy_runs: Path) -> None:
    """[3] Closing stdin while a GIF was being built once took 6-9 s to exit."""
    env = server_env(BROWSER_USE_RUNS_DIR=str(heavy_runs))
    process = subprocess.Popen(
        [sys.executable, "-m", "browser_use_tasks_mcp"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    process.stdin.write((json.dumps(hello) + "\n").encode())
    process.stdin.flush()
    process.stdout.readline()
    for message in (
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "get_gif", "arguments": {"task_id": "heavy"}},
        },
    ):
        process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()
    time.sleep(1.0)  # the GIF is being assembled
    started = time.perf_counter()
    process.stdin.close()
    try:
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    exited = time.perf_counter() - started
    assert exited < 3.0, f"exited {exited:.1f}s after stdin closed"
