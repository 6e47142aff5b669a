"""Hostile input: tool arguments, upstream payloads and untrusted text (hypothesis).

- Tool arguments (ids with `..`, `/`, `%2e`, NUL, bidi marks, 10 kB strings, negative and
  huge numbers, numbers as strings, wrong types, missing and extra arguments), on Cloud v2,
  Cloud v1 and local runs: never a crash, always a readable answer (an `isError` result with
  clean, bounded text, or a success whose structured content fits the output schema); an
  invalid id never causes an upstream request, an argument refused as invalid never does
  either, and whatever reaches the API is a clean path.
- Upstream payloads: random JSON that fits or does not fit the TaskView shapes of v2 and
  v1, straight into the parsers and renderers (fast), and a smaller number end to end
  through the emulator: a parsed, rendered task or a MalformedResponseError, never a crash.
- Untrusted text: `fence` can never be closed by its content, `sanitize` leaves no
  invisible, bidi or control character; and every tool's text for the seeded
  UNTRUSTED_CONTENT_TASK is clean, with the injected instruction only inside fences.

One in-process server per source, shared by all examples (a blocking portal runs the
client's event loop), keeps well over 1,000 examples per run fast.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.from_thread
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp_types import CallToolResult

from browser_use_tasks_mcp import render
from browser_use_tasks_mcp.errors import MalformedResponseError
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.models import Task
from browser_use_tasks_mcp.results import StepResult, TaskResult, summarize_steps
from browser_use_tasks_mcp.service import with_resource_uris
from browser_use_tasks_mcp.sources.cloud_v1 import task_from_v1
from browser_use_tasks_mcp.sources.cloud_v2 import task_from_v2
from browser_use_tasks_mcp.untrusted import clean_line, fence, sanitize
from tests.emulator import (
    BIDI_CONTROLS,
    FINISHED_TASK,
    INJECTION_TEXT,
    MANY_TASKS,
    UNTRUSTED_CONTENT_TASK,
    ZERO_WIDTH,
    Emulator,
)
from tests.helpers import TEST_KEY, client_for, cloud_settings, local_settings, text_of

SOURCES = ("v2", "v1", "local")
LOCAL_RUNS = sorted(p.name for p in BUNDLED_RUNS_DIR.iterdir() if p.is_dir())
# Characters that must never reach a model raw: C0/C1 controls (except \n, \t), zero-width,
# bidi embeddings/overrides/isolates, BOM, Unicode tags.
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
MAX_ERROR_CHARS = 2_000
TOOL_PARAMS: dict[str, dict[str, bool]] = {  # argument -> required
    "get_task": {"task_id": True},
    "get_step": {"task_id": True, "step": True, "include_screenshot": False, "resolution": False},
    "list_screenshots": {
        "task_id": True,
        "steps": False,
        "include_images": False,
        "resolution": False,
        "max_images": False,
    },
    "get_gif": {"task_id": True, "include_preview": False},
    "get_media": {"task_id": True},
    "list_tasks": {"status": False, "page": False, "page_size": False},
    "get_output_file": {"task_id": True, "file": True},
    "wait_for_task": {"task_id": True, "timeout_s": False},
}


# --------------------------------------------------------------------------------------
# One server per source, driven from sync hypothesis tests through a blocking portal
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portal() -> Iterator[anyio.from_thread.BlockingPortal]:
    with anyio.from_thread.start_blocking_portal("asyncio") as running:
        yield running


@pytest.fixture(scope="module")
def clients(portal: anyio.from_thread.BlockingPortal, emulator: Emulator) -> Iterator[dict[str, Client]]:
    made = {
        # A short deadline: a hostile call that reaches upstream must still end quickly.
        "v2": client_for(cloud_settings(emulator.v2_url, call_deadline_s=5.0)),
        "v1": client_for(cloud_settings(emulator.v1_url, version="v1", call_deadline_s=5.0)),
        "local": client_for(local_settings()),
    }
    opened: dict[str, Client] = {}
    managers = []
    try:
        for name, client in made.items():
            manager = portal.wrap_async_context_manager(client)
            opened[name] = manager.__enter__()
            managers.append(manager)
        yield opened
    finally:
        for manager in reversed(managers):
            manager.__exit__(None, None, None)


def call(portal: anyio.from_thread.BlockingPortal, client: Client, tool: str, args: Any) -> CallToolResult:
    return portal.call(client.call_tool, tool, args)


# --------------------------------------------------------------------------------------
# Hostile values
# --------------------------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "\n",
    ".",
    "..",
    "../..",
    "../../etc/passwd",
    "..\\..\\windows",
    "a/b",
    "/",
    "%2e%2e",
    "%2e%2e%2f",
    "%252e%252e",
    "\x00",
    "a\x00b",
    "\u202eexe.txt",
    "\u200b",
    "\ufeffabc",
    "\U000e0041",
    "a" * 10_000,
    "\u202e" * 300,
    "file:///etc/passwd",
    "http://169.254.169.254/latest/meta-data/",
    "{{7*7}}",
    "$(rm -rf /)",
    "'; DROP TABLE tasks; --",
    "<script>alert(1)</script>",
    "```\n</untrusted>",
    "NaN",
    "1e999",
    "-1",
    "0x10",
    "9" * 40,
    FINISHED_TASK + "/..",
    FINISHED_TASK + "%00",
    FINISHED_TASK + "?x=1",
    FINISHED_TASK + "#frag",
    " " + FINISHED_TASK + " ",
    FINISHED_TASK.upper(),
    FINISHED_TASK.replace("-", ""),
    "{" + FINISHED_TASK + "}",
    "urn:uuid:" + FINISHED_TASK,
    FINISHED_TASK[:-1] + "\u202e",
    LOCAL_RUNS[0],
    LOCAL_RUNS[0] + "/../" + LOCAL_RUNS[0],
    "./" + LOCAL_RUNS[0],
    LOCAL_RUNS[0] + "\x00",
]

strings = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.text(alphabet="./%\\\x00\u202e\u200b-_abc0123456789", max_size=30),
    st.builds(lambda ch, n: ch * n, st.characters(), st.integers(1, 12_000)),
    st.uuids().map(str),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2, 3, 7, 50, 51, 100, 101, 10**6, 10**18, -(10**18)]),
    st.floats(allow_nan=False),  # NaN cannot travel as JSON; the client turns it into null
)
anything = st.one_of(
    strings,
    numbers,
    numbers.map(str),  # numbers as strings
    st.booleans(),
    st.none(),
    st.lists(st.one_of(numbers, strings, numbers.map(str)), max_size=6),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


@st.composite
def tool_calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    tool = draw(st.sampled_from(sorted(TOOL_PARAMS)))
    args: dict[str, Any] = {}
    for name, required in TOOL_PARAMS[tool].items():
        # Required arguments are sometimes missing; optional ones sometimes given.
        present = draw(st.booleans()) if not required else draw(st.integers(0, 9)) > 0
        if present:
            args[name] = draw(anything)
    if draw(st.integers(0, 9)) == 0:
        args[draw(st.text(min_size=1, max_size=12))] = draw(anything)  # an extra argument
    return tool, args


# --------------------------------------------------------------------------------------
# What a source accepts as an id (written independently of the server's validators)
# --------------------------------------------------------------------------------------


def acceptable_id(source: str, value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 200:
        return False
    text = value.strip()
    if not text or len(text) > 128 or ".." in text or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*", text):
        return False
    if source == "v2":
        return re.fullmatch(r"[0-9A-Fa-f\-]+", text) is not None and len(text.replace("-", "")) == 32
    if source == "local":
        return text in LOCAL_RUNS
    return True


CLEAN_V2_PATH = re.compile(
    r"^/api/v2/(tasks(/[0-9a-f\-]{36}(/status|/logs)?)?|sessions/[0-9a-f\-]{36}"
    r"|files/tasks/[0-9a-f\-]{36}/output-files/[0-9a-f\-]{36})$"
)
CLEAN_V1_PATH = re.compile(
    r"^/api/v1/(tasks|task/[A-Za-z0-9_][A-Za-z0-9_.\-]*(/status|/screenshots|/gif|/media"
    r"|/output-file/[^/\x00-\x1f%?#]+)?)$"
)


def check_answer(result: CallToolResult) -> str:
    """Every answer is readable: a bounded, clean error sentence, or a success."""
    text = text_of(result)
    assert text.strip(), "an answer without text"
    if result.is_error:
        assert len(text) <= MAX_ERROR_CHARS, f"error text of {len(text)} characters"
        assert not FORBIDDEN.search(text), f"raw control/invisible characters in {text[:200]!r}"
        assert "Internal error" not in text, text
        assert "Traceback" not in text, text
        assert text.startswith(("**", "Error executing tool")), text[:200]
    else:
        assert result.structured_content is not None
    assert TEST_KEY not in text
    return text


def refused_as_invalid(text: str) -> bool:
    return text.startswith(("**Invalid argument", "Error executing tool"))


@pytest.mark.parametrize("source", SOURCES)
def test_hostile_tool_arguments(
    source: str, portal: anyio.from_thread.BlockingPortal, clients: dict[str, Client], emulator: Emulator
) -> None:
    client = clients[source]
    emulator.faults.clear()

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(tool_calls())
    def one(tool_call: tuple[str, dict[str, Any]]) -> None:
        tool, args = tool_call
        before = len(emulator.requests())
        result = call(portal, client, tool, args)
        made = emulator.requests()[before:]
        text = check_answer(result)
        if "task_id" in TOOL_PARAMS[tool] and not acceptable_id(source, args.get("task_id")):
            assert result.is_error, f"{tool}({args!r}) succeeded with an invalid id"
            assert made == [], (
                f"invalid id {args.get('task_id')!r} reached upstream: {[r.path for r in made]}"
            )
        if result.is_error and refused_as_invalid(text):
            assert made == [], f"{tool}({args!r}) was refused as invalid after {[r.path for r in made]}"
        clean = CLEAN_V2_PATH if source == "v2" else CLEAN_V1_PATH
        for record in made:
            if not record.path.startswith("/media/"):
                assert clean.match(record.path), f"unclean upstream path {record.path!r}"

    one()
    # The server is still fine afterwards.
    ok = call(portal, client, "list_tasks", {"page_size": 2})
    assert not ok.is_error, text_of(ok)


@pytest.mark.parametrize("source", ["v2", "local"])
def test_hostile_resource_uris(
    source: str, portal: anyio.from_thread.BlockingPortal, clients: dict[str, Client], emulator: Emulator
) -> None:
    client = clients[source]
    templates = ["steps", "steps/1", "gif", "logs", "screenshots/1", "screenshots/1/full", "files/a.txt"]
    ids = ["..", "%2e%2e", "a%00b", "%E2%80%AE", "a" * 300, "%2F..%2F", "%252e"]
    before = len(emulator.requests())
    for task_id in ids:
        for tail in templates:
            uri = f"browser-use://tasks/{task_id}/{tail}"
            try:
                portal.call(client.read_resource, uri)
            except Exception as exc:  # a JSON-RPC error: the expected refusal
                message = str(exc)
                assert len(message) <= MAX_ERROR_CHARS and not FORBIDDEN.search(message), message[:300]
            else:
                raise AssertionError(f"{uri} was served")
    assert emulator.requests()[before:] == []


# --------------------------------------------------------------------------------------
# Upstream payloads
# --------------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # json.loads accepts NaN and Infinity, so an API can send them
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
timestamps = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat() + "Z"),
    st.sampled_from(
        [
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:00:00+05:30",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2025-13-45T99:00:00",
            "yesterday",
            "",
        ]
    ),
)
seconds = st.one_of(
    st.floats(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from(["1.5", "nan", "inf", "-inf", "1e309"]),
)
goals = st.one_of(
    st.sampled_from(["Failed - it broke", "Success - ok", "Unknown", "error"]), st.text(max_size=60)
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the documented type, sometimes anything at all."""
    return st.one_of(strategy, strategy, json_values)


