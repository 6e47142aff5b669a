"""The run viewer in a real headless Chromium, fed by the real server, for every source.

`tests/node/viewer_host.mjs` plays the host side of MCP Apps: the official ext-apps `AppBridge`
answers the viewer's `ui/initialize`, sends it `get_task`'s result, and forwards its `tools/call`
to the server (started over stdio, on the bundled runs or the Cloud emulator). This test reads
what the viewer showed: one row per step, the first failing step selected, its screenshot loaded
through one bridge call, the keyboard loading the next step's, a hostile page title as text, and
no request from Chromium at all.

PNGs of the viewer go to `tests/output/viewer/` (or `$VIEWER_PNG_DIR`; CI points it at the
checkout it was started from, see `.ci/run`). Needs Node.js 20+, `npm ci --prefix tests/node` and
Debian's `chromium` at /usr/bin/chromium (or `$CHROMIUM`); without Chromium the test skips,
except under CI (`CI` set), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.emulator import (
    CREATED_TASK,
    FAILED_TASK,
    FILES_TASK,
    HUNDRED_STEP_TASK,
    NAMED_V2_TASKS,
    NO_SCREENSHOTS_TASK,
    UNTRUSTED_CONTENT_TASK,
    V1_ONLY_TASKS,
    Emulator,
)
from tests.helpers import REPO, server_env
from tests.tools.common import AUTO_OWNERS, LOCAL_RUNS

NODE_DIR = REPO / "tests" / "node"
NODE = shutil.which("node")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PNG_DIR = Path(os.environ.get("VIEWER_PNG_DIR") or REPO / "tests" / "output" / "viewer")
HOSTILE_RUN = "hostile-title"
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=true"><b>Bold</b><script>window.__pwned=true</script>'
#: Tasks whose every step has a screenshot the viewer must show.
WITH_SCREENSHOTS = {*LOCAL_RUNS, HOSTILE_RUN, FAILED_TASK}
#: The 500-step task is left to the protocol test (`tests/tools/test_run_viewer.py`): time, not coverage.
CLOUD_TASKS = {
    name: task for name, task in NAMED_V2_TASKS.items() if name not in {"LONG_TASK", "HUNDRED_STEP_TASK"}
}


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must install it: see .ci/run)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def harness() -> Path:
    if not Path(CHROMIUM).is_file():
        _missing(f"Chromium is not installed at {CHROMIUM}: `apt-get install chromium`")
    if NODE is None:
        _missing("Node.js is not installed")
    if not (NODE_DIR / "node_modules" / "playwright-core").is_dir():
        _missing("tests/node/node_modules is missing: run `npm ci --prefix tests/node`")
    return NODE_DIR / "viewer_host.mjs"


def run_viewer(harness: Path, tmp_path: Path, env: dict[str, str], tasks: list[dict[str, Any]]) -> list[Any]:
    spec = {
        "command": sys.executable,
        "args": ["-m", "browser_use_tasks_mcp"],
        "env": env,
        "chromium": CHROMIUM,
        "out": str(PNG_DIR),
        "tasks": tasks,
    }
    spec_file = tmp_path / "viewer-spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    done = subprocess.run(
        [str(NODE), str(harness), str(spec_file)], capture_output=True, text=True, timeout=600, cwd=REPO
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output (exit {done.returncode}); stderr:\n{done.stderr[-3000:]}"
    summary: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0 and "error" not in summary, json.dumps(summary)[:4000]
    assert (
        summary["resource"]["uri"]
        == summary["resource"]["flatUri"]
        == "ui://browser-use-tasks/run-viewer.html"
    )
    assert all(domains == [] for domains in summary["resource"]["meta"]["ui"]["csp"].values())
    shown: list[Any] = summary["tasks"]
    for task in shown:
        if task.get("png"):
            print(f"viewer PNG: {task['png']}")
    return shown


def check_shown(task: dict[str, Any]) -> None:
    """What every task's viewer must show, against the result the host fed it."""
    label = task["id"]
    # Nothing but the bridge: Chromium requested nothing, and the page raised nothing.
    assert task["requests"] == [], label
    assert task["pageErrors"] == [], label
    assert task["state"] == "ready" and not task["fed"]["isError"], (label, task["notice"])
    step_count, failing = task["fed"]["step_count"], task["fed"]["failing_steps"]
    assert task["rows"] == step_count, label
    if step_count == 0:
        assert task["bridgeCalls"] == [] and "no steps" in task["notice"], label
        return
    assert task["errorRows"] == failing, label
    assert task["overflowX"] <= 0, (label, "wider than its frame")
    selected = failing[0] if failing else step_count
    assert task["selected"] == selected and task["ariaSelected"] == [selected], label
    # One step's details and screenshot, through one bridge call, not all steps at once.
    assert task["callsAfterFirst"] == 1, label
    assert task["bridgeCalls"][0] == {
        "method": "tools/call",
        "name": "get_step",
        "arguments": {"task_id": label, "step": selected, "include_screenshot": True},
    }
    assert task["first"]["heading"] == f"Step {selected}"
    views = [task["first"]]
    if step_count > 1:
        # The keyboard moves to the next step (the previous one from the last) and loads only it.
        moved = task["moved"]
        assert (
            moved["selected"] == moved["expected"] and moved["view"]["heading"] == f"Step {moved['expected']}"
        )
        assert task["bridgeCalls"][1]["arguments"]["step"] == moved["expected"], label
        views.append(moved["view"])
    assert task["callsBeforeMedia"] == len(views), label
    if label in WITH_SCREENSHOTS:
        for view in views:
            shot = view["screenshot"]
            assert shot is not None and shot["scheme"] == "data", (label, view)
            assert shot["width"] > 100 and shot["height"] > 100, (label, view)
            assert shot["fits"], (label, "screenshot cropped by its box")
    # Nothing the server sent became markup or ran.
    assert task["injected"] == 0 and task["pwned"] is False, label


