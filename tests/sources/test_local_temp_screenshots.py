"""Screenshots browser-use left in its agent temp folder: served only in exactly that shape.

browser-use writes `<temp>/browser_use_agent_<id>_<time>/screenshots/step_N.png` and records that
absolute path in `state.screenshot_path`. Those files are served when the temp folder is the
system's (`tempfile.gettempdir()`) or one named in BROWSER_USE_SCREENSHOT_DIRS; nothing else
outside the runs folder becomes readable.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from mcp_types import BlobResourceContents

from browser_use_tasks_mcp.config import settings_from_env
from browser_use_tasks_mcp.errors import FetchRefusedError, NotFoundError
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.models import Screenshot
from browser_use_tasks_mcp.sources.local import LocalRunsSource
from tests.helpers import call_ok, client_for, images_of, local_settings, text_of

pytestmark = pytest.mark.anyio

SAMPLE = BUNDLED_RUNS_DIR / "order-blue-widget"
AGENT = "browser_use_agent_06b02d83-2738-72bf-8000-baeec3c36fbe_1795348530"
PNG = (SAMPLE / "screenshots" / "step_2.png").read_bytes()


@pytest.fixture
def system_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private system temp folder: what tempfile.gettempdir() answers (TMPDIR, /tmp, ...)."""
    temp = tmp_path / "systemp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp


def sample_run(runs: Path, name: str, temp: Path) -> Path:
    """The real sample run, its screenshots left only where browser-use put them: in `temp`."""
    doc: dict[str, Any] = json.loads((SAMPLE / "AgentHistory.json").read_text(encoding="utf-8"))
    for item in doc["history"]:
        ref = item["state"].get("screenshot_path")
        if ref:
            item["state"]["screenshot_path"] = str(temp / AGENT / "screenshots" / Path(ref).name)
    folder = runs / name
    folder.mkdir(parents=True)
    (folder / "AgentHistory.json").write_text(json.dumps(doc), encoding="utf-8")
    shots = temp / AGENT / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for png in (SAMPLE / "screenshots").iterdir():
        shutil.copyfile(png, shots / png.name)
    return shots


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder


async def test_screenshot_in_system_temp_folder_is_served(runs: Path, system_temp: Path) -> None:
    shots = sample_run(runs, "blue", system_temp)
    async with client_for(local_settings(runs)) as client:
        task = await call_ok(client, "get_task", {"task_id": "blue"})
        step = await call_ok(client, "get_step", {"task_id": "blue", "step": 2, "include_screenshot": True})
        full = await client.read_resource("browser-use://tasks/blue/screenshots/3/full")
        listed = await call_ok(client, "list_screenshots", {"task_id": "blue"})
    assert "Screenshots missing" not in text_of(task)
    assert len(images_of(step)) == 1, text_of(step)
    shot = step.structured_content["step"]["screenshot"]  # type: ignore[index]
    assert shot["path"] == str((shots / "step_2.png").resolve())
    blob = full.contents[0]
    assert isinstance(blob, BlobResourceContents) and blob.blob
    assert len(listed.structured_content["screenshots"]) == 6  # type: ignore[index]


