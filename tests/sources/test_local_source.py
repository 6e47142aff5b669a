"""LocalRunsSource: local runs of the open-source browser-use agent, read from a folder."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from browser_use_tasks_mcp.errors import (
    FetchRefusedError,
    InvalidInputError,
    LocalRunError,
    NotFoundError,
)
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.models import MediaItem, Screenshot, Task
from browser_use_tasks_mcp.sources.local import LocalRunsSource, map_history
from browser_use_tasks_mcp.sources.local.runs_folder import RunsFolder

RUN = "order-blue-widget"
SAMPLE_DIR = BUNDLED_RUNS_DIR / RUN
FINAL = "Order placed: 3 x Blue Widget (SKU BW-100) for Ada Lovelace. Order number: ACME-1042."
STEP3_ERROR = "Navigation failed - site unavailable: http://127.0.0.1:8766/cart.html"
PROMPT = (
    "Go to the Acme Hardware shop at http://127.0.0.1:8765/products.html, open the Blue Widget product, "
    "order 3 units for the customer 'Ada Lovelace', and report the order number shown on the "
    "confirmation page."
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """A writable runs folder holding a copy of the sample run."""
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    shutil.copytree(SAMPLE_DIR, runs_dir / RUN)
    for path in (runs_dir / RUN).rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return runs_dir


def sample_history() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SAMPLE_DIR / "AgentHistory.json").read_text(encoding="utf-8"))
    return doc


def at_path(*, name: str, path: str) -> MediaItem:
    """Something to hand to read_bytes: a file path relative to the runs folder."""
    return MediaItem(kind="output_file", name=name, path=path)


def make_step(
    number: int,
    *,
    start: float,
    results: list[dict[str, Any]] | None = None,
    actions: list[dict[str, Any]] | None = None,
    screenshot_path: str | None = None,
    url: str = "https://example.com/",
    prompt: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "model_output": {
            "evaluation_previous_goal": "ok",
            "memory": f"memory {number}",
            "next_goal": f"goal {number}",
            "action": actions if actions is not None else [{"click": {"index": number}}],
        },
        "result": results if results is not None else [{"is_done": False, "extracted_content": "clicked"}],
        "state": {"url": url, "title": "Example", "tabs": [], "screenshot_path": screenshot_path},
        "metadata": {"step_number": number, "step_start_time": start, "step_end_time": start + 1.0},
    }
    if prompt is not None:
        item["state_message"] = (
            f"<user_request>\n{prompt}\n</user_request>\n<browser_state>...</browser_state>"
        )
    return item


def write_run(runs_dir: Path, name: str, steps: list[dict[str, Any]], *, bare: bool = False) -> Path:
    doc = json.dumps({"history": steps})
    if bare:
        path = runs_dir / f"{name}.json"
    else:
        (runs_dir / name).mkdir(parents=True, exist_ok=True)
        path = runs_dir / name / "AgentHistory.json"
    path.write_text(doc, encoding="utf-8")
    return path


def done_result(text: str, success: bool | None) -> dict[str, Any]:
    return {"is_done": True, "success": success, "extracted_content": text}


async def all_ids(source: LocalRunsSource) -> list[str]:
    page = await source.list_tasks(status=None, page=1, page_size=100)
    return [item.id for item in page.items]


# --------------------------------------------------------------------------- the real sample run


@pytest.fixture
async def sample_task() -> Task:
    return await LocalRunsSource(BUNDLED_RUNS_DIR).get_task(RUN)


@pytest.mark.anyio
async def test_sample_run_final_answer_matches_browser_use(sample_task: Task) -> None:
    task = sample_task
    assert task.id == RUN
    assert task.source == "local"
    assert task.output == FINAL  # final_result()
    assert task.is_success is True  # is_successful()
    assert task.raw_status == "done"  # is_done()
    assert task.status == "finished"
    assert len(task.steps) == 7  # number_of_steps()
    assert task.task == PROMPT
    assert task.judgement is not None and task.judgement.verdict is True
    assert task.judgement.reasoning and "order number" in task.judgement.reasoning
    assert task.llm is None and task.cost_usd is None
    assert task.notes == []


@pytest.mark.anyio
async def test_sample_run_errors_only_at_step_3(sample_task: Task) -> None:
    # errors(): None for every step except step 3, which step 4 also judged failed.
    judged = f"Step 4 judged it: {sample_task.steps[3].evaluation_previous_goal}"
    assert judged.startswith("Step 4 judged it: Failed - ")
    assert [s.errors for s in sample_task.steps] == [[], [], [STEP3_ERROR, judged], [], [], [], []]


@pytest.mark.anyio
async def test_sample_run_durations_and_times(sample_task: Task) -> None:
    durations = [s.duration_s for s in sample_task.steps]
    assert all(d is not None and d >= 0 for d in durations)
    assert sum(d for d in durations if d is not None) == pytest.approx(5.46, abs=0.05)
    history = sample_history()["history"]
    first_start = history[0]["metadata"]["step_start_time"]
    last_end = history[-1]["metadata"]["step_end_time"]
    assert sample_task.created_at is not None and sample_task.created_at.tzinfo is not None
    assert sample_task.created_at.timestamp() == pytest.approx(first_start)
    assert sample_task.started_at == sample_task.created_at
    assert sample_task.finished_at is not None
    assert sample_task.finished_at.timestamp() == pytest.approx(last_end)
    for step, item in zip(sample_task.steps, history, strict=True):
        assert step.started_at is not None and step.started_at.utcoffset() is not None
        assert step.started_at.timestamp() == pytest.approx(item["metadata"]["step_start_time"])


def test_sample_screenshot_paths_do_not_exist() -> None:
    # The JSON's absolute paths point at a machine that no longer exists.
    history = sample_history()["history"]
    assert history[0]["state"]["screenshot_path"] is None
    for item in history[1:]:
        assert Path(item["state"]["screenshot_path"]).is_absolute()
        assert not Path(item["state"]["screenshot_path"]).exists()


@pytest.mark.anyio
async def test_sample_run_screenshots_resolved_into_run_folder(sample_task: Task) -> None:
    assert sample_task.steps[0].screenshot is None
    for step in sample_task.steps[1:]:
        assert step.screenshot == Screenshot(
            step=step.number, path=f"{RUN}/screenshots/step_{step.number}.png"
        )
        assert step.screenshot.resource_uri is None
    shots = await LocalRunsSource(BUNDLED_RUNS_DIR).list_screenshots(sample_task)
    assert [s.step for s in shots] == [2, 3, 4, 5, 6, 7]


@pytest.mark.anyio
async def test_sample_run_steps_match_json(sample_task: Task) -> None:
    history = sample_history()["history"]
    for step, item in zip(sample_task.steps, history, strict=True):
        assert step.number == item["metadata"]["step_number"]
        assert step.url == item["state"]["url"]
        assert step.title == item["state"]["title"]
        assert step.next_goal == item["model_output"]["next_goal"]
        assert step.evaluation_previous_goal == item["model_output"]["evaluation_previous_goal"]
        assert step.memory == item["model_output"]["memory"]
        assert step.thinking == item["model_output"]["thinking"]
    assert [[a.name for a in s.actions] for s in sample_task.steps] == [
        ["navigate"],
        ["click"],
        ["navigate"],
        ["go_back"],
        ["input", "input"],
        ["click"],
        ["done"],
    ]
    assert sample_task.steps[0].actions[0].params == {
        "url": "http://127.0.0.1:8765/products.html",
        "new_tab": False,
    }
    assert sample_task.steps[4].results == ["Typed 'Ada Lovelace'", "Typed '3'"]
    assert sample_task.steps[2].results == []
    assert sample_task.steps[6].results == [FINAL]


@pytest.mark.anyio
async def test_sample_run_listing() -> None:
    source = LocalRunsSource(BUNDLED_RUNS_DIR)
    assert source.kind == "local"
    assert str(BUNDLED_RUNS_DIR) in source.label
    page = await source.list_tasks(status=None, page=1, page_size=20)
    assert page.errors == []
    bundled = sorted(p.name for p in BUNDLED_RUNS_DIR.iterdir() if p.is_dir())
    assert page.total_items == len(bundled) and page.total_pages == 1 and not page.has_more
    assert sorted(r.id for r in page.items) == bundled
    row = next(r for r in page.items if r.id == RUN)
    assert row.status == "finished" and row.raw_status == "done"
    assert row.is_success is True and row.output == FINAL and row.step_count == 7 and row.task == PROMPT
    failed = (await source.list_tasks(status="failed", page=1, page_size=20)).items
    assert RUN not in {r.id for r in failed} and all(r.status == "failed" for r in failed)
    finished = (await source.list_tasks(status="finished", page=1, page_size=20)).items
    assert RUN in {r.id for r in finished} and all(r.status == "finished" for r in finished)


@pytest.mark.anyio
async def test_sample_run_media(sample_task: Task) -> None:
    source = LocalRunsSource(BUNDLED_RUNS_DIR)
    media = await source.get_media(sample_task)
    assert media.task_id == RUN
    assert [r.path for r in media.recordings] == [f"{RUN}/video/06b02d83-3a21-7932-8000-ac7afb6ee372.mp4"]
    assert media.recordings[0].kind == "recording" and media.recordings[0].mime_type == "video/mp4"
    assert media.recordings[0].size_bytes == (BUNDLED_RUNS_DIR / str(media.recordings[0].path)).stat().st_size
    assert len(media.conversations) == 7
    assert all(c.kind == "conversation" and c.mime_type == "text/plain" for c in media.conversations)
    assert [c.name.rsplit("_", 1)[1] for c in media.conversations] == [f"{n}.txt" for n in range(1, 8)]
    assert media.gif is not None and media.gif.path == f"{RUN}/agent_history.gif"
    assert media.gif.mime_type == "image/gif" and media.gif.size_bytes == 245998
    assert media.logs == [] and media.output_files == [] and media.notes == []
    assert await source.get_source_gif(sample_task) == media.gif
    assert await source.get_log(sample_task) is None
    assert sample_task.output_files == []


@pytest.mark.anyio
async def test_read_bytes_of_screenshot_gif_and_video(sample_task: Task) -> None:
    source = LocalRunsSource(BUNDLED_RUNS_DIR)
    shot = sample_task.steps[1].screenshot
    assert shot is not None
    data = await source.read_bytes(shot, max_bytes=1_000_000)
    assert data == (SAMPLE_DIR / "screenshots" / "step_2.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    gif = await source.get_source_gif(sample_task)
    assert gif is not None
    assert (await source.read_bytes(gif, max_bytes=1_000_000)).startswith(b"GIF8")


@pytest.mark.anyio
async def test_status_polling_uses_task() -> None:
    info = await LocalRunsSource(BUNDLED_RUNS_DIR).get_status(RUN)
    assert info.status == "finished" and info.output == FINAL and info.step_count == 7


# --------------------------------------------------------------------------- watching the folder


@pytest.mark.anyio
async def test_run_added_after_start_appears(tmp_path: Path) -> None:
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    source = LocalRunsSource(runs_dir)
    assert await all_ids(source) == []
    shutil.copytree(SAMPLE_DIR, runs_dir / RUN)
    assert await all_ids(source) == [RUN]
    assert (await source.get_task(RUN)).output == FINAL


@pytest.mark.anyio
async def test_changed_history_is_reread_and_unchanged_is_cached(runs: Path) -> None:
    source = LocalRunsSource(runs)
    await source.list_tasks(status=None, page=1, page_size=10)
    await source.get_task(RUN)
    await source.list_tasks(status=None, page=1, page_size=10)
    assert source.parse_count == 1

    history_path = runs / RUN / "AgentHistory.json"
    doc = sample_history()
    doc["history"][-1]["result"][-1]["extracted_content"] = "Order number: ACME-2000."
    doc["history"][-1]["result"][-1]["success"] = False
    history_path.write_text(json.dumps(doc), encoding="utf-8")
    stat = history_path.stat()
    os.utime(history_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))

    task = await source.get_task(RUN)
    assert task.output == "Order number: ACME-2000."
    assert task.status == "failed" and task.is_success is False
    assert source.parse_count == 2
    (row,) = (await source.list_tasks(status=None, page=1, page_size=10)).items
    assert row.status == "failed"
    assert source.parse_count == 2


@pytest.mark.anyio
async def test_listing_alone_sees_a_history_rewritten_in_place(runs: Path) -> None:
    # A warm listing reuses the rows of histories unchanged since the last scan; one rewritten in place
    # (the run folder's own modification time unchanged) is read again at the next listing.
    source = LocalRunsSource(runs)
    (row,) = (await source.list_tasks(status=None, page=1, page_size=10)).items
    assert row.status == "finished" and source.parse_count == 1
    history_path = runs / RUN / "AgentHistory.json"
    folder = os.stat(runs / RUN)
    doc = sample_history()
    doc["history"][-1]["result"][-1]["success"] = False
    history_path.write_text(json.dumps(doc), encoding="utf-8")
    stat = history_path.stat()
    os.utime(history_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    os.utime(runs / RUN, ns=(folder.st_atime_ns, folder.st_mtime_ns))

    (row,) = (await source.list_tasks(status=None, page=1, page_size=10)).items
    assert row.status == "failed" and source.parse_count == 2
    (row,) = (await source.list_tasks(status="failed", page=1, page_size=10)).items
    assert row.id == RUN and source.parse_count == 2  # unchanged since: its row is reused

    history_path.write_bytes(b'{"histo')  # now unreadable: reported, not listed from the old row
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert page.items == [] and any("not valid JSON" in e for e in page.errors)


@pytest.mark.anyio
async def test_listing_follows_the_runs_dir_link_when_it_is_retargeted(tmp_path: Path) -> None:
    # The same history file is another run id below another runs folder: pointed one level down,
    # the project's run `project/run` is `run`. Reused rows are kept per resolved runs folder.
    outer = tmp_path / "outer"
    write_run(outer / "project", "run", [make_step(1, start=1000.0, results=[done_result("ok", True)])])
    link = tmp_path / "runs"
    link.symlink_to(outer)
    source = LocalRunsSource(link)
    assert await all_ids(source) == ["project/run"]
    link.unlink()
    link.symlink_to(outer / "project")
    assert await all_ids(source) == ["run"]
    assert (await source.get_task("run")).output == "ok"


@pytest.mark.anyio
async def test_a_run_renamed_between_listings_is_listed_by_its_new_name(runs: Path) -> None:
    # The folder's names are sorted once and reused while they stay the same; a rename keeps their
    # number but not their names. Unreadable entries are reported in natural order (2 before 10).
    for name in ("broken-10", "broken-2"):
        (runs / name).mkdir()
        (runs / name / "AgentHistory.json").write_bytes(b"[1]")
    source = LocalRunsSource(runs)
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert [i.id for i in page.items] == [RUN]
    assert [e.split("'")[1] for e in page.errors] == ["broken-2", "broken-10"]
    (runs / RUN).rename(runs / "renamed")
    (runs / "broken-2").rename(runs / "broken-30")
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert [i.id for i in page.items] == ["renamed"]
    assert [e.split("'")[1] for e in page.errors] == ["broken-10", "broken-30"]


@pytest.mark.anyio
async def test_cache_is_bounded(tmp_path: Path) -> None:
    for n in range(5):
        write_run(tmp_path, f"run-{n}", [make_step(1, start=1000.0 + n)])
    source = LocalRunsSource(tmp_path, cache_size=2)
    assert len(await all_ids(source)) == 5
    assert len(source._histories) == 2


@pytest.mark.anyio
async def test_cache_keeps_one_version_of_each_history(tmp_path: Path) -> None:
    path = write_run(tmp_path, "run", [make_step(1, start=1000.0)])
    source = LocalRunsSource(tmp_path)
    for n in range(3):
        path.write_text(json.dumps({"history": [make_step(1, start=1000.0 + n)] * (n + 1)}), encoding="utf-8")
        os.utime(path, ns=(0, 10**18 + n * 10**9))
        (row,) = (await source.list_tasks(status=None, page=1, page_size=10)).items
        assert row.step_count == n + 1
    assert source.parse_count == 3
    assert len(source._histories) == 1  # older versions are dropped, not kept beside the newest


@pytest.mark.anyio
async def test_deleted_run_disappears(runs: Path) -> None:
    source = LocalRunsSource(runs)
    assert await all_ids(source) == [RUN]
    shutil.rmtree(runs / RUN)
    assert await all_ids(source) == []
    with pytest.raises(NotFoundError):
        await source.get_task(RUN)


# --------------------------------------------------------------------------- corrupt histories


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"histo', "not valid JSON (truncated?)"),  # a history begun is read (test_local_live_runs.py)
        (b"not json at all", "not valid JSON (truncated?)"),
        (b"", "empty"),
        (b"[1, 2, 3]", "not a browser-use history"),
        (b'{"history": {"a": 1}}', "not a browser-use history"),
        (b'{"steps": []}', "not a browser-use history"),
        (b"\xff\xfe\x00garbage", "not"),
    ],
)
async def test_corrupt_history_reported_not_fatal(runs: Path, content: bytes, expected: str) -> None:
    (runs / "broken").mkdir()
    (runs / "broken" / "AgentHistory.json").write_bytes(content)
    source = LocalRunsSource(runs)
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert [i.id for i in page.items] == [RUN]
    assert len(page.errors) == 1
    assert page.errors[0].startswith("run 'broken': ")
    assert expected in page.errors[0]
    with pytest.raises(LocalRunError) as caught:
        await source.get_task("broken")
    assert "Run 'broken' cannot be read" in caught.value.message
    assert expected in caught.value.message


@pytest.mark.anyio
async def test_truncated_real_history(runs: Path) -> None:
    raw = (SAMPLE_DIR / "AgentHistory.json").read_bytes()
    (runs / "half-written").mkdir()
    (runs / "half-written" / "AgentHistory.json").write_bytes(raw[: len(raw) // 2])
    source = LocalRunsSource(runs)
    page = await source.list_tasks(status=None, page=1, page_size=10)
    # Being rewritten: shown as running with the steps that parse, not hidden.
    assert sorted(i.id for i in page.items) == ["half-written", RUN]
    task = await source.get_task("half-written")
    assert task.status == "running" and 0 < len(task.steps) < 7
    assert any("not valid JSON" in n for n in task.notes)


@pytest.mark.anyio
async def test_corrupt_bare_file_reported(runs: Path) -> None:
    (runs / "oops.json").write_text('{"history": [{"a": ', encoding="utf-8")
    (runs / "junk.json").write_text('{"hist', encoding="utf-8")
    source = LocalRunsSource(runs)
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert sorted(i.id for i in page.items) == ["oops", RUN]  # begun like a history: being written
    assert any(e.startswith("run 'junk': history file is not valid JSON") for e in page.errors)
    with pytest.raises(LocalRunError):
        await source.get_task("junk")
    assert (await source.get_task("oops")).steps == []


@pytest.mark.anyio
async def test_surprising_shapes_do_not_crash(tmp_path: Path) -> None:
    steps: list[Any] = [
        {"model_output": None, "result": [], "state": {}, "metadata": None},
        {"result": None},
        "not a step",
        {
            "model_output": {"action": [{"click": None, "scroll": {"down": True}}, "junk", {"wait": 3}]},
            "result": [None, {"error": "  "}, {"extracted_content": ""}],
            "state": {"url": 42, "screenshot_path": None},
            "metadata": {"step_number": "7", "step_start_time": "x", "step_end_time": None},
        },
        {"metadata": {"step_start_time": 10.0, "step_end_time": 5.0}, "extra": {"unknown": True}},
    ]
    write_run(tmp_path, "odd", steps)
    task = await LocalRunsSource(tmp_path).get_task("odd")
    assert [s.number for s in task.steps] == [1, 2, 4, 5]
    assert task.steps[0].actions == [] and task.steps[0].url is None
    assert [(a.name, a.params) for a in task.steps[2].actions] == [
        ("scroll", {"down": True}),
        ("wait", {"value": 3}),
    ]
    assert task.steps[2].errors == [] and task.steps[2].results == []
    assert task.steps[3].duration_s is None  # end before start
    assert task.status == "running" and task.raw_status == "running" and task.output is None
    assert any("History item 3 is not an object" in n for n in task.notes)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
step_like = st.fixed_dictionaries(
    {},
    optional={
        "model_output": json_values
        | st.fixed_dictionaries({}, optional={"action": json_values, "thinking": json_values}),
        "result": json_values
        | st.lists(json_values | st.fixed_dictionaries({}, optional={"is_done": json_values})),
        "state": json_values | st.fixed_dictionaries({}, optional={"screenshot_path": json_values}),
        "metadata": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "step_number": json_values,
                "step_start_time": json_values,
                "step_end_time": json_values,
            },
        ),
        "state_message": json_values,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step_like | json_values, max_size=5))
def test_mapping_never_crashes_on_any_json(history: list[Any]) -> None:
    parsed = map_history({"history": history})
    assert parsed.status in {"finished", "failed"}
    assert len(parsed.steps) == len(parsed.screenshot_refs)


# --------------------------------------------------------------------------- status mapping


@pytest.mark.anyio
async def test_done_with_success_false_is_failed(tmp_path: Path) -> None:
    write_run(
        tmp_path,
        "gave-up",
        [
            make_step(1, start=100.0),
            make_step(2, start=101.0, results=[done_result("Could not log in.", False)]),
        ],
    )
    task = await LocalRunsSource(tmp_path).get_task("gave-up")
    assert task.status == "failed" and task.raw_status == "done"
    assert task.is_success is False and task.output == "Could not log in."


@pytest.mark.anyio
async def test_done_with_success_unknown_is_finished(tmp_path: Path) -> None:
    write_run(tmp_path, "legacy", [make_step(1, start=100.0, results=[done_result("ok", None)])])
    task = await LocalRunsSource(tmp_path).get_task("legacy")
    assert task.status == "finished" and task.is_success is None and task.output == "ok"


@pytest.mark.anyio
async def test_never_reached_done_is_interrupted_once_still(tmp_path: Path) -> None:
    write_run(tmp_path, "cut-short", [make_step(1, start=100.0), make_step(2, start=101.0)])
    source = LocalRunsSource(tmp_path, stale_after_s=0)
    task = await source.get_task("cut-short")
    assert task.status == "stopped" and task.raw_status == "interrupted" and task.finished_at is None
    assert task.is_success is None and task.output is None and task.judgement is None
    assert any("never reached `done`" in n for n in task.notes)
    (row,) = (await source.list_tasks(status="stopped", page=1, page_size=10)).items
    assert row.id == "cut-short" and row.raw_status == "interrupted"
    assert (await LocalRunsSource(tmp_path).get_task("cut-short")).status == "running"


@pytest.mark.anyio
async def test_done_in_earlier_result_but_not_last_is_incomplete(tmp_path: Path) -> None:
    # Only the last step's last result counts, as in browser-use's is_done().
    write_run(
        tmp_path,
        "odd-done",
        [make_step(1, start=1.0, results=[done_result("early", True), {"is_done": False}])],
    )
    task = await LocalRunsSource(tmp_path).get_task("odd-done")
    assert task.raw_status == "running"


@pytest.mark.anyio
async def test_empty_history_is_a_run_without_steps(tmp_path: Path) -> None:
    write_run(tmp_path, "empty", [])
    task = await LocalRunsSource(tmp_path).get_task("empty")
    assert task.steps == [] and task.raw_status == "running" and task.created_at is None


@pytest.mark.anyio
async def test_missing_metadata_falls_back_to_position(tmp_path: Path) -> None:
    steps = [make_step(1, start=1.0), make_step(2, start=2.0)]
    for step in steps:
        del step["metadata"]
    write_run(tmp_path, "no-meta", steps)
    task = await LocalRunsSource(tmp_path).get_task("no-meta")
    assert [s.number for s in task.steps] == [1, 2]
    assert all(s.duration_s is None and s.started_at is None for s in task.steps)
    assert task.created_at is None and task.finished_at is None
    assert await all_ids(LocalRunsSource(tmp_path)) == ["no-meta"]  # mtime fallback for ordering


@pytest.mark.anyio
async def test_prompt_absent_is_none_and_found_in_first_step(tmp_path: Path) -> None:
    write_run(tmp_path, "no-prompt", [make_step(1, start=1.0)])
    write_run(
        tmp_path, "prompt", [make_step(1, start=1.0, prompt="  Find the  price. "), make_step(2, start=2.0)]
    )
    source = LocalRunsSource(tmp_path)
    assert (await source.get_task("no-prompt")).task is None
    assert (await source.get_task("prompt")).task == "Find the  price."


@pytest.mark.anyio
async def test_judgement_mapped(tmp_path: Path) -> None:
    result = done_result("x", True) | {
        "judgement": {"verdict": False, "failure_reason": "wrong page", "reasoning": "", "extra": 1}
    }
    write_run(tmp_path, "judged", [make_step(1, start=1.0, results=[result])])
    task = await LocalRunsSource(tmp_path).get_task("judged")
    assert task.judgement is not None
    assert task.judgement.verdict is False and task.judgement.failure_reason == "wrong page"
    assert task.judgement.reasoning is None


# --------------------------------------------------------------------------- listing


@pytest.mark.anyio
async def test_listing_newest_first_with_pagination_and_filter(tmp_path: Path) -> None:
    for n in range(5):
        last = done_result("done", n % 2 == 0)
        write_run(tmp_path, f"run-{n}", [make_step(1, start=1000.0 * (n + 1), results=[last])])
    source = LocalRunsSource(tmp_path)
    first = await source.list_tasks(status=None, page=1, page_size=2)
    assert [i.id for i in first.items] == ["run-4", "run-3"]
    assert first.total_items == 5 and first.total_pages == 3 and first.has_more
    third = await source.list_tasks(status=None, page=3, page_size=2)
    assert [i.id for i in third.items] == ["run-0"] and not third.has_more
    beyond = await source.list_tasks(status=None, page=9, page_size=2)
    assert beyond.items == [] and beyond.total_items == 5
    finished = await source.list_tasks(status="finished", page=1, page_size=10)
    assert [i.id for i in finished.items] == ["run-4", "run-2", "run-0"]
    failed = await source.list_tasks(status="FAILED", page=1, page_size=10)
    assert [i.id for i in failed.items] == ["run-3", "run-1"]
    assert (await source.list_tasks(status="running", page=1, page_size=10)).total_items == 0


@pytest.mark.anyio
async def test_listing_rejects_bad_paging(tmp_path: Path) -> None:
    source = LocalRunsSource(tmp_path)
    with pytest.raises(InvalidInputError):
        await source.list_tasks(status=None, page=0, page_size=10)
    with pytest.raises(InvalidInputError):
        await source.list_tasks(status=None, page=1, page_size=0)


@pytest.mark.anyio
async def test_missing_runs_dir_is_a_clear_error(tmp_path: Path) -> None:
    source = LocalRunsSource(tmp_path / "nope")
    with pytest.raises(LocalRunError, match="does not exist"):
        await source.list_tasks(status=None, page=1, page_size=10)


@pytest.mark.anyio
async def test_folders_without_history_are_ignored_and_other_json_names_work(tmp_path: Path) -> None:
    (tmp_path / "screenshots").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hi", encoding="utf-8")
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "a-config.json").write_text('{"not": "history"}', encoding="utf-8")
    (tmp_path / "custom" / "my_history.json").write_text(
        json.dumps({"history": [make_step(1, start=5.0)]}), encoding="utf-8"
    )
    (tmp_path / ".hidden").mkdir()
    write_run(tmp_path / ".hidden", "x", [make_step(1, start=5.0)])
    source = LocalRunsSource(tmp_path)
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert [i.id for i in page.items] == ["custom"] and page.errors == []
    task = await source.get_task("custom")
    assert task.metadata["history_file"] == "custom/my_history.json"
    media = await source.get_media(task)
    assert [f.name for f in media.output_files] == ["a-config.json"]


@pytest.mark.anyio
async def test_folder_with_only_foreign_json_is_reported(tmp_path: Path) -> None:
    (tmp_path / "weird").mkdir()
    (tmp_path / "weird" / "data.json").write_text("[]", encoding="utf-8")
    source = LocalRunsSource(tmp_path)
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert page.items == [] and "run 'weird': no browser-use history found" in page.errors[0]
    with pytest.raises(LocalRunError, match="no browser-use history"):
        await source.get_task("weird")


@pytest.mark.anyio
async def test_folder_with_unsafe_name_is_reported(tmp_path: Path) -> None:
    write_run(tmp_path, "50%off", [make_step(1, start=5.0)])
    page = await LocalRunsSource(tmp_path).list_tasks(status=None, page=1, page_size=10)
    assert page.items == [] and "skipped" in page.errors[0] and "'%'" in page.errors[0]


# --------------------------------------------------------------------------- bare files, screenshots


@pytest.mark.anyio
async def test_bare_history_file_is_a_run(runs: Path) -> None:
    shutil.copy(SAMPLE_DIR / "AgentHistory.json", runs / "quick-check.json")
    source = LocalRunsSource(runs)
    ids = await all_ids(source)
    assert sorted(ids) == ["order-blue-widget", "quick-check"]
    task = await source.get_task("quick-check")
    assert task.output == FINAL and len(task.steps) == 7
    assert task.metadata["history_file"] == "quick-check.json"
    # The absolute paths do not exist and a bare file has no screenshots folder of its own.
    assert all(s.screenshot is None for s in task.steps)
    assert any(n.startswith("Screenshots missing on disk for steps 2, 3, 4, 5, 6, 7") for n in task.notes)
    media = await source.get_media(task)
    assert media.recordings == [] and media.gif is None and media.notes
    assert await source.get_source_gif(task) is None


@pytest.mark.anyio
async def test_bare_file_and_folder_with_same_id_prefer_folder(runs: Path) -> None:
    write_run(runs, RUN, [make_step(1, start=1.0)], bare=True)
    source = LocalRunsSource(runs)
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert [i.id for i in page.items] == [RUN]
    assert any("same id" in e for e in page.errors)
    assert (await source.get_task(RUN)).output == FINAL


@pytest.mark.anyio
async def test_missing_screenshots_are_noted(runs: Path) -> None:
    (runs / RUN / "screenshots" / "step_4.png").unlink()
    (runs / RUN / "screenshots" / "step_5.png").unlink()
    task = await LocalRunsSource(runs).get_task(RUN)
    assert task.step(4) is not None and task.step(4).screenshot is None  # type: ignore[union-attr]
    assert task.step(5).screenshot is None  # type: ignore[union-attr]
    assert task.step(6).screenshot is not None  # type: ignore[union-attr]
    assert "Screenshots missing on disk for steps 4, 5." in task.notes


@pytest.mark.anyio
async def test_screenshot_falls_back_to_step_number(tmp_path: Path) -> None:
    write_run(tmp_path, "renamed", [make_step(3, start=1.0, screenshot_path="/gone/elsewhere/shot-abc.png")])
    (tmp_path / "renamed" / "screenshots").mkdir()
    (tmp_path / "renamed" / "screenshots" / "step_3.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    task = await LocalRunsSource(tmp_path).get_task("renamed")
    assert task.steps[0].screenshot == Screenshot(step=3, path="renamed/screenshots/step_3.png")


@pytest.mark.anyio
async def test_windows_screenshot_path_uses_basename(tmp_path: Path) -> None:
    write_run(
        tmp_path, "win", [make_step(1, start=1.0, screenshot_path="C:\\Users\\ada\\tmp\\screenshots\\s1.png")]
    )
    (tmp_path / "win" / "screenshots").mkdir()
    (tmp_path / "win" / "screenshots" / "s1.png").write_bytes(b"png")
    task = await LocalRunsSource(tmp_path).get_task("win")
    assert task.steps[0].screenshot is not None
    assert task.steps[0].screenshot.path == "win/screenshots/s1.png"


@pytest.mark.anyio
async def test_existing_absolute_screenshot_inside_runs_dir_is_used(tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared-shots"
    elsewhere.mkdir()
    (elsewhere / "a.png").write_bytes(b"png")
    write_run(tmp_path, "abs", [make_step(1, start=1.0, screenshot_path=str(elsewhere / "a.png"))])
    task = await LocalRunsSource(tmp_path).get_task("abs")
    assert task.steps[0].screenshot == Screenshot(step=1, path="shared-shots/a.png")


@pytest.mark.anyio
async def test_existing_absolute_screenshot_outside_runs_dir_is_not_used(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"secret")
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    write_run(runs_dir, "leaky", [make_step(1, start=1.0, screenshot_path=str(outside / "secret.png"))])
    task = await LocalRunsSource(runs_dir).get_task("leaky")
    assert task.steps[0].screenshot is None
    assert "Screenshots missing on disk for steps 1." in task.notes


@pytest.mark.anyio
@pytest.mark.parametrize("recorded", ["/x/screenshots/..", "/x/screenshots/.", "/x/a\x00b.png", "..", "/"])
async def test_odd_screenshot_paths_are_not_followed(tmp_path: Path, recorded: str) -> None:
    write_run(tmp_path, "sneaky", [make_step(1, start=1.0, screenshot_path=recorded)])
    task = await LocalRunsSource(tmp_path).get_task("sneaky")
    assert task.steps[0].screenshot is None


# --------------------------------------------------------------------------- media and output files


@pytest.mark.anyio
async def test_output_files_logs_and_extra_media(runs: Path) -> None:
    run = runs / RUN
    (run / "report.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (run / "downloads").mkdir()
    (run / "downloads" / "invoice.pdf").write_bytes(b"%PDF-1.4")
    (run / "downloads" / "report.csv").write_text("dup", encoding="utf-8")
    (run / "agent.log").write_text("INFO started\n", encoding="utf-8")
    (run / "extra.webm").write_bytes(b"\x1aE\xdf\xa3")
    (run / "other.gif").write_bytes(b"GIF89a")
    (run / ".DS_Store").write_bytes(b"junk")
    source = LocalRunsSource(runs)
    task = await source.get_task(RUN)
    media = await source.get_media(task)
    # A name shared by several files gets its folders in; unique names stay plain.
    assert sorted(f.name for f in media.output_files) == [
        "downloads__report.csv",
        "invoice.pdf",
        "other.gif",
        "report.csv",
    ]
    by_name = {f.name: f for f in media.output_files}
    assert by_name["invoice.pdf"].mime_type == "application/pdf"
    assert by_name["invoice.pdf"].path == f"{RUN}/downloads/invoice.pdf"
    assert by_name["report.csv"].path == f"{RUN}/report.csv" and by_name["report.csv"].size_bytes == 8
    assert by_name["downloads__report.csv"].path == f"{RUN}/downloads/report.csv"
    recordings = {r.name: r for r in media.recordings}
    assert set(recordings) == {"06b02d83-3a21-7932-8000-ac7afb6ee372.mp4", "extra.webm"}
    assert recordings["extra.webm"].mime_type == "video/webm"
    assert [(log.name, log.kind) for log in media.logs] == [("agent.log", "log")]
    assert media.gif is not None and media.gif.name == "agent_history.gif"
    assert {f.name for f in task.output_files} == set(by_name)
    log = await source.get_log(task)
    assert log is not None and await source.read_bytes(log, max_bytes=100) == b"INFO started\n"

    resolved = await source.resolve_output_file(task, "invoice.pdf")
    assert resolved.path == f"{RUN}/downloads/invoice.pdf"
    # OutputFile has `download_url`, not `url`, so it is not a `Locatable` for mypy; at run time
    # read_bytes only needs `path`.
    assert await source.read_bytes(resolved, max_bytes=100) == b"%PDF-1.4"  # type: ignore[arg-type]
    with pytest.raises(NotFoundError) as caught:
        await source.resolve_output_file(task, "missing.txt")
    assert "invoice.pdf" in caught.value.message and "report.csv" in caught.value.message
    with pytest.raises(InvalidInputError):
        await source.resolve_output_file(task, "../AgentHistory.json")
    with pytest.raises(NotFoundError):  # the history is not an output file
        await source.resolve_output_file(task, "AgentHistory.json")


@pytest.mark.anyio
async def test_notes_when_nothing_recorded(tmp_path: Path) -> None:
    write_run(tmp_path, "plain", [make_step(1, start=1.0)])
    source = LocalRunsSource(tmp_path)
    task = await source.get_task("plain")
    media = await source.get_media(task)
    assert media.recordings == [] and media.gif is None and media.conversations == []
    assert (
        "No video recording in this run (browser-use writes one only with record_video_dir)." in media.notes
    )
    assert any("GIF" in n for n in media.notes) and any("conversation" in n for n in media.notes)
    with pytest.raises(NotFoundError, match="lists no output files"):
        await source.resolve_output_file(task, "x.txt")


@pytest.mark.anyio
async def test_conversation_files_outside_conversation_folder(tmp_path: Path) -> None:
    write_run(tmp_path, "conv", [make_step(1, start=1.0)])
    (tmp_path / "conv" / "logs").mkdir()
    for n in (10, 2, 1):
        (tmp_path / "conv" / "logs" / f"conversation_abc_{n}.txt").write_text("x", encoding="utf-8")
    media = await LocalRunsSource(tmp_path).get_media(await LocalRunsSource(tmp_path).get_task("conv"))
    assert [c.name for c in media.conversations] == [
        "conversation_abc_1.txt",
        "conversation_abc_2.txt",
        "conversation_abc_10.txt",
    ]


# --------------------------------------------------------------------------- security


@pytest.mark.anyio
async def test_unknown_id_is_not_found(runs: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        await LocalRunsSource(runs).get_task("no-such-run")
    assert caught.value.message.startswith(f"No run named 'no-such-run' in {runs}. Call list_tasks")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "bad_id",
    ["..", "../etc", "a//b", "/etc/passwd", "..%2f", "%2e%2e", ".hidden", "a\\b", "", "x" * 200, "a\x00b"],
)
async def test_ids_with_traversal_are_refused_before_io(
    runs: Path, bad_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = LocalRunsSource(runs)

    def no_io(*args: object, **kwargs: object) -> object:
        raise AssertionError("file I/O attempted for an invalid id")

    monkeypatch.setattr(RunsFolder, "root", no_io)
    monkeypatch.setattr("anyio.to_thread.run_sync", no_io)
    with pytest.raises(InvalidInputError):
        await source.get_task(bad_id)
    fake = Task(id=bad_id, source="local", status="finished")
    with pytest.raises(InvalidInputError):
        await source.get_media(fake)
    with pytest.raises(InvalidInputError):
        await source.get_source_gif(fake)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path",
    [
        "../outside.txt",
        f"{RUN}/../../outside.txt",
        f"{RUN}/screenshots/../../../outside.txt",
        "..\\outside.txt",
        "/etc/passwd",
        "C:\\Windows\\win.ini",
        "\\\\server\\share\\x",
    ],
)
async def test_dotdot_path_is_refused(runs: Path, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (runs.parent / "outside.txt").write_text("secret", encoding="utf-8")
    source = LocalRunsSource(runs)

    def no_io(*args: object, **kwargs: object) -> object:
        raise AssertionError("file I/O attempted for a refused path")

    monkeypatch.setattr("anyio.to_thread.run_sync", no_io)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(at_path(name="x", path=path), max_bytes=1000)


@pytest.mark.anyio
async def test_symlink_escaping_runs_dir_is_refused(runs: Path) -> None:
    secret = runs.parent / "secret.txt"
    secret.write_text("top secret", encoding="utf-8")
    (runs / RUN / "loot.txt").symlink_to(secret)
    (runs / RUN / "screenshots" / "step_2.png").unlink()
    (runs / RUN / "screenshots" / "step_2.png").symlink_to(secret)
    source = LocalRunsSource(runs)

    with pytest.raises(FetchRefusedError, match="outside the runs folder"):
        await source.read_bytes(at_path(name="loot.txt", path=f"{RUN}/loot.txt"), max_bytes=1000)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(Screenshot(step=2, path=f"{RUN}/screenshots/step_2.png"), max_bytes=1000)

    task = await source.get_task(RUN)
    # The escaping screenshot is not handed out and the escaping file is not listed.
    assert task.step(2).screenshot is None  # type: ignore[union-attr]
    assert "Screenshots missing on disk for steps 2." in task.notes
    media = await source.get_media(task)
    assert all(f.name != "loot.txt" for f in media.output_files)
    with pytest.raises(NotFoundError):
        await source.resolve_output_file(task, "loot.txt")


@pytest.mark.anyio
async def test_symlink_inside_runs_dir_is_served(runs: Path) -> None:
    (runs / RUN / "link.png").symlink_to(runs / RUN / "screenshots" / "step_3.png")
    source = LocalRunsSource(runs)
    data = await source.read_bytes(at_path(name="link.png", path=f"{RUN}/link.png"), max_bytes=100_000)
    assert data == (runs / RUN / "screenshots" / "step_3.png").read_bytes()


@pytest.mark.anyio
async def test_run_folder_symlink_outside_is_not_served(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(SAMPLE_DIR, outside / "private-run")
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    (runs_dir / "evil").symlink_to(outside / "private-run")
    (runs_dir / "evil.json").symlink_to(outside / "private-run" / "AgentHistory.json")
    source = LocalRunsSource(runs_dir)

    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert page.items == []
    assert any("run 'evil'" in e and "outside the runs folder" in e for e in page.errors)
    with pytest.raises(LocalRunError, match="outside the runs folder"):
        await source.get_task("evil")
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(Screenshot(step=2, path="evil/screenshots/step_2.png"), max_bytes=1_000_000)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(at_path(name="h", path="evil.json"), max_bytes=1_000_000)
    with pytest.raises(LocalRunError):
        await source.get_media(Task(id="evil", source="local", status="finished"))


@pytest.mark.anyio
async def test_dangling_symlinks_are_skipped(runs: Path) -> None:
    (runs / "dangling").symlink_to(runs / "does-not-exist")
    (runs / "dangling-file.json").symlink_to(runs / "does-not-exist.json")
    source = LocalRunsSource(runs)
    page = await source.list_tasks(status=None, page=1, page_size=10)
    assert [i.id for i in page.items] == [RUN] and page.errors == []
    with pytest.raises(NotFoundError):
        await source.get_task("dangling")


@pytest.mark.anyio
async def test_run_folder_symlink_inside_is_served(runs: Path) -> None:
    (runs / "alias").symlink_to(runs / RUN)
    source = LocalRunsSource(runs)
    assert sorted(await all_ids(source)) == ["alias", RUN]
    task = await source.get_task("alias")
    assert task.output == FINAL
    shot = task.step(2).screenshot  # type: ignore[union-attr]
    assert shot is not None and shot.path == "alias/screenshots/step_2.png"
    assert (await source.read_bytes(shot, max_bytes=1_000_000)).startswith(b"\x89PNG")


@pytest.mark.anyio
async def test_runs_dir_itself_through_a_symlink_works(tmp_path: Path, runs: Path) -> None:
    link = tmp_path / "runs-link"
    link.symlink_to(runs)
    source = LocalRunsSource(link)
    task = await source.get_task(RUN)
    shot = task.step(7).screenshot  # type: ignore[union-attr]
    assert shot is not None
    assert (await source.read_bytes(shot, max_bytes=1_000_000)).startswith(b"\x89PNG")


@pytest.mark.anyio
async def test_files_larger_than_max_bytes_are_refused(runs: Path) -> None:
    source = LocalRunsSource(runs)
    gif = MediaItem(kind="gif", name="agent_history.gif", path=f"{RUN}/agent_history.gif")
    with pytest.raises(FetchRefusedError, match="limit"):
        await source.read_bytes(gif, max_bytes=1000)
    assert len(await source.read_bytes(gif, max_bytes=245998)) == 245998


@pytest.mark.anyio
async def test_non_regular_files_are_refused(runs: Path) -> None:
    source = LocalRunsSource(runs)
    with pytest.raises(FetchRefusedError, match="not a regular file"):
        await source.read_bytes(at_path(name="s", path=f"{RUN}/screenshots"), max_bytes=1000)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(at_path(name="root", path="."), max_bytes=1000)
    if hasattr(os, "mkfifo"):
        os.mkfifo(runs / RUN / "pipe")
        started = time.monotonic()
        with pytest.raises(FetchRefusedError, match="not a regular file"):
            await source.read_bytes(at_path(name="pipe", path=f"{RUN}/pipe"), max_bytes=1000)
        assert time.monotonic() - started < 5
        media = await source.get_media(await source.get_task(RUN))
        assert all(f.name != "pipe" for f in media.output_files)


@pytest.mark.anyio
async def test_items_without_path_and_missing_files(runs: Path) -> None:
    source = LocalRunsSource(runs)
    with pytest.raises(FetchRefusedError):
        await source.read_bytes(Screenshot(step=1, url="https://example.com/x.png"), max_bytes=1000)
    with pytest.raises(NotFoundError):
        await source.read_bytes(at_path(name="x", path=f"{RUN}/gone.txt"), max_bytes=1000)
    with pytest.raises(InvalidInputError):
        await source.read_bytes(at_path(name="x", path=f"{RUN}/AgentHistory.json"), max_bytes=0)