actions = st.one_of(
    st.dictionaries(
        st.sampled_from(["click", "navigate", "done", "input_text"]), json_values, min_size=1, max_size=1
    ),
    st.dictionaries(st.text(max_size=8), json_values, max_size=3).map(json.dumps),
    st.text(max_size=40),
    json_values,
)
v2_steps = st.fixed_dictionaries(
    {},
    optional={
        "number": maybe(st.integers(min_value=-5, max_value=2**63)),
        "memory": maybe(st.text(max_size=80)),
        "evaluationPreviousGoal": maybe(goals),
        "nextGoal": maybe(st.text(max_size=80)),
        "url": maybe(st.text(max_size=60)),
        "actions": maybe(st.lists(actions, max_size=4)),
        "duration": maybe(seconds),
        "screenshotUrl": maybe(
            st.one_of(st.just("https://s3.example.com/shot.png?X-Amz-Signature=abc"), st.text(max_size=40))
        ),
    },
)
v2_tasks = st.fixed_dictionaries(
    {"id": maybe(st.uuids().map(str))},
    optional={
        "status": maybe(
            st.sampled_from(["created", "started", "finished", "failed", "stopped", "paused", "weird"])
        ),
        "task": maybe(st.text(max_size=80)),
        "output": maybe(st.text(max_size=200)),
        "isSuccess": maybe(st.booleans()),
        "judgeVerdict": maybe(st.booleans()),
        "judgement": maybe(st.one_of(st.text(max_size=40), json_values.map(json.dumps))),
        "cost": maybe(st.one_of(st.text(max_size=10), st.floats())),
        "llm": maybe(st.text(max_size=20)),
        "sessionId": maybe(st.uuids().map(str)),
        "createdAt": maybe(timestamps),
        "startedAt": maybe(timestamps),
        "finishedAt": maybe(timestamps),
        "metadata": maybe(st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
        "steps": maybe(st.lists(v2_steps, max_size=12)),
        "outputFiles": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {}, optional={"id": json_values, "fileName": maybe(st.text(max_size=20))}
                ),
                max_size=4,
            )
        ),
        "suggestions": maybe(st.lists(json_values, max_size=3)),
    },
)
v1_steps = st.fixed_dictionaries(
    {},
    optional={
        "step": maybe(st.integers(min_value=-5, max_value=2**63)),
        "evaluation_previous_goal": maybe(goals),
        "next_goal": maybe(st.text(max_size=60)),
        "url": maybe(st.text(max_size=60)),
    },
)
v1_tasks = st.fixed_dictionaries(
    {"id": maybe(st.text(min_size=1, max_size=40))},
    optional={
        "status": maybe(st.sampled_from(["created", "running", "finished", "failed", "stopped", "paused"])),
        "task": maybe(st.text(max_size=80)),
        "output": maybe(st.text(max_size=200)),
        "created_at": maybe(timestamps),
        "finished_at": maybe(timestamps),
        "steps": maybe(st.lists(v1_steps, max_size=12)),
        "output_files": maybe(st.lists(st.text(max_size=20), max_size=4)),
        "browser_data": maybe(
            st.fixed_dictionaries(
                {
                    "cookies": maybe(
                        st.lists(
                            st.dictionaries(st.sampled_from(["domain", "name", "value"]), json_values),
                            max_size=4,
                        )
                    )
                }
            )
        ),
        "live_url": maybe(st.text(max_size=40)),
        "metadata": maybe(st.dictionaries(st.text(max_size=8), json_values, max_size=3)),
    },
)


