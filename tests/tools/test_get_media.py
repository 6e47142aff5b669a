"""`get_media` on every source: the bundled runs, Cloud v2 and legacy v1 on the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx2
import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import FAILED_TASK, FILES_TASK, FINISHED_TASK, RUNNING_TASK, get_seed
from tests.helpers import call_ok, text_of
from tests.tools.common import (
    FAILED_RUN,
    LOCAL_RUNS,
    MAX_STEPS_RUN,
    SUCCEEDED_RUN,
    Source,
    snapshot_call,
)

pytestmark = pytest.mark.anyio
TOOL = "get_media"

SNAPSHOT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("local", "succeeded", {"task_id": SUCCEEDED_RUN}),
    ("local", "failed", {"task_id": FAILED_RUN}),
    ("local", "max-steps", {"task_id": MAX_STEPS_RUN}),
    ("v2", "finished", {"task_id": FINISHED_TASK}),
    ("v2", "failed", {"task_id": FAILED_TASK}),
    ("v2", "files", {"task_id": FILES_TASK}),
    ("v2", "running", {"task_id": RUNNING_TASK}),
    ("v1", "finished", {"task_id": FINISHED_TASK}),
    ("v1", "files", {"task_id": FILES_TASK}),
    ("v1", "running", {"task_id": RUNNING_TASK}),
]


@pytest.mark.parametrize(
    ("src", "case", "args"), SNAPSHOT_CASES, ids=[f"{s}-{c}" for s, c, _ in SNAPSHOT_CASES]
)
async def test_snapshot(
    make_source: Callable[..., Source], src: str, case: str, args: dict[str, Any]
) -> None:
    await snapshot_call(make_source(src), TOOL, args, f"{TOOL}/{src}-{case}")


def media_path(url: str) -> str:
    """The emulator media path of a presigned URL, as its registry keys it (URL-quoted)."""
    return urlsplit(url).path


@pytest.mark.parametrize("run", LOCAL_RUNS)
async def test_local_media_are_the_files_in_the_run_folder(
    make_source: Callable[..., Source], run: str
) -> None:
    folder = BUNDLED_RUNS_DIR / run
    videos = sorted((folder / "video").iterdir())
    conversations = sorted((folder / "conversation").iterdir(), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    async with make_source("local").client() as client:
        result = await call_ok(client, TOOL, {"task_id": run})
        data = result.structured_content
        assert data is not None
        read = [await client.read_resource(c["resource_uri"]) for c in data["conversations"]]
    assert [(r["name"], r["path"], r["size_bytes"], r["mime_type"]) for r in data["recordings"]] == [
        (v.name, f"{run}/video/{v.name}", v.stat().st_size, "video/mp4") for v in videos
    ]
    assert [(c["name"], c["path"], c["size_bytes"]) for c in data["conversations"]] == [
        (c.name, f"{run}/conversation/{c.name}", c.stat().st_size) for c in conversations
    ]
    assert [c["resource_uri"] for c in data["conversations"]] == [
        f"browser-use://tasks/{run}/conversations/{n}" for n in range(1, len(conversations) + 1)
    ]
    # Each conversation resource is that step's conversation file, whole.
    for resource, path in zip(read, conversations, strict=True):
        assert resource.contents[0].text == path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert data["gif_resource_uri"] == f"browser-use://tasks/{run}/gif"
    text = text_of(result)
    assert f"## Recordings ({len(videos)})" in text
    assert f"## Conversation logs ({len(conversations)})" in text


async def test_v2_recording_log_and_files_are_the_seeded_ones(make_source: Callable[..., Source]) -> None:
    source = make_source("v2")
    emu = source.emulator
    assert emu is not None
    seeded = get_seed().tasks[FILES_TASK]
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": FILES_TASK})
        log = await client.read_resource(f"browser-use://tasks/{FILES_TASK}/logs")
    data = result.structured_content
    assert data is not None
    ((recording,),) = [data["recordings"]]
    session = seeded.session_id
    assert media_path(recording["url"]) == f"/media/sessions/{session}/recording.mp4"
    # The link works and serves the recording.
    response = httpx2.get(recording["url"])
    assert response.status_code == 200
    assert response.content == emu.media[media_path(recording["url"])].produce()
    assert data["logs"][0]["resource_uri"] == f"browser-use://tasks/{FILES_TASK}/logs"
    expected_log = emu.media[f"/media/logs/{FILES_TASK}/execution.log"].produce().decode()
    assert log.contents[0].text == expected_log  # type: ignore[union-attr]
    files = data["output_files"]
    assert [f["name"] for f in files] == [f.name for f in seeded.output_files]
    for listed, file in zip(files, seeded.output_files, strict=True):
        assert unquote(media_path(listed["download_url"])) == f"/media/files/{FILES_TASK}/{file.name}"


async def test_v1_recordings_are_the_seeded_ones_with_their_types(make_source: Callable[..., Source]) -> None:
    source = make_source("v1")
    emu = source.emulator
    assert emu is not None
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": FILES_TASK})
    recordings = result.structured_content["recordings"]  # type: ignore[index]
    assert sorted((r["mime_type"], media_path(r["url"])) for r in recordings) == [
        ("video/mp4", f"/media/recordings/{FILES_TASK}/session.mp4"),
        ("video/webm", f"/media/recordings/{FILES_TASK}/screen.webm"),
    ]
    for recording in recordings:
        assert httpx2.get(recording["url"]).content == emu.media[media_path(recording["url"])].produce()


@pytest.mark.parametrize("version", ["v2", "v1"])
async def test_running_task_media(make_source: Callable[..., Source], version: str) -> None:
    async with make_source(version).client() as client:
        result = await call_ok(client, TOOL, {"task_id": RUNNING_TASK})
    data = result.structured_content
    assert data is not None
    assert data["task_status"] == "running"
    assert data["recordings"] == [] and data["output_files"] == []
    if version == "v1":
        assert any("only for completed tasks" in n for n in data["notes"])


async def test_every_source_names_the_gif_resource(source: Source) -> None:
    async with source.client() as client:
        result = await call_ok(client, TOOL, {"task_id": source.failed})
    data = result.structured_content
    assert data is not None
    assert data["task_id"] == source.failed and data["task_status"] == "failed"
    assert data["gif_resource_uri"] == f"browser-use://tasks/{source.failed}/gif"
    assert f'get_gif(task_id="{source.failed}")' in text_of(result)
