"""Odd but valid data on disk: nothing in a run folder may stop the server or hide what it holds.

Each test builds a run folder the way browser-use writes one (history, screenshots, media),
with one oddity, and asks for it through a real in-process MCP client. Every one of them
failed on 0.1.0 (the issue's numbers in brackets).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import tracemalloc
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from mcp_types import TextResourceContents

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.sources.local import LocalRunsSource
from tests.helpers import call_ok, client_for, local_settings, text_of

pytestmark = pytest.mark.anyio

SAMPLE = BUNDLED_RUNS_DIR / "order-blue-widget"
MB = 1024 * 1024


def history_item(number: int, **fields: Any) -> dict[str, Any]:
    """One history item in browser-use 0.13's shape; `fields` override parts of it."""
    item: dict[str, Any] = {
        "model_output": {
            "evaluation_previous_goal": "Success",
            "memory": f"memory {number}",
            "next_goal": f"goal {number}",
            "action": [{"click": {"index": number}}],
        },
        "result": [{"is_done": False, "extracted_content": f"clicked {number}"}],
        "state": {"url": f"http://127.0.0.1/{number}", "title": "page", "screenshot_path": None},
        "metadata": {
            "step_number": number,
            "step_start_time": 1000.0 + number,
            "step_end_time": 1000.5 + number,
        },
    }
    item.update(fields)
    return item


def write_run(root: Path, name: str, items: list[Any]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "AgentHistory.json").write_text(json.dumps({"history": items}), encoding="utf-8")
    return folder


def code_spans(text: str) -> list[str]:
    """The contents of the single-backtick code spans on `- ` list lines, as a model reads them."""
    return [m.group(1) for m in re.finditer(r"^- `([^`]*)`", text, re.M)]


ODD_NAMES = [
    "100%.txt",
    "what?.txt",
    "#tag.txt",
    "tab\there.txt",
    "new\nline.txt",
    " leading.txt",
    unicodedata.normalize("NFD", "café.txt"),
    "my_results.csv",
]


async def test_every_listed_output_file_can_be_fetched_by_the_name_shown(tmp_path: Path) -> None:
    """[13, 19] Names with %, ?, #, tab, newline, a leading space, decomposed accents or markdown
    specials are listed; each can be fetched by its structured name, by the name the text shows,
    and through the resource URI the result gives."""
    folder = tmp_path / "odd-names"
    shutil.copytree(SAMPLE, folder)
    contents = {name: f"content of {name!r}".encode() for name in ODD_NAMES}
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    async with client_for(local_settings(tmp_path)) as client:
        media = await call_ok(client, "get_media", {"task_id": "odd-names"})
        listed = {f["name"]: f for f in media.structured_content["output_files"]}  # type: ignore[index]
        assert set(ODD_NAMES) <= set(listed)
        shown = code_spans(text_of(media).split("## Output files", 1)[1].split("\n## ", 1)[0])
        for name in ODD_NAMES:
            by_name = await call_ok(client, "get_output_file", {"task_id": "odd-names", "file": name})
            # Inline text is normalised (NFC) like all text a model reads; the bytes are exact.
            text = by_name.structured_content["text"]  # type: ignore[index]
            assert text == unicodedata.normalize("NFC", contents[name].decode())
            uri = by_name.structured_content["resource_uri"]  # type: ignore[index]
            read = await client.read_resource(uri)
            blob = read.contents[0]
            assert base64.b64decode(blob.blob) == contents[name]  # type: ignore[union-attr]
        for display in shown:
            result = await client.call_tool("get_output_file", {"task_id": "odd-names", "file": display})
            assert not result.is_error, f"{display!r} shown but not fetchable: {text_of(result)}"
        # A name copied with the backslash markdown escaping adds still works.
        escaped = await call_ok(
            client, "get_output_file", {"task_id": "odd-names", "file": "my\\_results.csv"}
        )
        assert escaped.structured_content["file"]["name"] == "my_results.csv"  # type: ignore[index]


async def test_recordings_are_found_in_a_run_with_thousands_of_screenshots(tmp_path: Path) -> None:
    """[12] 1,001 steps with screenshots no longer use up the scan limit before the video."""
    items = [history_item(n) for n in range(1, 1002)]
    folder = write_run(tmp_path, "long-run", items)
    shots = folder / "screenshots"
    shots.mkdir()
    png = next((SAMPLE / "screenshots").iterdir()).read_bytes()
    for n in range(1, 2002):  # more files than the old 2,000-file limit, before the video sorts
        (shots / f"step_{n}.png").write_bytes(png)
    (folder / "zz-video").mkdir()
    video = next((SAMPLE / "video").iterdir())
    shutil.copy(video, folder / "zz-video" / video.name)
    async with client_for(local_settings(tmp_path)) as client:
        media = await call_ok(client, "get_media", {"task_id": "long-run"})
    recordings = media.structured_content["recordings"]  # type: ignore[index]
    assert [r["name"] for r in recordings] == [video.name]
    assert "No video recording" not in text_of(media)