def exercise(task: Task) -> None:
    """Everything get_task, get_step and the steps resource do with a parsed task."""
    task = with_resource_uris(task)
    summaries, truncated = summarize_steps(task)
    TaskResult(
        task=task.model_copy(update={"steps": []}),
        step_count=len(task.steps),
        failing_steps=[s.number for s in task.steps if s.errors],
        steps=summaries,
        steps_truncated=truncated,
        hint="",
    ).model_dump(mode="json")
    for text in (render.render_task(task), render.render_steps_log(task)):
        assert not FORBIDDEN.search(text)
    for step in task.steps[:5]:
        assert not FORBIDDEN.search(render.render_step(task, step))
        StepResult(
            task_id=task.id, task_status=task.status, step_count=len(task.steps), step=step
        ).model_dump(mode="json")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.one_of(v2_tasks, v2_tasks, json_values))
def test_v2_payloads_parse_or_fail_cleanly(body: Any) -> None:
    try:
        task = task_from_v2(body)
    except MalformedResponseError:
        return
    exercise(task)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.one_of(v1_tasks, v1_tasks, json_values))
def test_v1_payloads_parse_or_fail_cleanly(body: Any) -> None:
    try:
        task = task_from_v1(body)
    except MalformedResponseError:
        return
    exercise(task)