async def test_screenshot_dirs_setting_adds_a_folder(runs: Path, system_temp: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "bu-tmp"
    elsewhere.mkdir()
    sample_run(runs, "blue", elsewhere)
    async with client_for(local_settings(runs)) as client:
        before = await call_ok(client, "get_step", {"task_id": "blue", "step": 2, "include_screenshot": True})
        task = await call_ok(client, "get_task", {"task_id": "blue"})
    assert images_of(before) == []
    notes = task.structured_content["task"]["notes"]  # type: ignore[index]
    assert any(str(elsewhere / AGENT) in n and "BROWSER_USE_SCREENSHOT_DIRS" in n for n in notes), notes
    async with client_for(local_settings(runs, screenshot_dirs=(elsewhere,))) as client:
        after = await call_ok(client, "get_step", {"task_id": "blue", "step": 2, "include_screenshot": True})
    assert len(images_of(after)) == 1


def test_screenshot_dirs_setting_is_read_from_the_environment(tmp_path: Path) -> None:
    import os

    value = os.pathsep.join([str(tmp_path / "a"), " ", str(tmp_path / "b")])
    settings = settings_from_env({"BROWSER_USE_SCREENSHOT_DIRS": value})
    assert settings.screenshot_dirs == (tmp_path / "a", tmp_path / "b")
    assert settings_from_env({}).screenshot_dirs == ()


async def test_gone_temp_folder_says_where_and_how_to_keep(runs: Path, system_temp: Path) -> None:
    shots = sample_run(runs, "blue", system_temp)
    shutil.rmtree(shots.parent)
    async with client_for(local_settings(runs)) as client:
        task = await call_ok(client, "get_task", {"task_id": "blue"})
    notes = task.structured_content["task"]["notes"]  # type: ignore[index]
    assert "Screenshots missing on disk for steps 2, 3, 4, 5, 6, 7." in notes
    assert any(str(system_temp / AGENT) in n for n in notes), notes
    assert any("browser-use-tasks-mcp keep" in n and "docs/local-runs.md" in n for n in notes), notes
    assert "browser-use-tasks-mcp keep" in text_of(task)


async def test_symlink_out_of_the_agent_folder_is_not_served(
    runs: Path, system_temp: Path, tmp_path: Path
) -> None:
    shots = sample_run(runs, "blue", system_temp)
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    (shots / "step_2.png").unlink()
    (shots / "step_2.png").symlink_to(secret)
    # The whole agent folder a link to a folder outside: not served either.
    (tmp_path / "outside" / "screenshots").mkdir(parents=True)
    shutil.copyfile(
        SAMPLE / "screenshots" / "step_3.png", tmp_path / "outside" / "screenshots" / "step_3.png"
    )
    linked_agent = "browser_use_agent_0000-1111_1795348531"
    (system_temp / linked_agent).symlink_to(tmp_path / "outside", target_is_directory=True)
    doc = json.loads((runs / "blue" / "AgentHistory.json").read_text(encoding="utf-8"))
    doc["history"][2]["state"]["screenshot_path"] = str(
        system_temp / linked_agent / "screenshots" / "step_3.png"
    )
    (runs / "blue" / "AgentHistory.json").write_text(json.dumps(doc), encoding="utf-8")

    async with client_for(local_settings(runs)) as client:
        task = await call_ok(client, "get_task", {"task_id": "blue"})
        step2 = await call_ok(client, "get_step", {"task_id": "blue", "step": 2, "include_screenshot": True})
    assert "Screenshots missing on disk for steps 2, 3." in task.structured_content["task"]["notes"]  # type: ignore[index]
    assert images_of(step2) == []
    source = LocalRunsSource(runs)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(Screenshot(step=2, path=str(shots / "step_2.png")), max_bytes=10**7)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(
            Screenshot(step=3, path=str(system_temp / linked_agent / "screenshots" / "step_3.png")),
            max_bytes=10**7,
        )


async def test_non_image_of_the_right_shape_is_not_served(runs: Path, system_temp: Path) -> None:
    shots = sample_run(runs, "blue", system_temp)
    (shots / "step_4.png").write_text("not an image: a secret\n", encoding="utf-8")
    async with client_for(local_settings(runs)) as client:
        task = await call_ok(client, "get_task", {"task_id": "blue"})
        step = await call_ok(client, "get_step", {"task_id": "blue", "step": 4, "include_screenshot": True})
    assert "Screenshots missing on disk for steps 4." in task.structured_content["task"]["notes"]  # type: ignore[index]
    assert images_of(step) == [] and "secret" not in text_of(step)
    with pytest.raises(FetchRefusedError):
        await LocalRunsSource(runs).read_bytes(
            Screenshot(step=4, path=str(shots / "step_4.png")), max_bytes=10**6
        )


async def test_right_shape_outside_the_allowed_folders_is_not_served(
    runs: Path, system_temp: Path, tmp_path: Path
) -> None:
    other = tmp_path / "not-temp"
    other.mkdir()
    shots = sample_run(runs, "blue", other)
    async with client_for(local_settings(runs)) as client:
        step = await call_ok(client, "get_step", {"task_id": "blue", "step": 2, "include_screenshot": True})
    assert images_of(step) == []
    source = LocalRunsSource(runs)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(Screenshot(step=2, path=str(shots / "step_2.png")), max_bytes=10**7)
    # Nested deeper than directly in the allowed folder: not that shape.
    deeper = system_temp / "x" / AGENT / "screenshots"
    deeper.mkdir(parents=True)
    (deeper / "step_2.png").write_bytes(PNG)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(Screenshot(step=2, path=str(deeper / "step_2.png")), max_bytes=10**7)
    # Any other absolute path is refused as before, before any I/O.
    for path in (
        "/etc/passwd",
        str(system_temp / AGENT / "screenshots" / "notes.txt"),
        str(system_temp / AGENT / "screenshots" / ".." / "screenshots" / "step_2.png"),
    ):
        with pytest.raises(FetchRefusedError):
            await source.read_bytes(Screenshot(step=2, path=path), max_bytes=10**7)


async def test_deleted_temp_screenshot_read_is_not_found(runs: Path, system_temp: Path) -> None:
    shots = sample_run(runs, "blue", system_temp)
    source = LocalRunsSource(runs)
    (shots / "step_5.png").unlink()
    with pytest.raises(NotFoundError):
        await source.read_bytes(Screenshot(step=5, path=str(shots / "step_5.png")), max_bytes=10**7)
