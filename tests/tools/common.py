"""Shared pieces of the per-tool tests: sources, rendering results for snapshots, checks.

Everything goes through the MCP protocol (`mcp.Client` in-process against `build_server`),
so these tests survive any rewrite of the server's internals.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio
import jsonschema
from mcp import Client
from mcp_types import (
    CallToolResult,
    EmbeddedResource,
    GetPromptResult,
    ImageContent,
    ReadResourceResult,
    TextContent,
    TextResourceContents,
    Tool,
)
from PIL import Image, ImageChops, ImageStat

from browser_use_tasks_mcp.app import build_server
from browser_use_tasks_mcp.config import Settings
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import (
    CREATED_TASK,
    EXPIRED_SCREENSHOT_TASK,
    FAILED_TASK,
    FILES_TASK,
    FINISHED_TASK,
    NO_SCREENSHOTS_TASK,
    RUNNING_TASK,
    STOPPED_TASK,
    UNTRUSTED_CONTENT_TASK,
    Emulator,
)
from tests.helpers import cloud_settings, local_settings
from tests.snapshot import Normaliser, assert_json_snapshot, assert_snapshot

SOURCES = ("local", "v2", "v1", "v3", "v4", "auto")
SUCCEEDED_RUN = "order-blue-widget"
FAILED_RUN = "red-gadget-expired-coupon"
MAX_STEPS_RUN = "trade-login-max-steps"
LOCAL_RUNS = (SUCCEEDED_RUN, FAILED_RUN, MAX_STEPS_RUN)
#: The recorded failing twin of SUCCEEDED_RUN (same instruction; the order service answers 504),
#: kept apart from the bundled runs: `across_runs_dir` puts it beside them for the across-runs tests.
TIMEOUT_RUN = "blue-widget-order-timeout"
ACROSS_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs-across"


def across_runs_dir(root: Path) -> Path:
    """A runs folder under `root` with the bundled runs and TIMEOUT_RUN."""
    folder = root / "runs"
    shutil.copytree(BUNDLED_RUNS_DIR, folder)
    shutil.copytree(ACROSS_FIXTURES / TIMEOUT_RUN, folder / TIMEOUT_RUN)
    return folder


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


@dataclass
class Source:
    """One way of serving tasks: `local` (run folders), or Cloud `v1` to `v4` on the emulator."""

    name: str
    settings: Settings
    normaliser: Normaliser
    emulator: Emulator | None = None
    runs_dir: Path | None = None
    finished: str = ""  # a task that ended well
    failed: str = ""  # a task that failed, with a failing step
    failing_step: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self) -> Client:
        return Client(build_server(self.settings))

    @property
    def is_cloud(self) -> bool:
        return self.name != "local"


def local_source(runs_dir: Path = BUNDLED_RUNS_DIR, **extra: Any) -> Source:
    # Error texts name the runs folder: where the package is installed varies by checkout.
    normaliser = Normaliser({str(BUNDLED_RUNS_DIR): "<BUNDLED_RUNS_DIR>"})
    if runs_dir != BUNDLED_RUNS_DIR:
        normaliser = normaliser.with_literal(str(runs_dir), "<RUNS_DIR>")
    return Source(
        name="local",
        settings=local_settings(runs_dir, **extra),
        normaliser=normaliser,
        runs_dir=runs_dir,
        finished=SUCCEEDED_RUN,
        failed=FAILED_RUN,
        failing_step=3,  # step 4 judged its coupon refused
    )


#: The step of FAILED_TASK whose action failed, per Cloud generation: v4 runs begin with a
#: `browser.ready` event, which is a step of its own.
FAILING_STEP = {"v1": 3, "v2": 3, "v3": 3, "v4": 4}


#: Under `auto`, where the emulator keeps each task v3 and v4 replay: one generation each, as on a
#: real account, so every tool is seen finding its task in each generation. The rest are v2's.
AUTO_OWNERS = {
    FAILED_TASK: "v4",
    CREATED_TASK: "v4",
    STOPPED_TASK: "v4",
    EXPIRED_SCREENSHOT_TASK: "v4",
    FINISHED_TASK: "v3",
    NO_SCREENSHOTS_TASK: "v3",
    UNTRUSTED_CONTENT_TASK: "v3",
    FILES_TASK: "v2",
    RUNNING_TASK: "v2",
}


def cloud_source(emu: Emulator, version: str, **extra: Any) -> Source:
    """A Cloud generation on the emulator: `v1`, `v2`, `v3` (sessions), `v4` (runs), or `auto`
    (the emulator's root, v4, v3 and v2 with one key, each named task in one generation)."""
    assert emu.base_url
    if version == "auto":
        emu.owners.update(AUTO_OWNERS)
        url = emu.base_url
    else:
        url = {"v1": emu.v1_url, "v2": emu.v2_url, "v3": emu.v3_url, "v4": emu.v4_url}[version]
    return Source(
        name=version,
        settings=cloud_settings(url, version=version, **extra),
        normaliser=Normaliser({emu.base_url: "<EMULATOR>"}),
        emulator=emu,
        finished=FINISHED_TASK,
        failed=FAILED_TASK,
        failing_step=FAILING_STEP[AUTO_OWNERS[FAILED_TASK] if version == "auto" else version],
    )


# --------------------------------------------------------------------------------------
# The tool inventory, from the server itself
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def listed_tools() -> tuple[Tool, ...]:
    """What `tools/list` answers (on the bundled runs); the one source of tool names in tests."""

    async def fetch() -> tuple[Tool, ...]:
        async with Client(build_server(local_settings())) as client:
            return tuple((await client.list_tools()).tools)

    return anyio.run(fetch)


def tool_names() -> list[str]:
    return sorted(t.name for t in listed_tools())


def minimal_args(tool: Tool, task_id: str) -> dict[str, Any]:
    """The required arguments of `tool` from its input schema, filled with harmless values."""
    args: dict[str, Any] = {}
    properties = tool.input_schema.get("properties", {})
    for name in tool.input_schema.get("required", []):
        kind = properties.get(name, {}).get("type")
        if name in ("task_id", "task_a", "task_b"):
            args[name] = task_id
        elif kind == "integer":
            args[name] = 1
        elif kind == "string":
            args[name] = "report.csv"
        else:  # a new required argument of another type: make the test say so
            raise AssertionError(f"{tool.name}: no sample value for required {name!r} ({kind})")
    return args


# --------------------------------------------------------------------------------------
# Calling
# --------------------------------------------------------------------------------------


async def call(client: Client, name: str, args: dict[str, Any]) -> CallToolResult:
    """Call a tool; on success validate its structured content against its output schema."""
    result = await client.call_tool(name, args)
    if not result.is_error:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        schema = tools[name].output_schema
        assert schema is not None, f"{name} has no output schema"
        jsonschema.validate(result.structured_content, schema)
    return result


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


# --------------------------------------------------------------------------------------
# Rendering what a model reads, for snapshots
# --------------------------------------------------------------------------------------


def _describe_block(block: Any) -> str:
    if isinstance(block, ImageContent):
        width, height = image_size(base64.b64decode(block.data))
        return f"image {block.mime_type} {width}x{height}"
    if isinstance(block, EmbeddedResource):
        resource = block.resource
        if isinstance(resource, TextResourceContents):
            return f"resource {resource.uri} {resource.mime_type}"
        return f"resource {resource.uri} {resource.mime_type} (blob)"
    fields = block.model_dump(mode="json", by_alias=True, exclude_none=True)
    kind = fields.pop("type", type(block).__name__)
    return f"{kind} {json.dumps(fields, sort_keys=True, ensure_ascii=False)}"


def render_blocks(blocks: list[Any]) -> str:
    """Content blocks as a model sees them: text verbatim, other blocks as one marker line."""
    parts: list[str] = []
    for index, block in enumerate(blocks, 1):
        if isinstance(block, TextContent):
            parts.append(f"<!-- content {index}: text -->\n{block.text}")
        else:
            parts.append(f"<!-- content {index}: {_describe_block(block)} -->")
    text = "\n".join(parts)
    return text if text.endswith("\n") else text + "\n"


def render_result(tool: str, args: dict[str, Any], result: CallToolResult) -> str:
    head = f"<!-- {tool}({json.dumps(args, sort_keys=True)}) isError={str(bool(result.is_error)).lower()} -->"
    return head + "\n" + render_blocks(list(result.content))


def render_prompt(name: str, args: dict[str, str], result: GetPromptResult) -> str:
    parts = [f"<!-- prompt {name}({json.dumps(args, sort_keys=True)}) -->"]
    if result.description:
        parts.append(f"<!-- description: {result.description} -->")
    for index, message in enumerate(result.messages, 1):
        block = message.content
        if isinstance(block, TextContent):
            parts.append(f"<!-- message {index} ({message.role}): text -->\n{block.text}")
        else:
            parts.append(f"<!-- message {index} ({message.role}): {_describe_block(block)} -->")
    text = "\n".join(parts)
    return text if text.endswith("\n") else text + "\n"


def render_resource(uri: str, result: ReadResourceResult) -> str:
    parts = []
    for content in result.contents:
        if isinstance(content, TextResourceContents):
            parts.append(f"<!-- {content.uri} {content.mime_type} -->\n{content.text}")
        else:
            parts.append(f"<!-- {content.uri} {content.mime_type} (blob) -->")
    text = "\n".join(parts)
    return text if text.endswith("\n") else text + "\n"


def snapshot_result(
    name: str, tool: str, args: dict[str, Any], result: CallToolResult, normaliser: Normaliser
) -> None:
    """Snapshot both what a model reads (`<name>.md`) and what a program reads (`<name>.json`)."""
    assert_snapshot(f"{name}.md", normaliser.text(render_result(tool, args, result)))
    if result.is_error:
        assert result.structured_content is None or isinstance(result.structured_content, dict)
    assert_json_snapshot(f"{name}.json", result.structured_content, normaliser)


async def snapshot_call(source: Source, tool: str, args: dict[str, Any], name: str) -> CallToolResult:
    async with source.client() as client:
        result = await call(client, tool, args)
    snapshot_result(name, tool, args, result, source.normaliser)
    return result


# --------------------------------------------------------------------------------------
# Untrusted fences
# --------------------------------------------------------------------------------------

_OPEN = re.compile(r"^(`{3,})untrusted$")


def untrusted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the bodies of ```untrusted fences, each ended by its own closer.

    A fence opened with N backticks ends only at a line of exactly N backticks (shorter runs
    inside are content); an unclosed fence is an error, not a span to the end of the text.
    """
    spans: list[tuple[int, int]] = []
    lines = text.splitlines(keepends=True)
    offset = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        opened = _OPEN.match(line.rstrip("\n"))
        offset_after = offset + len(line)
        if not opened:
            offset, index = offset_after, index + 1
            continue
        fence = opened.group(1)
        body_start = offset_after
        cursor = body_start
        for close_index in range(index + 1, len(lines)):
            if lines[close_index].rstrip("\n") == fence:
                spans.append((body_start, cursor))
                offset = cursor + len(lines[close_index])
                index = close_index + 1
                break
            cursor += len(lines[close_index])
        else:
            raise AssertionError(f"untrusted fence opened at offset {offset} is never closed")
    return spans


def occurrences(text: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(needle), text)]


def assert_only_inside_fences(text: str, needle: str) -> int:
    """Every occurrence of `needle` lies wholly inside one untrusted fence; returns the count."""
    spans = untrusted_spans(text)
    found = occurrences(text, needle)
    for start in found:
        end = start + len(needle)
        assert any(a <= start and end <= b for a, b in spans), (
            f"{needle[:40]!r} at offset {start} is outside every untrusted fence"
        )
    return len(found)


# --------------------------------------------------------------------------------------
# Image identity: which known screenshot is this image a (possibly scaled, lossy) copy of?
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _thumbnail(image: bytes, size: tuple[int, int]) -> Image.Image:
    with Image.open(io.BytesIO(image)) as picture:
        return picture.convert("RGB").resize(size, Image.Resampling.BILINEAR)


def image_distance(image: bytes, original: bytes) -> float:
    """Mean per-channel difference (0-255) of `image` and `original`, both scaled to 320 px wide."""
    width, height = image_size(image)
    size = (320, max(1, round(320 * height / width)))
    difference = ImageChops.difference(_thumbnail(image, size), _thumbnail(original, size))
    return sum(ImageStat.Stat(difference).mean) / 3


def matching_originals(image: bytes, originals: dict[Any, bytes]) -> set[Any]:
    """The keys of the originals `image` is a copy of (several when a run has identical screenshots)."""
    distances = sorted((image_distance(image, data), key) for key, data in originals.items())
    best = distances[0][0]
    assert best < 6, f"the image matches none of the originals closely: {distances[:3]}"
    return {key for distance, key in distances if distance <= best + 1}


def twins(originals: dict[Any, bytes], key: Any) -> set[Any]:
    """`key` and the keys of originals that look the same as it (a page that did not change)."""
    return {k for k, data in originals.items() if image_distance(data, originals[key]) < 1}


def assert_is_screenshot_of(image: bytes, originals: dict[Any, bytes], key: Any) -> None:
    """`image` is a (possibly scaled, lossy) copy of `originals[key]` and of no other original."""
    matches = matching_originals(image, originals)
    assert matches == twins(originals, key), (
        f"expected the screenshot of {key!r}, got one of {sorted(matches)}"
    )


def local_screenshots(run: str, runs_dir: Path = BUNDLED_RUNS_DIR) -> dict[int, bytes]:
    """Step number -> the PNG bytes of that step's screenshot in the run folder."""
    folder = runs_dir / run / "screenshots"
    return {int(p.stem.removeprefix("step_")): p.read_bytes() for p in folder.glob("step_*.png")}


def seeded_screenshots(emu: Emulator, task_id: str) -> dict[int, bytes]:
    """Step number -> the PNG bytes the emulator serves as that step's screenshot."""
    task = emu.seed.tasks[task_id]
    return {
        step.number: emu.media[f"/media/screenshots/{task_id}/{step.screenshot}"].produce()
        for step in task.screenshot_steps
    }


def generation_of(source: Source, task_id: str) -> str:
    """The Cloud generation that serves `task_id` to this source."""
    return AUTO_OWNERS.get(task_id, "v2") if source.name == "auto" else source.name


def served_step(source: Source, task_id: str, seeded: int) -> int:
    """The step number a seeded step is served as: v4 runs that started open with a `browser.ready` event."""
    started = source.emulator is not None and source.emulator.seed.tasks[task_id].started_at is not None
    return seeded + 1 if generation_of(source, task_id) == "v4" and started else seeded


def originals_of(source: Source, task_id: str) -> dict[int, bytes]:
    """Served step number -> the screenshot the source holds for it."""
    if source.emulator is not None:
        seeded = seeded_screenshots(source.emulator, task_id)
        return {served_step(source, task_id, number): data for number, data in seeded.items()}
    return local_screenshots(task_id, source.runs_dir or BUNDLED_RUNS_DIR)


def gif_frames(data: bytes) -> list[bytes]:
    """Every frame of a GIF, each as PNG bytes."""
    frames: list[bytes] = []
    with Image.open(io.BytesIO(data)) as gif:
        assert gif.format == "GIF"
        for index in range(gif.n_frames):
            gif.seek(index)
            out = io.BytesIO()
            gif.convert("RGB").save(out, format="PNG")
            frames.append(out.getvalue())
    return frames


def crop_to_aspect(image: bytes, aspect: tuple[int, int]) -> bytes:
    """The top part of `image` with the aspect ratio `aspect` (drops a caption strip below it)."""
    with Image.open(io.BytesIO(image)) as picture:
        width = picture.width
        height = min(picture.height, round(width * aspect[1] / aspect[0]))
        out = io.BytesIO()
        picture.convert("RGB").crop((0, 0, width, height)).save(out, format="PNG")
        return out.getvalue()


def same_pixels(first: bytes, second: bytes) -> bool:
    """Whether two encoded images decode to exactly the same size and RGBA pixels."""
    with Image.open(io.BytesIO(first)) as a, Image.open(io.BytesIO(second)) as b:
        return a.size == b.size and a.convert("RGBA").tobytes() == b.convert("RGBA").tobytes()
