"""`assemble_gif` on its own, in a fresh process, so its time and peak memory are its own.

    python -m benchmarks.gif_child --frames 100

Prints one JSON object. Frames are the emulator's 1280×960 screenshots of the 100-step
task, captioned as the server captions them. The peak RSS counter is reset (via
/proc/self/clear_refs) just before assembly, so `peak_kib` is the peak during it.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import statistics
import time
from pathlib import Path

from PIL import Image
from tests.emulator import HUNDRED_STEP_TASK, get_seed
from tests.emulator import media as emulator_media

from browser_use_tasks_mcp import media


def frames_for(task_id: str, steps: list[int] | None = None) -> list[media.Frame]:
    task = get_seed().tasks[task_id]
    title = emulator_media._title(task)
    wanted = [s for s in task.screenshot_steps if steps is None or s.number in steps]
    return [
        media.Frame(
            image=emulator_media.screenshot_png(task.id, s.number, s.url, s.next_goal, title),
            caption=f"Step {s.number} · {s.next_goal}",
        )
        for s in wanted
    ]


def decode_all(frames: list[media.Frame]) -> float:
    started = time.perf_counter()
    for frame in frames:
        with Image.open(io.BytesIO(frame.image)) as im:
            im.convert("RGB")
    return time.perf_counter() - started


def status() -> dict[str, int]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gif_child")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--steps", default="", help="comma-separated step numbers (default: the first N)")
    args = parser.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",") if s] or None
    frames = frames_for(HUNDRED_STEP_TASK, steps)[: args.frames]
    with Image.open(io.BytesIO(frames[0].image)) as im:
        size = im.size
    decode_s = statistics.median(decode_all(frames) for _ in range(3))
    gc.collect()
    before = status()
    peak_reset = reset_peak()
    started = time.perf_counter()
    gif = media.assemble_gif(frames)
    seconds = time.perf_counter() - started
    after = status()
    print(
        json.dumps(
            {
                "frames": len(frames),
                "width_in": size[0],
                "height_in": size[1],
                "png_bytes_per_frame": sum(len(f.image) for f in frames) / len(frames),
                "decode_s": decode_s,
                "assemble_s": seconds,
                "gif_bytes": len(gif.data),
                "gif_frames": gif.frame_count,
                "gif_width": gif.width,
                "gif_height": gif.height,
                "rss_before_kib": before.get("VmRSS", 0),
                "peak_kib": after.get("VmHWM", 0),
                "peak_reset": peak_reset,
            }
        )
    )


if __name__ == "__main__":
    main()
