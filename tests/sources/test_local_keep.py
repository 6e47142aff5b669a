"""`browser-use-tasks-mcp keep` and the plain-Python lines of docs/local-runs.md: a run kept whole.

Both start from what browser-use leaves behind (a history whose screenshots are in the agent's
temp folder, the GIF, conversation logs and videos elsewhere) and must give a run folder the
server reads with every screenshot, after the temp folder is gone.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.helpers import REPO, call_ok, client_for, local_settings, server_env, text_of

pytestmark = pytest.mark.anyio

SAMPLE = BUNDLED_RUNS_DIR / "order-blue-widget"
AGENT = "browser_use_agent_06b02d83-2738-72bf-8000-baeec3c36fbe_1795348530"


def left_behind(tmp_path: Path) -> tuple[Path, Path]:
    """A saved history in `saved/` with its pieces where browser-use leaves them; (history, agent folder)."""
    agent = tmp_path / "bu-tmp" / AGENT
    shutil.copytree(SAMPLE / "screenshots", agent / "screenshots")
    (agent / "browseruse_agent_data").mkdir()
    (agent / "browseruse_agent_data" / "todo.md").write_text("- [x] order\n", encoding="utf-8")
    doc: dict[str, Any] = json.loads((SAMPLE / "AgentHistory.json").read_text(encoding="utf-8"))
    for item in doc["history"]:
        ref = item["state"].get("screenshot_path")
        if ref:
            item["state"]["screenshot_path"] = str(agent / "screenshots" / Path(ref).name)
    saved = tmp_path / "saved"
    saved.mkdir()
    history = saved / "AgentHistory.json"
    history.write_text(json.dumps(doc), encoding="utf-8")
    shutil.copyfile(SAMPLE / "agent_history.gif", saved / "agent_history.gif")
    shutil.copytree(SAMPLE / "conversation", saved / "conversation")
    shutil.copytree(SAMPLE / "video", saved / "video")
    return history, agent


def run_keep(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "browser_use_tasks_mcp", "keep", *args],
        capture_output=True,
        text=True,
        env=server_env(),
        timeout=60,
        check=False,
    )


async def assert_whole(runs: Path, run_id: str) -> None:
    async with client_for(local_settings(runs)) as client:
        task = await call_ok(client, "get_task", {"task_id": run_id})
        shots = await call_ok(client, "list_screenshots", {"task_id": run_id})
        media = await call_ok(client, "get_media", {"task_id": run_id})
    assert "Screenshots missing" not in text_of(task), text_of(task)
    assert len(shots.structured_content["screenshots"]) == 6  # type: ignore[index]
    found = media.structured_content
    assert found["source_gif"] is not None  # type: ignore[index]
    assert len(found["conversations"]) == 7 and len(found["recordings"]) == 1  # type: ignore[index]


async def test_keep_command_makes_a_self_contained_run_folder(tmp_path: Path) -> None:
    history, agent = left_behind(tmp_path)
    (agent / "screenshots" / "step_7.png").unlink()  # one the OS already cleaned up
    runs = tmp_path / "runs"
    completed = await anyio.to_thread.run_sync(
        lambda: run_keep(str(history), "--runs-dir", str(runs), "--name", "blue order")
    )
    assert completed.returncode == 0, completed.stderr
    folder = runs / "blue order"
    assert f"Kept the run in {folder.resolve()}" in completed.stdout
    assert re.search(r"Not found: screenshot .*step_7\.png", completed.stdout), completed.stdout
    assert (folder / "browseruse_agent_data" / "todo.md").is_file()
    kept = json.loads((folder / "AgentHistory.json").read_text(encoding="utf-8"))
    paths = [item["state"]["screenshot_path"] for item in kept["history"]]
    assert paths[1] == str((folder / "screenshots" / "step_2.png").resolve())
    shutil.rmtree(agent)  # the temp folder is gone: the run folder still has everything it copied
    async with client_for(local_settings(runs)) as client:
        task = await call_ok(client, "get_task", {"task_id": "blue order"})
        media = await call_ok(client, "get_media", {"task_id": "blue order"})
    notes = task.structured_content["task"]["notes"]  # type: ignore[index]
    assert "Screenshots missing on disk for steps 7." in notes
    assert media.structured_content["source_gif"] is not None  # type: ignore[index]
    assert any(f["name"] == "todo.md" for f in media.structured_content["output_files"])  # type: ignore[index]

    again = await anyio.to_thread.run_sync(
        lambda: run_keep(str(history), "--runs-dir", str(runs), "--name", "blue order")
    )
    assert again.returncode == 0 and "blue order-2" in again.stdout


def test_keep_refuses_a_file_that_is_not_a_history(tmp_path: Path) -> None:
    bad = tmp_path / "notes.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    from browser_use_tasks_mcp.cli import main

    assert main(["keep", str(bad), "--runs-dir", str(tmp_path / "runs")]) == 1
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


async def test_docs_snippet_keeps_a_run_without_this_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (REPO / "docs" / "local-runs.md").read_text(encoding="utf-8")
    snippet = doc.split("<!-- keep-snippet -->", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert "browser_use_tasks_mcp" not in snippet
    history, agent = left_behind(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copyfile(SAMPLE / "agent_history.gif", work / "agent_history.gif")

    class Agent:  # what the snippet uses of browser-use's Agent
        def save_history(self, path: Path) -> None:
            shutil.copyfile(history, path)

    monkeypatch.chdir(work)
    exec(compile(snippet, "docs/local-runs.md", "exec"), {"agent": Agent()})
    run = work / "browser-use-runs" / "my-run"
    # The lines themselves copy history, screenshots and GIF; conversation and video go there
    # directly when the script passes the run folder to Agent(...), as the page says.
    shutil.copytree(SAMPLE / "conversation", run / "conversation")
    shutil.copytree(SAMPLE / "video", run / "video")
    shutil.rmtree(agent)
    await assert_whole(work / "browser-use-runs", "my-run")