async def test_odd_single_fields_leave_the_task_readable(tmp_path: Path) -> None:
    """[11] A superscript step number, a 5,000-digit number, nesting past 255 levels and a lone
    surrogate each become 'unknown' for their field; the task and the listing still render."""
    deep: Any = "bottom"
    for _ in range(300):
        deep = {"d": deep}
    items = [
        history_item(1, metadata={"step_number": "²", "step_start_time": 1.0, "step_end_time": 2.0}),
        history_item(2),
        history_item(3),
    ]
    items[1]["model_output"]["action"] = [{"click": deep}]
    items[2]["model_output"]["memory"] = "\ud800 lone"
    folder = write_run(tmp_path, "odd-fields", items)
    raw = (folder / "AgentHistory.json").read_text()
    # A number Python refuses to read (over 4,300 digits), where a duration would be.
    raw = raw.replace('"step_end_time": 1003.5', '"step_end_time": ' + "9" * 5000, 1)
    (folder / "AgentHistory.json").write_text(raw)
    async with client_for(local_settings(tmp_path)) as client:
        task = await call_ok(client, "get_task", {"task_id": "odd-fields"})
        listing = await call_ok(client, "list_tasks", {})
        steps = {
            n: await call_ok(client, "get_step", {"task_id": "odd-fields", "step": n}) for n in (1, 2, 3)
        }
    assert task.structured_content["step_count"] == 3  # type: ignore[index]
    assert "odd-fields" in text_of(listing)
    assert steps[3].structured_content["step"]["duration_s"] is None  # type: ignore[index]
    assert "\ufffd lone" in steps[3].structured_content["step"]["memory"]  # type: ignore[index]
    assert "\ud800" not in json.dumps(steps[3].structured_content, ensure_ascii=False)
    assert "Internal error" not in text_of(task) + text_of(steps[2])


async def test_half_a_million_empty_steps_stay_bounded(tmp_path: Path) -> None:
    """[2] A 1.5 MB history of 500,000 empty steps once took 1.5 GB; steps are now capped."""
    folder = tmp_path / "many-steps"
    folder.mkdir()
    (folder / "AgentHistory.json").write_text('{"history": [' + ",".join(["{}"] * 500_000) + "]}")
    tracemalloc.start()
    try:
        async with client_for(local_settings(tmp_path)) as client:
            task = await call_ok(client, "get_task", {"task_id": "many-steps"})
            log = await client.read_resource("browser-use://tasks/many-steps/steps")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 400 * MB, f"peak {peak / MB:.0f} MiB"
    assert task.structured_content["step_count"] == 2000  # type: ignore[index]
    assert "500000 steps" in text_of(task)
    body = log.contents[0]
    assert isinstance(body, TextResourceContents)
    assert len(body.text.encode()) <= 1024 * 1024 + 4096


async def test_one_huge_step_gives_a_bounded_reply(tmp_path: Path) -> None:
    """[10] A step with a 20 MB memory and a 5 MB action once gave a reply of that size; results
    and resources now fit a budget (histories over 32 MiB are refused whole, with a reason)."""
    items = [history_item(1), history_item(2)]
    items[1]["model_output"]["memory"] = "m" * (20 * MB)
    items[1]["model_output"]["action"] = [{"input_text": {"text": "t" * (5 * MB)}}]
    write_run(tmp_path, "huge-step", items)
    async with client_for(local_settings(tmp_path)) as client:
        step = await call_ok(client, "get_step", {"task_id": "huge-step", "step": 2})
        as_json = await client.read_resource("browser-use://tasks/huge-step/steps/2")
        listing = await call_ok(client, "list_tasks", {})
    size = len(json.dumps(step.structured_content)) + len(text_of(step))
    assert size < 1024 * 1024, size
    assert step.structured_content["step"]["memory"].endswith("[cut]")  # type: ignore[index]
    body = as_json.contents[0]
    assert isinstance(body, TextResourceContents) and len(body.text) < 1024 * 1024
    assert "huge-step" in text_of(listing)


async def test_listing_many_runs_parses_each_once(tmp_path: Path) -> None:
    """[5] More than 256 runs once disabled the parse cache: every listing re-parsed every run."""
    for n in range(300):
        write_run(tmp_path, f"run-{n:03d}", [history_item(1)])
    source = LocalRunsSource(tmp_path)
    first = await source.list_tasks(status=None, page=1, page_size=10)
    parsed = source.parse_count
    second = await source.list_tasks(status=None, page=2, page_size=10)
    assert first.total_items == second.total_items == 300
    assert parsed == 300
    assert source.parse_count == parsed, "a second listing parsed histories again"


async def test_a_long_step_log_is_read_in_bounded_pages(tmp_path: Path) -> None:
    """[10] The step-log resource fits 1 MB a read and names the resource with the rest."""
    items = [history_item(n) for n in range(1, 1501)]
    for item in items:
        item["model_output"]["memory"] = "remember " * 80
        item["model_output"]["next_goal"] = "goal " * 100
    write_run(tmp_path, "long-log", items)
    seen: list[int] = []
    uri = "browser-use://tasks/long-log/steps"
    reads = 0
    async with client_for(local_settings(tmp_path)) as client:
        while uri and reads < 20:
            read = await client.read_resource(uri)
            body = read.contents[0]
            assert isinstance(body, TextResourceContents)
            assert len(body.text.encode()) <= 1024 * 1024
            seen += [int(n) for n in re.findall(r"^## Step (\d+)", body.text, re.M)]
            follow = re.search(r"follow in resource `([^`]+)`", body.text)
            uri = follow.group(1) if follow else ""
            reads += 1
    assert reads >= 2
    assert seen == list(range(1, 1501))