def test_payloads_end_to_end(
    portal: anyio.from_thread.BlockingPortal, clients: dict[str, Client], emulator: Emulator
) -> None:
    """A smaller number through the emulator (`wrong_shape` with the example as body)."""
    client = clients["v2"]
    emulator.faults.clear()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(st.one_of(v2_tasks, json_values), st.uuids())
    def one(body: Any, task_uuid: uuid.UUID) -> None:
        task_id = str(task_uuid)
        encoded = json.loads(json.dumps(body))  # what the emulator will send
        fault = emulator.faults.add("wrong_shape", regex=f"^/api/v2/tasks/{task_id}$", body=encoded)
        try:
            result = call(portal, client, "get_task", {"task_id": task_id})
        finally:
            emulator.faults.remove(fault)
        text = check_answer(result)
        if result.is_error:
            assert text.startswith("**Malformed response:**"), text[:300]

    one()


# --------------------------------------------------------------------------------------
# Untrusted text
# --------------------------------------------------------------------------------------

untrusted_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "`",
                "```",
                "````",
                "\n",
                "~~~",
                "untrusted",
                "</untrusted>",
                "\u202e",
                "\u200b",
                "\x1b[31m",
                "\r",
                "a",
            ]
        ),
        max_size=60,
    ).map("".join),
)