def test_every_local_run_in_the_viewer(harness: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(BUNDLED_RUNS_DIR, runs)
    _hostile_copy(runs / "red-gadget-expired-coupon", runs / HOSTILE_RUN)
    tasks: list[dict[str, Any]] = [
        {"id": "red-gadget-expired-coupon", "png": "local-red-gadget-expired-coupon.png", "media": True},
        {
            "id": "order-blue-widget",
            "png": "local-order-blue-widget-narrow-dark.png",
            "width": 380,
            "theme": "dark",
        },
        # A host that passes its own colours (standard style variables), in light-dark() form.
        {
            "id": "trade-login-max-steps",
            "switchTheme": True,
            "styles": {"--color-background-primary": "light-dark(rgb(250, 249, 245), rgb(38, 38, 36))"},
        },
        {"id": HOSTILE_RUN},
    ]
    env = server_env(BROWSER_USE_SOURCE="local", BROWSER_USE_RUNS_DIR=str(runs))
    shown = {t["id"]: t for t in run_viewer(harness, tmp_path, env, tasks)}
    assert set(shown) == {t["id"] for t in tasks}
    for task in shown.values():
        check_shown(task)
    failed = shown["red-gadget-expired-coupon"]
    assert failed["rows"] == 7 and failed["selected"] == 3 and failed["errorRows"] == [3, 4, 5]
    assert {"failed", "agent: failed", "judge: fail", "local", "7 steps"} <= set(failed["badges"])
    assert {"Memory", "Next goal", "Actions", "Errors", "Tabs"} <= set(failed["first"]["sections"])
    assert {t["theme"] for t in shown.values()} == {"light", "dark"}
    assert shown["order-blue-widget"]["background"] != failed["background"]  # the dark theme applied
    assert shown["trade-login-max-steps"]["switchedTo"] == "dark"
    # The host's light-dark() colour follows the theme.
    assert shown["trade-login-max-steps"]["background"] == "rgb(250, 249, 245)"
    assert shown["trade-login-max-steps"]["backgroundAfterSwitch"] == "rgb(38, 38, 36)"
    # Nothing wider than a narrow chat column, and nothing wider than a wide one.
    assert all(t["overflowX"] <= 0 for t in shown.values()), {t["id"]: t["overflowX"] for t in shown.values()}
    # The run's own GIF and its recording, loaded only when asked for, as resources through the bridge.
    media = failed["media"]
    assert media["gif"] is not None and media["gif"]["width"] > 100, media
    assert len(media["recordings"]) == 1 and ".mp4" in media["recordings"][0], media
    # The recording plays from the bytes read through the bridge (a data: URL, nothing fetched).
    video = media["video"]
    assert video is not None and video["played"] and video["scheme"] == "data"
    assert video["duration"] > 1 and video["width"] > 100
    calls = failed["bridgeCalls"][2:]
    assert [c.get("name") or c["uri"] for c in calls] == [
        "get_media",
        "browser-use://tasks/red-gadget-expired-coupon/gif",
        "browser-use://tasks/red-gadget-expired-coupon/recordings/06b02dba-72bc-7ae4-8000-1b4140d6bd88.mp4",
    ]
    # The hostile title is shown as the very text it is; the timeline and details hold no markup.
    hostile = shown[HOSTILE_RUN]
    assert any(HOSTILE_TITLE in text for text in hostile["pageTitles"]), hostile["pageTitles"]
    for name in ("local-red-gadget-expired-coupon.png", "local-order-blue-widget-narrow-dark.png"):
        assert (PNG_DIR / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("version", ["v2", "v1", "v3", "v4", "auto"])
def test_every_cloud_task_in_the_viewer(
    version: str, harness: Path, tmp_path: Path, fresh_emulator: Emulator
) -> None:
    emu = fresh_emulator
    assert emu.base_url
    if version == "auto":
        emu.owners.update(AUTO_OWNERS)  # each task in one generation, as on a real account
        url = emu.base_url
    else:
        url = {"v1": emu.v1_url, "v2": emu.v2_url, "v3": emu.v3_url, "v4": emu.v4_url}[version]
    ids = list(CLOUD_TASKS.values()) + (list(V1_ONLY_TASKS.values()) if version == "v1" else [])
    if version == "v2":
        ids.append(HUNDRED_STEP_TASK)
    tasks: list[dict[str, Any]] = [
        {
            "id": task_id,
            "png": f"cloud-{version}-failed.png" if task_id == FAILED_TASK else None,
            "media": task_id in {FAILED_TASK, FILES_TASK},
        }
        for task_id in ids
    ]
    env = server_env(
        BROWSER_USE_API_KEY=emu.api_key, BROWSER_USE_BASE_URL=url, BROWSER_USE_API_VERSION=version
    )
    shown = {t["id"]: t for t in run_viewer(harness, tmp_path, env, tasks)}
    assert set(shown) == set(ids)
    for task in shown.values():
        check_shown(task)
    assert shown[CREATED_TASK]["rows"] == 0
    assert shown[FAILED_TASK]["errorRows"], "the failed task shows its failing step"
    assert shown[NO_SCREENSHOTS_TASK]["first"]["screenshot"] is None
    assert "No screenshot" in shown[NO_SCREENSHOTS_TASK]["first"]["status"]
    assert shown[UNTRUSTED_CONTENT_TASK]["injected"] == 0
    # A GIF for the failed task: the source's own, or assembled from its screenshots.
    media = shown[FAILED_TASK]["media"]
    assert media["gif"] is not None and media["gif"]["width"] > 100 and media["gif"]["scheme"] == "data", (
        media
    )
    # The emulator's recording is a stub (a valid header, no frames): the viewer says it cannot play it.
    recorded = shown[FILES_TASK]["media"]
    assert recorded["recordings"] and recorded["video"] is not None and not recorded["video"]["played"], (
        recorded
    )
    assert (PNG_DIR / f"cloud-{version}-failed.png").is_file()
    if version == "v2":
        assert shown[HUNDRED_STEP_TASK]["rows"] == 100


def _hostile_copy(source: Path, target: Path) -> None:
    """The failed run again, every page and tab title replaced by markup that would run if parsed."""
    shutil.copytree(source, target)
    history_file = target / "AgentHistory.json"
    history = json.loads(history_file.read_text(encoding="utf-8"))

    def retitle(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "title" and isinstance(value, str):
                    node[key] = HOSTILE_TITLE
                else:
                    retitle(value)
        elif isinstance(node, list):
            for item in node:
                retitle(item)

    retitle(history["history"])
    history_file.write_text(json.dumps(history), encoding="utf-8")
