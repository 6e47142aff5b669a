"""Runs where users keep them: project folders, and folder names with spaces, `:`, `+`, `@`, `#`
and non-ASCII letters. Every id a listing shows works in every tool and resource URI; `check`
with no run found fails and says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mcp_types import BlobResourceContents, TextResourceContents

from browser_use_tasks_mcp import uris
from browser_use_tasks_mcp.check import run_check
from browser_use_tasks_mcp.errors import InvalidInputError
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.sources.local import LocalRunsSource
from tests.helpers import call_error, call_ok, client_for, images_of, local_settings, text_of

pytestmark = pytest.mark.anyio

SAMPLE = BUNDLED_RUNS_DIR / "order-blue-widget"
IDS = [
    "project-a/run-1",
    "project-a/run 2: retry+ada@café",
    "Order #12 (retry) ünïcode",
    "clients/acme/2024-05-01 12:30",
]


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    for run_id in IDS:
        shutil.copytree(SAMPLE, folder / run_id)
        (folder / run_id / "report.txt").write_text(f"report of {run_id}\n", encoding="utf-8")
    # Four levels deep: beyond what is searched.
    shutil.copytree(SAMPLE, folder / "a" / "b" / "c" / "d")
    return folder


async def test_nested_and_oddly_named_runs_are_listed(runs: Path) -> None:
    async with client_for(local_settings(runs)) as client:
        listing = await call_ok(client, "list_tasks", {"page_size": 50})
    listed = [item["id"] for item in listing.structured_content["page"]["items"]]  # type: ignore[index]
    assert sorted(listed) == sorted(IDS)


@pytest.mark.parametrize("run_id", IDS)
async def test_every_tool_and_resource_takes_a_listed_id(runs: Path, run_id: str) -> None:
    async with client_for(local_settings(runs)) as client:
        task = await call_ok(client, "get_task", {"task_id": run_id})
        assert task.structured_content["task"]["id"] == run_id  # type: ignore[index]
        step = await call_ok(client, "get_step", {"task_id": run_id, "step": 3, "include_screenshot": True})
        assert len(images_of(step)) == 1, text_of(step)
        shots = await call_ok(client, "list_screenshots", {"task_id": run_id})
        assert len(shots.structured_content["screenshots"]) == 6  # type: ignore[index]
        media = await call_ok(client, "get_media", {"task_id": run_id})
        assert media.structured_content["source_gif"] is not None  # type: ignore[index]
        await call_ok(client, "get_gif", {"task_id": run_id})
        report = await call_ok(client, "get_output_file", {"task_id": run_id, "file": "report.txt"})
        assert f"report of {run_id}" in text_of(report)
        await call_ok(client, "wait_for_task", {"task_id": run_id, "timeout_s": 1})

        # Every URI the results hand out, and every template, read back.
        uri_list = [
            task.structured_content["steps"][2]["screenshot_uri"],  # type: ignore[index]
            uris.steps_log(run_id),
            uris.steps_log_from(run_id, 2),
            uris.step(run_id, 3),
            uris.gif(run_id),
            uris.conversation(run_id, 3),
            uris.screenshot(run_id, 3),
            uris.screenshot(run_id, 3) + "/full",
            uris.output_file(run_id, "report.txt"),
        ]
        for uri in uri_list:
            assert "/" not in uri[len(uris.PREFIX) + 1 :].split("/", 1)[0]
            read = await client.read_resource(uri)
            content = read.contents[0]
            if isinstance(content, TextResourceContents):
                assert content.text, uri
            else:
                assert isinstance(content, BlobResourceContents) and content.blob, uri
        templates = await client.list_resource_templates()
        assert templates.resource_templates


async def test_ids_that_could_escape_are_still_refused(runs: Path) -> None:
    source = LocalRunsSource(runs)
    for bad in [
        "../runs",
        "project-a/../..",
        "/etc",
        "project-a//run-1",
        "a/.hidden",
        "a\\b",
        "x%2f..",
        "C:x",
    ]:
        with pytest.raises(InvalidInputError):
            source.validate_task_id(bad)
    async with client_for(local_settings(runs)) as client:
        text = await call_error(client, "get_task", {"task_id": "project-a/../../etc"})
        assert "not a run id" in text
        deep = await call_error(client, "get_task", {"task_id": "a/b/c/d"})
        assert "3 deep" in deep


def check_output(runs: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run_check(local_settings(runs))
    return code, capsys.readouterr().out


def test_check_passes_on_nested_runs(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check_output(runs, capsys)
    assert code == 0 and "listed tasks (4 in total)" in out, out


def test_check_fails_on_an_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check_output(tmp_path, capsys)
    assert code == 1 and "FAIL: no runs found" in out and "is empty" in out, out


def test_check_explains_runs_nested_too_deep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(SAMPLE, tmp_path / "w" / "x" / "y" / "z")
    code, out = check_output(tmp_path, capsys)
    assert code == 1 and "deeper than the 3 folder levels" in out and "w/x/y/z/AgentHistory.json" in out, out


def test_check_explains_folders_without_history(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(SAMPLE / "screenshots", tmp_path / "run-1" / "screenshots")
    (tmp_path / "run-2").mkdir()
    code, out = check_output(tmp_path, capsys)
    assert code == 1 and "hold no history file" in out and "save_history" in out, out


def test_check_explains_files_that_are_not_histories(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "run-1").mkdir()
    (tmp_path / "run-1" / "settings.json").write_text('{"model": "x"}', encoding="utf-8")
    (tmp_path / "notes.json").write_text("[1, 2]", encoding="utf-8")
    code, out = check_output(tmp_path, capsys)
    assert code == 1 and "not browser-use histories" in out and "WARN:" in out, out