def fenced_body(block: str) -> tuple[str, str, str]:
    """(opening line, body, closing line) of a fence block written by `fence`."""
    first, _, rest = block.partition("\n")
    body, _, last = rest.rpartition("\n")
    return first, body, last


@settings(max_examples=300, deadline=None, database=None)
@given(untrusted_text, st.integers(min_value=1, max_value=400))
def test_fence_cannot_be_closed_by_its_content(text: str, limit: int) -> None:
    block = fence(text, limit=limit)
    first, body, last = fenced_body(block)
    ticks = re.match(r"`+", first)
    assert ticks is not None and first == ticks.group(0) + "untrusted" and last == ticks.group(0)
    # No line inside may close the fence: a closing fence is a line of at least as many backticks.
    for line in body.split("\n"):
        run = re.match(r"\s*(`+)\s*$", line)
        assert run is None or len(run.group(1)) < len(ticks.group(0)), line
        assert ticks.group(0) not in line
    assert not FORBIDDEN.search(block)


@settings(max_examples=300, deadline=None, database=None)
@given(untrusted_text)
def test_sanitize_and_clean_line_leave_nothing_invisible(text: str) -> None:
    cleaned = sanitize(text)
    assert not FORBIDDEN.search(cleaned)
    assert "\r" not in cleaned
    assert sanitize(cleaned) == cleaned  # idempotent
    line = clean_line(text, 80)
    assert "\n" not in line and len(line) <= 80 and not FORBIDDEN.search(line)


def outside_fences(text: str) -> str:
    """The text with every ```untrusted fenced block removed (fences as `fence` writes them)."""
    out: list[str] = []
    closing: str | None = None
    for line in text.split("\n"):
        if closing is None:
            match = re.fullmatch(r"(`{3,})untrusted", line)
            if match:
                closing = match.group(1)
            else:
                out.append(line)
        elif line == closing:
            closing = None
    assert closing is None, "an untrusted fence was never closed"
    return "\n".join(out)


def assert_clean(text: str, where: str) -> None:
    assert not FORBIDDEN.search(text), f"{where}: raw control or invisible characters"
    assert not any(ch in text for ch in ZERO_WIDTH + BIDI_CONTROLS + "\x1b"), where
    outside = outside_fences(text)
    assert INJECTION_TEXT[:30] not in outside, f"{where}: injected instruction outside a fence"
    assert "bu-live-REDACTME" not in outside, f"{where}: fake fenced answer escaped its fence"


@pytest.mark.parametrize("source", ["v2", "v1"])
def test_every_tool_text_for_the_untrusted_task_is_clean(
    source: str, portal: anyio.from_thread.BlockingPortal, clients: dict[str, Client]
) -> None:
    client = clients[source]
    task = call(portal, client, "get_task", {"task_id": UNTRUSTED_CONTENT_TASK})
    assert not task.is_error
    assert_clean(text_of(task), "get_task")
    step_count = task.structured_content["step_count"]  # type: ignore[index]
    assert step_count == 4
    for number in range(1, step_count + 1):
        step = call(portal, client, "get_step", {"task_id": UNTRUSTED_CONTENT_TASK, "step": number})
        assert not step.is_error
        assert_clean(text_of(step), f"get_step {number}")
    for tool in ("list_screenshots", "get_media", "wait_for_task"):
        result = call(portal, client, tool, {"task_id": UNTRUSTED_CONTENT_TASK})
        assert not result.is_error, text_of(result)
        assert_clean(text_of(result), tool)
    steps = portal.call(client.read_resource, f"browser-use://tasks/{UNTRUSTED_CONTENT_TASK}/steps")
    assert_clean(steps.contents[0].text, "steps resource")  # type: ignore[union-attr]
    for number in range(1, step_count + 1):
        one = portal.call(
            client.read_resource, f"browser-use://tasks/{UNTRUSTED_CONTENT_TASK}/steps/{number}"
        )
        # JSON for programs: the raw text is kept, but escaped, so nothing invisible is raw.
        assert not FORBIDDEN.search(one.contents[0].text)  # type: ignore[union-attr]
    if source == "v2":  # v1 has no execution log
        log = portal.call(client.read_resource, f"browser-use://tasks/{UNTRUSTED_CONTENT_TASK}/logs")
        assert not FORBIDDEN.search(log.contents[0].text)  # type: ignore[union-attr]


# Every argument the server refuses, next to a valid id of a task it has not fetched yet.
REFUSED_WITH_A_VALID_ID = [
    ("get_step", {"step": -1}),
    ("get_step", {"step": 10**7}),
    ("get_step", {"step": "abc"}),
    ("get_step", {"step": 1, "resolution": "huge"}),
    ("list_screenshots", {"steps": [-1]}),
    ("list_screenshots", {"steps": ["x"]}),
    ("list_screenshots", {"max_images": 0}),
    ("get_gif", {"include_preview": "maybe"}),
    ("get_output_file", {"file": "../secrets.txt"}),
    ("get_output_file", {"file": "a/b.csv"}),
    ("get_output_file", {"file": ".."}),
    ("get_output_file", {"file": ""}),
    ("get_output_file", {"file": "x\x00.csv"}),
    ("wait_for_task", {"timeout_s": 0}),
    ("wait_for_task", {"timeout_s": 51}),
    ("wait_for_task", {"timeout_s": "soon"}),
]


@pytest.mark.parametrize("source", ["v2", "v1"])
def test_arguments_are_refused_before_any_request(
    source: str, portal: anyio.from_thread.BlockingPortal, clients: dict[str, Client], emulator: Emulator
) -> None:
    client = clients[source]
    for index, (tool, extra) in enumerate(REFUSED_WITH_A_VALID_ID):
        task_id = MANY_TASKS[80 + index]  # a task this server has not fetched (or cached) yet
        before = len(emulator.requests())
        result = call(portal, client, tool, {"task_id": task_id, **extra})
        text = check_answer(result)
        assert result.is_error and refused_as_invalid(text), f"{tool}({extra!r}): {text[:200]}"
        made = [r.path for r in emulator.requests()[before:]]
        assert made == [], f"{tool}({extra!r}) asked upstream {made} before refusing the argument"
