"""The emulator answers exactly as the published API documents say, over real HTTP.

Every JSON body is validated against the response schema of its path, method and status
in the OpenAPI documents vendored under ``tests/fixtures/openapi`` (v2: the real FastAPI
document; v1: the reconstructed one; see the README there for provenance), with JSON Schema Draft 2020-12, a registry that
resolves ``#/components/schemas/...`` and a format checker for ``uuid``, ``date-time`` and
``uri``. `test_validator_rejects_broken_bodies` proves the validation can fail.

About ``date-time``: the v2 API sends naive UTC datetimes (``2026-11-20T10:00:00``), which
is what FastAPI emits for naive values even though strict RFC 3339 wants an offset. The
checker here accepts ISO 8601 date-times with or without an offset and rejects anything
else (dates alone, free text).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx2
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.emulator import (
    BIDI_CONTROLS,
    CREATED_TASK,
    EXPIRED_SCREENSHOT_TASK,
    FAILED_TASK,
    FILES_TASK,
    FINISHED_TASK,
    HUNDRED_STEP_TASK,
    INJECTION_TEXT,
    LONG_TASK,
    MANY_TASKS,
    NO_SCREENSHOTS_TASK,
    RECORDED_SESSION,
    RUNNING_TASK,
    SHARED_SESSION,
    STOPPED_TASK,
    UNKNOWN_ID,
    UNTRUSTED_CONTENT_TASK,
    V1_GIF_TASK,
    V1_NO_GIF_TASK,
    V1_NULL_GIF_TASK,
    V1_ONLY_TASKS,
    V1_PAUSED_TASK,
    V1_UNNUMBERED_SCREENSHOTS_TASK,
    ZERO_WIDTH,
    Emulator,
    get_seed,
    run_emulator,
)
from tests.helpers import REPO

OPENAPI_DIR = REPO / "tests" / "fixtures" / "openapi"
V2_DOC = OPENAPI_DIR / "browser-use-cloud-v2.json"
V1_DOC = OPENAPI_DIR / "browser-use-cloud-v1.reconstructed.json"
V3_DOC = OPENAPI_DIR / "browser-use-cloud-v3.json"
V4_DOC = OPENAPI_DIR / "browser-use-cloud-v4.json"

SEED = get_seed()
V2_TASKS = [t.id for t in SEED.v2_tasks()]
V1_TASKS = [t.id for t in SEED.v1_tasks()]

# --------------------------------------------------------------------------------------
# Schema machinery
# --------------------------------------------------------------------------------------

FORMATS = FormatChecker()  # `uuid` is built in (stdlib); date-time and uri need extras, so:
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$")


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _ISO_DATETIME.match(value):
        raise ValueError(f"not an ISO 8601 date-time: {value!r}")
    datetime.fromisoformat(value)
    return True


@FORMATS.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URI: {value!r}")
    return True


class Spec:
    """One OpenAPI document, able to validate a body against an operation's response."""

    def __init__(self, path: Path, uri: str, path_prefix: str) -> None:
        if not path.exists():
            pytest.fail(f"OpenAPI document missing: {path} (it is vendored in the repository: restore it)")
        self.doc = json.loads(path.read_text())
        self.uri = uri
        self.path_prefix = path_prefix
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry: Registry = Registry().with_resource(uri, resource)
        self._cache: dict[tuple[str, str, int], Draft202012Validator] = {}

    def validator(self, path: str, status: int, method: str = "get") -> Draft202012Validator:
        key = (path, method, status)
        if key not in self._cache:
            operation = self.doc["paths"][path][method]
            assert str(status) in operation["responses"], f"{method.upper()} {path} documents no {status}"
            segments = [
                "paths",
                path,
                method,
                "responses",
                str(status),
                "content",
                "application/json",
                "schema",
            ]
            pointer = "/".join(s.replace("~", "~0").replace("/", "~1") for s in segments)
            schema = {"$ref": f"{self.uri}#/{quote(pointer, safe='/~')}"}
            self._cache[key] = Draft202012Validator(schema, registry=self.registry, format_checker=FORMATS)
        return self._cache[key]

    def check(self, response: httpx2.Response, path: str, method: str = "get") -> Any:
        """Validate `response` against `path` (as written in the document) and return its JSON."""
        assert response.headers["content-type"].startswith("application/json"), response.headers
        body = response.json()
        errors = sorted(self.validator(path, response.status_code, method).iter_errors(body), key=str)
        assert not errors, (
            f"{response.request.method} {response.request.url} -> {response.status_code} does not match "
            f"{path}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        )
        return body


@pytest.fixture(scope="module")
def v2_spec() -> Spec:
    return Spec(V2_DOC, "https://emulator.test/openapi/v2.json", "/api/v2")


@pytest.fixture(scope="module")
def v1_spec() -> Spec:
    return Spec(V1_DOC, "https://emulator.test/openapi/v1.json", "")


@pytest.fixture(scope="module")
def v3_spec() -> Spec:
    return Spec(V3_DOC, "https://emulator.test/openapi/v3.json", "/api/v3")


@pytest.fixture(scope="module")
def v4_spec() -> Spec:
    return Spec(V4_DOC, "https://emulator.test/openapi/v4.json", "/api/v4")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=10, trust_env=False) as c:
        yield c


@pytest.fixture
def v2(fresh_emulator: Emulator, client: httpx2.Client) -> Any:
    def get(path: str, **kwargs: Any) -> httpx2.Response:
        headers = kwargs.pop("headers", fresh_emulator.v2_headers)
        return client.get(f"{fresh_emulator.v2_url}{path}", headers=headers, **kwargs)

    return get


@pytest.fixture
def v1(fresh_emulator: Emulator, client: httpx2.Client) -> Any:
    def get(path: str, **kwargs: Any) -> httpx2.Response:
        headers = kwargs.pop("headers", fresh_emulator.v1_headers)
        return client.get(f"{fresh_emulator.v1_url}{path}", headers=headers, **kwargs)

    return get


@pytest.fixture
def v3(fresh_emulator: Emulator, client: httpx2.Client) -> Any:
    def get(path: str, **kwargs: Any) -> httpx2.Response:
        headers = kwargs.pop("headers", fresh_emulator.v2_headers)
        return client.get(f"{fresh_emulator.v3_url}{path}", headers=headers, **kwargs)

    return get


@pytest.fixture
def v4(fresh_emulator: Emulator, client: httpx2.Client) -> Any:
    def get(path: str, **kwargs: Any) -> httpx2.Response:
        headers = kwargs.pop("headers", fresh_emulator.v2_headers)
        return client.get(f"{fresh_emulator.v4_url}{path}", headers=headers, **kwargs)

    return get


# --------------------------------------------------------------------------------------
# The documents are in the repository
# --------------------------------------------------------------------------------------

VENDORED = {
    "browser-use-cloud-v1.reconstructed.json": "Browser Use Cloud API v1 (LEGACY) - RECONSTRUCTED",
    "browser-use-cloud-v2.json": "Browser Use Public API v2",
    "browser-use-cloud-v3.json": "Browser Use Public API v3",
    "browser-use-cloud-v4.json": "Browser Use Public API v4",
}


@pytest.mark.parametrize(("name", "title"), VENDORED.items())
def test_openapi_document_is_vendored(name: str, title: str) -> None:
    path = OPENAPI_DIR / name
    assert path.is_file(), f"{path} is missing: the OpenAPI documents live in the repository"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["openapi"].startswith("3.1"), name
    assert doc["info"]["title"] == title
    assert doc["paths"], name
    assert name in (OPENAPI_DIR / "README.md").read_text(encoding="utf-8"), f"{name}: provenance not stated"


# --------------------------------------------------------------------------------------
# The validation itself can fail
# --------------------------------------------------------------------------------------


def test_validator_rejects_broken_bodies(v2: Any, v1: Any, v2_spec: Spec, v1_spec: Spec) -> None:
    good = v2(f"/tasks/{FINISHED_TASK}").json()
    validator = v2_spec.validator("/tasks/{task_id}", 200)
    assert validator.is_valid(good)

    def broken(mutate: Any) -> dict[str, Any]:
        body = json.loads(json.dumps(good))
        mutate(body)
        return body

    cases = {
        "missing steps": lambda b: b.pop("steps"),
        "v1 status word": lambda b: b.update(status="running"),
        "id not a uuid": lambda b: b.update(id="not-a-uuid"),
        "createdAt free text": lambda b: b.update(createdAt="yesterday"),
        "action not a string": lambda b: b["steps"][0].update(actions=[{"click": {"index": 1}}]),
        "cost not decimal": lambda b: b.update(cost="about a dollar"),
        "file without name": lambda b: b["outputFiles"].append({"id": UNKNOWN_ID}),
    }
    for name, mutate in cases.items():
        assert not validator.is_valid(broken(mutate)), f"validator accepted a body with {name}"

    v1_validator = v1_spec.validator("/api/v1/task/{task_id}", 200)
    v1_good = v1(f"/task/{FINISHED_TASK}").json()
    assert v1_validator.is_valid(v1_good)
    assert not v1_validator.is_valid({**v1_good, "status": "started"})
    assert not v1_validator.is_valid({**v1_good, "steps": [{"id": "x", "step": 1}]})
    assert not v1_spec.validator("/api/v1/task/{task_id}/status", 200).is_valid({"status": "finished"})
    assert not v1_spec.validator("/api/v1/task/{task_id}/screenshots", 200).is_valid(
        {"screenshots": ["/rel.png"]}
    )


# --------------------------------------------------------------------------------------
# v2
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/status", "/logs"])
def test_v2_task_endpoints_conform_for_every_seeded_task(v2: Any, v2_spec: Spec, suffix: str) -> None:
    for task_id in V2_TASKS:
        body = v2_spec.check(v2(f"/tasks/{task_id}{suffix}"), f"/tasks/{{task_id}}{suffix}")
        if suffix != "/logs":
            assert body["id"] == task_id
            assert body["status"] == SEED.tasks[task_id].v2_status
    for bad in ("not-a-uuid", "1234", f"{FINISHED_TASK}x"):
        body = v2_spec.check(v2(f"/tasks/{bad}{suffix}"), f"/tasks/{{task_id}}{suffix}")
        assert body["detail"][0]["loc"] == ["path", "task_id"]
    for missing in (UNKNOWN_ID, V1_GIF_TASK):  # a v1-only task does not exist in v2
        response = v2(f"/tasks/{missing}{suffix}")
        assert response.status_code == 404
        assert v2_spec.check(response, f"/tasks/{{task_id}}{suffix}") == {"detail": "Task not found"}


def test_v2_task_content(v2: Any) -> None:
    finished = v2(f"/tasks/{FINISHED_TASK}").json()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?", finished["createdAt"])  # naive UTC
    assert finished["isSuccess"] is True and finished["judgeVerdict"] is True
    assert finished["cost"] and finished["llm"] and finished["browserUseVersion"]
    assert finished["metadata"] and finished["suggestions"]
    assert len(finished["steps"]) == 8
    assert all(s["screenshotUrl"] for s in finished["steps"])
    assert json.loads(finished["steps"][2]["actions"][0]) == {"click": {"index": 31}}
    assert json.loads(finished["steps"][-1]["actions"][0])["done"]["success"] is True

    failed = v2(f"/tasks/{FAILED_TASK}").json()
    assert failed["status"] == "failed" and failed["isSuccess"] is False and failed["judgeVerdict"] is False
    assert json.loads(failed["judgement"])["verdict"] is False
    assert failed["output"].startswith("Could not book")
    assert failed["steps"][3]["evaluationPreviousGoal"].startswith("Failed - ")

    running = v2(f"/tasks/{RUNNING_TASK}/status").json()
    assert running["status"] == "started" and running["finishedAt"] is None and running["output"] is None
    created = v2(f"/tasks/{CREATED_TASK}").json()
    assert created["steps"] == [] and created["startedAt"] is None
    assert v2(f"/tasks/{STOPPED_TASK}").json()["status"] == "stopped"
    assert len(v2(f"/tasks/{LONG_TASK}").json()["steps"]) == 500
    assert len(v2(f"/tasks/{HUNDRED_STEP_TASK}").json()["steps"]) == 100
    assert all(s["screenshotUrl"] is None for s in v2(f"/tasks/{NO_SCREENSHOTS_TASK}").json()["steps"])

    untrusted = v2(f"/tasks/{UNTRUSTED_CONTENT_TASK}").json()
    text = json.dumps(untrusted, ensure_ascii=False)
    assert INJECTION_TEXT in text and "```" in text and ZERO_WIDTH in text
    assert all(ch in text for ch in BIDI_CONTROLS)
    assert "\x1b[" in untrusted["steps"][2]["memory"]

    assert len(set(MANY_TASKS)) == 100
    for task_id in MANY_TASKS[:5]:
        assert v2(f"/tasks/{task_id}/status").json()["status"] == "finished"


def test_v2_list_conforms_paginates_and_filters(v2: Any, v2_spec: Spec) -> None:
    pages = [
        v2_spec.check(v2("/tasks", params={"pageSize": 100, "pageNumber": n}), "/tasks") for n in (1, 2, 3)
    ]
    assert [len(p["items"]) for p in pages] == [100, 20, 0]
    assert all(p["totalItems"] == 120 and p["pageSize"] == 100 for p in pages)
    items = pages[0]["items"] + pages[1]["items"]
    assert [i["id"] for i in items] == V2_TASKS and len(set(V2_TASKS)) == 120
    created = [i["createdAt"] for i in items]
    assert created == sorted(created, reverse=True)  # newest first

    default = v2_spec.check(v2("/tasks"), "/tasks")
    assert (default["pageSize"], default["pageNumber"], len(default["items"])) == (10, 1, 10)

    counts = {}
    for status in ("created", "started", "finished", "failed", "stopped"):
        body = v2_spec.check(v2("/tasks", params={"filterBy": status, "pageSize": 100}), "/tasks")
        assert {i["status"] for i in body["items"]} <= {status}
        counts[status] = body["totalItems"]
    assert sum(counts.values()) == 120 and all(counts.values())

    shared = v2_spec.check(v2("/tasks", params={"sessionId": SHARED_SESSION}), "/tasks")
    assert {i["id"] for i in shared["items"]} == {FINISHED_TASK, NO_SCREENSHOTS_TASK}

    window = v2_spec.check(
        v2(
            "/tasks",
            params={"after": "2026-11-20T08:00:00Z", "before": "2026-11-20T09:30:00", "pageSize": 100},
        ),
        "/tasks",
    )
    assert window["items"] and all(
        "2026-11-20T08" <= i["createdAt"] < "2026-11-20T09:30" for i in window["items"]
    )

    for params, field in [
        ({"pageSize": 0}, "pageSize"),
        ({"pageSize": 101}, "pageSize"),
        ({"pageSize": "ten"}, "pageSize"),
        ({"pageNumber": 0}, "pageNumber"),
        ({"filterBy": "running"}, "filterBy"),
        ({"sessionId": "abc"}, "sessionId"),
        ({"after": "last tuesday"}, "after"),
    ]:
        response = v2("/tasks", params=params)
        assert response.status_code == 422, params
        assert v2_spec.check(response, "/tasks")["detail"][0]["loc"] == ["query", field]


def test_v2_output_files_conform_and_download(v2: Any, v2_spec: Spec, client: httpx2.Client) -> None:
    files = v2(f"/tasks/{FILES_TASK}").json()["outputFiles"]
    assert [f["fileName"] for f in files] == [
        "sales_q1_q4.csv",
        "sales_summary.json",
        "revenue_chart.png",
        "raw_export_log.txt",
    ]
    path = "/files/tasks/{task_id}/output-files/{file_id}"
    contents = {}
    for f in files:
        body = v2_spec.check(v2(f"/files/tasks/{FILES_TASK}/output-files/{f['id']}"), path)
        assert body["id"] == f["id"] and body["fileName"] == f["fileName"]
        download = client.get(body["downloadUrl"])
        assert download.status_code == 200
        contents[f["fileName"]] = download.content
    assert contents["sales_q1_q4.csv"].startswith(b"quarter,revenue_usd")
    assert json.loads(contents["sales_summary.json"])["year"] == 2025
    assert contents["revenue_chart.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert len(contents["raw_export_log.txt"]) > 2 * 1024 * 1024

    unknown_file = v2(f"/files/tasks/{FILES_TASK}/output-files/{UNKNOWN_ID}")
    assert unknown_file.status_code == 404
    assert v2_spec.check(unknown_file, path) == {"detail": "Output file not found"}
    unknown_task = v2(f"/files/tasks/{UNKNOWN_ID}/output-files/{files[0]['id']}")
    assert v2_spec.check(unknown_task, path) == {"detail": "Task not found"}
    invalid = v2(f"/files/tasks/{FILES_TASK}/output-files/report.csv")
    assert invalid.status_code == 422
    assert v2_spec.check(invalid, path)["detail"][0]["loc"] == ["path", "file_id"]


def test_v2_logs_download_as_text(v2: Any, client: httpx2.Client) -> None:
    url = v2(f"/tasks/{FINISHED_TASK}/logs").json()["downloadUrl"]
    log = client.get(url)
    assert log.status_code == 200 and log.headers["content-type"].startswith("text/plain")
    lines = log.text.splitlines()
    assert 300 <= len(lines) < 2000
    assert any("Step 8:" in line for line in lines)


def test_v2_sessions_conform(v2: Any, v2_spec: Spec, client: httpx2.Client) -> None:
    for session_id, session in SEED.sessions.items():
        body = v2_spec.check(v2(f"/sessions/{session_id}"), "/sessions/{session_id}")
        assert [t["id"] for t in body["tasks"]] == sorted(
            session.task_ids, key=lambda i: SEED.tasks[i].created_at, reverse=True
        )
        assert (body["recordingUrl"] is not None) == (session_id == RECORDED_SESSION)
    recorded = v2(f"/sessions/{RECORDED_SESSION}").json()
    assert [t["id"] for t in recorded["tasks"]] == [FILES_TASK]
    video = client.get(recorded["recordingUrl"])
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    assert v2(f"/sessions/{SEED.tasks[RUNNING_TASK].session_id}").json()["status"] == "active"

    missing = v2(f"/sessions/{UNKNOWN_ID}")
    assert missing.status_code == 404
    assert v2_spec.check(missing, "/sessions/{session_id}") == {"detail": "Session not found"}
    assert v2(f"/sessions/{FINISHED_TASK}").status_code == 404  # a task id is not a session id
    assert v2_spec.check(v2("/sessions/zzz"), "/sessions/{session_id}")["detail"][0]["type"] == "uuid_parsing"


def test_v2_auth(v2: Any, emulator: Emulator) -> None:
    for headers in ({}, {"X-Browser-Use-API-Key": "wrong"}, emulator.v1_headers):
        response = v2(f"/tasks/{FINISHED_TASK}", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid API key"}
    assert v2("/tasks", headers={}).status_code == 401


def test_api_key_is_configurable() -> None:
    with run_emulator(api_key="test-key-custom") as emu, httpx2.Client(trust_env=False) as c:
        url = f"{emu.v2_url}/tasks/{FINISHED_TASK}"
        assert c.get(url, headers={"X-Browser-Use-API-Key": "test-key-custom"}).status_code == 200
        assert c.get(url, headers={"X-Browser-Use-API-Key": "bu-test-key-0123456789"}).status_code == 401
        v1_url = f"{emu.v1_url}/task/{FINISHED_TASK}"
        assert c.get(v1_url, headers={"Authorization": "Bearer test-key-custom"}).status_code == 200


# --------------------------------------------------------------------------------------
# v3 (sessions and messages) and v4 (runs and events)
# --------------------------------------------------------------------------------------


def _expires(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0])


def test_v3_sessions_and_messages_conform(v3: Any, v3_spec: Spec, client: httpx2.Client) -> None:
    assert SEED.v3_sessions, "no v3 session is seeded"
    for session in SEED.v3_sessions.values():
        body = v3_spec.check(v3(f"/sessions/{session.id}"), "/sessions/{session_id}")
        assert body["id"] == session.id and body["status"] == session.status
        messages: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 4, **({"after": after} if after else {})}
            page = v3_spec.check(
                v3(f"/sessions/{session.id}/messages", params=params), "/sessions/{session_id}/messages"
            )
            messages += page["messages"]
            if not page["hasMore"]:
                break
            after = page["messages"][-1]["id"]
        assert len({m["id"] for m in messages}) == len(messages)
        assert messages[0]["role"] == "human" and messages[0]["type"] == "user_message"
        shots = [m["screenshotUrl"] for m in messages if m["screenshotUrl"]]
        assert all(_expires(u) == 300 for u in shots)  # "expires after 5 minutes"
        task = SEED.tasks[session.id]
        assert len(shots) == len(task.screenshot_steps)
    types = {
        m["type"] for m in v3(f"/sessions/{RUNNING_TASK}/messages", params={"limit": 100}).json()["messages"]
    }
    assert {"browser_action", "browser_action_result", "planning", "sandbox_telemetry"} <= types
    failed = v3(f"/sessions/{FAILED_TASK}/messages", params={"limit": 100}).json()["messages"]
    assert any(m["type"] == "browser_action_error" for m in failed)
    assert failed[-1]["type"] == "completion"
    listing = v3_spec.check(v3("/sessions", params={"page_size": 100}), "/sessions")
    assert listing["total"] == len(SEED.v3_sessions) == len(listing["sessions"])
    created = [s["createdAt"] for s in listing["sessions"]]
    assert created == sorted(created, reverse=True)
    for params in ({"page_size": 0}, {"page_size": 101}, {"page": 0}):
        assert (
            v3_spec.check(v3("/sessions", params=params), "/sessions")
            and v3("/sessions", params=params).status_code == 422
        )
    v3_spec.check(v3("/sessions/not-a-uuid"), "/sessions/{session_id}")
    missing = v3(f"/sessions/{UNKNOWN_ID}")
    assert missing.status_code == 404 and missing.json() == {"detail": "Session not found"}

    files_session = v3_spec.check(v3(f"/sessions/{FILES_TASK}"), "/sessions/{session_id}")
    assert (
        files_session["recordingUrls"]
        and client.get(files_session["recordingUrls"][0]).content[4:12] == b"ftypisom"
    )
    workspace = files_session["workspaceId"]
    files = v3_spec.check(
        v3(f"/workspaces/{workspace}/files", params={"includeUrls": "true"}),
        "/workspaces/{workspace_id}/files",
    )["files"]
    assert [f["path"] for f in files] == [f.name for f in SEED.tasks[FILES_TASK].output_files]
    assert all(_expires(f["url"]) == 60 for f in files)  # "60s expiry"
    assert client.get(files[0]["url"]).content.startswith(b"quarter,")
    bare = v3(f"/workspaces/{workspace}/files").json()["files"]
    assert all(f["url"] is None for f in bare)


def test_v4_runs_events_and_browsers_conform(v4: Any, v4_spec: Spec, client: httpx2.Client) -> None:
    assert SEED.v4_runs, "no v4 run is seeded"
    for run in SEED.v4_runs.values():
        body = v4_spec.check(v4(f"/runs/{run.id}"), "/runs/{run_id}")
        assert body["id"] == run.id and body["status"] == run.status and body["sessionId"] != run.id
        assert v4_spec.check(v4(f"/runs/{run.id}/status"), "/runs/{run_id}/status") == {"status": run.status}
        events: list[dict[str, Any]] = []
        after = 0
        while True:
            page = v4_spec.check(
                v4(f"/runs/{run.id}/events", params={"after": after, "limit": 3}), "/runs/{run_id}/events"
            )
            events += page["events"]
            if not page["hasMore"]:
                break
            after = page["nextAfter"]
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    running = {e["type"] for e in v4(f"/runs/{RUNNING_TASK}/events").json()["events"]}
    assert {"browser.ready", "agent.step", "x.vendor.debug", "tool.error"} <= running
    failed = v4(f"/runs/{FAILED_TASK}/events").json()["events"]
    assert failed[-1]["type"] == "run.failed" and any("error" in e["data"] for e in failed[:-1])
    assert not any(
        "screenshot_url" in e["data"] for e in v4(f"/runs/{NO_SCREENSHOTS_TASK}/events").json()["events"]
    )

    runs: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = v4_spec.check(
            v4("/runs", params={"limit": 4, **({"cursor": cursor} if cursor else {})}), "/runs"
        )
        runs += page["runs"]
        if not page["hasMore"]:
            break
        cursor = page["nextCursor"]
    assert [r["id"] for r in runs] == [r.id for r in SEED.v4_list()]
    assert v4("/runs", params={"cursor": "bogus"}).status_code == 400
    v4_spec.check(v4("/runs/not-a-uuid"), "/runs/{run_id}")
    assert v4(f"/runs/{UNKNOWN_ID}").status_code == 404

    files_run = v4(f"/runs/{FILES_TASK}").json()
    browsers = v4_spec.check(v4("/browsers", params={"agentSessionId": files_run["sessionId"]}), "/browsers")
    (item,) = browsers["items"]
    assert item["recordingUrl"] is None  # only the detail carries it
    detail = v4_spec.check(v4(f"/browsers/{item['id']}"), "/browsers/{session_id}")
    assert client.get(detail["recordingUrl"]).content[4:12] == b"ftypisom"
    files = v4_spec.check(
        v4(f"/workspaces/{files_run['workspaceId']}/files", params={"includeUrls": "true"}),
        "/workspaces/{workspace_id}/files",
    )["files"]
    assert len(files) == 4 and all(_expires(f["url"]) == 60 for f in files)


# --------------------------------------------------------------------------------------
# v1
# --------------------------------------------------------------------------------------


def test_v1_task_endpoints_conform_for_every_seeded_task(v1: Any, v1_spec: Spec) -> None:
    for task_id in V1_TASKS:
        task = SEED.tasks[task_id]
        body = v1_spec.check(v1(f"/task/{task_id}"), "/api/v1/task/{task_id}")
        assert body["id"] == task_id and body["status"] == task.v1_status
        assert [s["step"] for s in body["steps"]] == [s.number for s in task.steps]
        assert v1_spec.check(v1(f"/task/{task_id}/status"), "/api/v1/task/{task_id}/status") == task.v1_status
        shots = v1_spec.check(v1(f"/task/{task_id}/screenshots"), "/api/v1/task/{task_id}/screenshots")
        assert len(shots["screenshots"]) == len(task.screenshot_steps)
        v1_spec.check(v1(f"/task/{task_id}/media"), "/api/v1/task/{task_id}/media")
        v1_spec.check(v1(f"/task/{task_id}/gif"), "/api/v1/task/{task_id}/gif")
    for suffix in ("", "/status", "/screenshots", "/gif", "/media"):
        response = v1(f"/task/{UNKNOWN_ID}{suffix}")
        assert response.status_code == 404
        assert v1_spec.check(response, f"/api/v1/task/{{task_id}}{suffix}") == {"detail": "Task not found"}


def test_v1_content(v1: Any, client: httpx2.Client) -> None:
    finished = v1(f"/task/{FINISHED_TASK}").json()
    assert finished["created_at"].endswith("Z")
    assert finished["browser_data"]["cookies"] and finished["public_share_url"]
    assert set(finished["steps"][0]) == {"id", "step", "evaluation_previous_goal", "next_goal", "url"}
    assert v1(f"/task/{RUNNING_TASK}/status").json() == "running"
    assert v1(f"/task/{V1_PAUSED_TASK}/status").json() == "paused"
    assert v1(f"/task/{V1_PAUSED_TASK}").json()["finished_at"] is None
    assert v1(f"/task/{RUNNING_TASK}/media").json() == {"recordings": []}  # documented choice

    shots = v1(f"/task/{FINISHED_TASK}/screenshots").json()["screenshots"]
    assert [urlsplit(u).path.rsplit("/", 1)[1] for u in shots] == [f"step_{n}.png" for n in range(1, 9)]
    unnumbered = v1(f"/task/{V1_UNNUMBERED_SCREENSHOTS_TASK}/screenshots").json()["screenshots"]
    names = [urlsplit(u).path.rsplit("/", 1)[1] for u in unnumbered]
    assert len(names) == 3 and all(re.fullmatch(r"shot-[0-9a-f]{4}\.png", n) for n in names)
    assert v1(f"/task/{NO_SCREENSHOTS_TASK}/screenshots").json() == {"screenshots": []}

    gif_url = v1(f"/task/{V1_GIF_TASK}/gif").json()["gif"]
    gif = Image.open(io.BytesIO(client.get(gif_url).content))
    assert gif.format == "GIF" and gif.n_frames == 4
    assert v1(f"/task/{V1_NULL_GIF_TASK}/gif").json() == {"gif": None}
    gone = v1(f"/task/{V1_NO_GIF_TASK}/gif")
    assert gone.status_code == 404 and gone.json() == {"detail": "Not Found"}

    recordings = v1(f"/task/{FILES_TASK}/media").json()["recordings"]
    assert [urlsplit(u).path.rsplit(".", 1)[1] for u in recordings] == ["mp4", "webm"]
    mp4, webm = (client.get(u).content for u in recordings)
    assert mp4[4:12] == b"ftypisom" and webm[:4] == b"\x1a\x45\xdf\xa3" and b"webm" in webm[:40]

    assert finished["output_files"] == []
    files = v1(f"/task/{FILES_TASK}").json()["output_files"]
    assert "raw_export_log.txt" in files
    download = v1(f"/task/{FILES_TASK}/output-file/sales_q1_q4.csv").json()["download_url"]
    assert client.get(download).content.startswith(b"quarter,")
    missing = v1(f"/task/{FILES_TASK}/output-file/nope.csv")
    assert missing.status_code == 404 and missing.json() == {"detail": "File not found"}

    for task_id in V1_ONLY_TASKS.values():
        assert v1(f"/task/{task_id}").status_code == 200


def test_v1_list_conforms_and_paginates(v1: Any, v1_spec: Spec) -> None:
    first = v1_spec.check(v1("/tasks", params={"page": 1, "limit": 100}), "/api/v1/tasks")
    second = v1_spec.check(v1("/tasks", params={"page": 2, "limit": 100}), "/api/v1/tasks")
    assert first["total_count"] == 125 and first["total_pages"] == 2
    ids = [t["id"] for t in first["tasks"] + second["tasks"]]
    assert ids == V1_TASKS
    created = [t["created_at"] for t in first["tasks"] + second["tasks"]]
    assert created == sorted(created, reverse=True)
    assert v1_spec.check(v1("/tasks"), "/api/v1/tasks")["limit"] == 10
    for params in ({"limit": 0}, {"limit": 101}, {"page": 0}, {"page": "x"}):
        response = v1("/tasks", params=params)
        assert response.status_code == 422
        v1_spec.check(response, "/api/v1/tasks")


def test_v1_auth(v1: Any, emulator: Emulator) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer nope"},
        emulator.v2_headers,
        {"Authorization": emulator.api_key},
    ):
        response = v1(f"/task/{FINISHED_TASK}", headers=headers)
        assert response.status_code == 401 and response.json() == {"detail": "Invalid API key"}


# --------------------------------------------------------------------------------------
# Media
# --------------------------------------------------------------------------------------


def test_screenshots_are_distinct_pngs_behind_presigned_urls(
    v2: Any, client: httpx2.Client, emulator: Emulator
) -> None:
    steps = v2(f"/tasks/{FINISHED_TASK}").json()["steps"]
    url = steps[0]["screenshotUrl"]
    assert url.startswith(f"{emulator.base_url}/media/screenshots/{FINISHED_TASK}/step_1.png?")
    query = parse_qs(urlsplit(url).query)
    assert re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"][0]) and int(query["X-Amz-Expires"][0]) > 0
    first, second = (client.get(s["screenshotUrl"]) for s in steps[:2])
    assert first.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(first.content))
    assert image.format == "PNG" and image.size == (1280, 960)
    assert first.content != second.content

    tampered = url.replace(query["X-Amz-Signature"][0], "0" * 64)
    denied = client.get(tampered)
    assert denied.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in denied.content
    assert client.get(url.split("?", 1)[0]).status_code == 403


def test_one_screenshot_url_is_expired(v2: Any, v1: Any, client: httpx2.Client) -> None:
    steps = v2(f"/tasks/{EXPIRED_SCREENSHOT_TASK}").json()["steps"]
    answers = [client.get(s["screenshotUrl"]) for s in steps]
    assert [a.status_code for a in answers] == [200, 403, 200]
    body = answers[1].text
    assert answers[1].headers["content-type"] == "application/xml"
    assert "<Error><Code>AccessDenied</Code><Message>Request has expired</Message>" in body
    assert (
        v1(f"/task/{EXPIRED_SCREENSHOT_TASK}/screenshots").json()["screenshots"][1]
        == steps[1]["screenshotUrl"]
    )


def test_media_urls_use_the_api_host(v2: Any, emulator: Emulator) -> None:
    url = v2(f"/tasks/{FINISHED_TASK}/logs").json()["downloadUrl"]
    assert url.startswith(f"{emulator.base_url}/media/logs/{FINISHED_TASK}/")


# --------------------------------------------------------------------------------------
# Faults and the request log
# --------------------------------------------------------------------------------------


def test_429_with_retry_after_twice_then_normal(fresh_emulator: Emulator, v2: Any, v2_spec: Spec) -> None:
    fault = fresh_emulator.faults.add(429, path="/api/v2/tasks", times=2, retry_after=1)
    answers = [v2(f"/tasks/{FINISHED_TASK}") for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["retry-after"] == "1" and "retry-after" not in answers[2].headers
    assert "concurrent" in answers[0].json()["detail"]
    v2_spec.check(answers[2], "/tasks/{task_id}")
    assert fault.hits == 2 and fault.remaining == 0
    assert [r.fault for r in fresh_emulator.requests()] == ["429", "429", None]


def test_fault_statuses_and_matching(fresh_emulator: Emulator, v2: Any, v1: Any) -> None:
    faults = fresh_emulator.faults
    faults.add(503, regex=r"^/api/v2/tasks/[^/]+/status$", method="GET", times=1)
    faults.add(402, path="/api/v1/", times=1)
    faults.add(429, path="/api/v2/sessions/", retry_after=3, retry_after_as_date=True, times=1)
    assert v2(f"/tasks/{FINISHED_TASK}").status_code == 200  # regex does not match
    assert v2(f"/tasks/{FINISHED_TASK}/status").status_code == 503
    assert v2(f"/tasks/{FINISHED_TASK}/status").status_code == 200
    spend = v1(f"/task/{FINISHED_TASK}")
    assert spend.status_code == 402 and set(spend.json()["detail"]) == {"code", "message", "cap", "spent"}
    dated = v2(f"/sessions/{SHARED_SESSION}")
    assert dated.status_code == 429 and dated.headers["retry-after"].endswith(" GMT")
    faults.add(404, path="/api/v2/", method="POST")
    assert v2(f"/tasks/{FINISHED_TASK}").status_code == 200  # method does not match
    faults.add(500, path="/media/", times=1, detail="boom")
    shot = v2(f"/tasks/{FINISHED_TASK}").json()["steps"][0]["screenshotUrl"]
    with httpx2.Client(trust_env=False) as c:
        failing = c.get(shot)
        assert failing.status_code == 500 and failing.json() == {"detail": "boom"}


def test_body_faults(fresh_emulator: Emulator, v2: Any) -> None:
    faults = fresh_emulator.faults
    faults.add("malformed_json", path="/api/v2/", times=1)
    bad = v2(f"/tasks/{FINISHED_TASK}")
    assert bad.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad.content)
    faults.add("html_error", path="/api/v2/", times=1)
    html = v2(f"/tasks/{FINISHED_TASK}")
    assert html.status_code == 502 and html.headers["content-type"].startswith("text/html")
    faults.add("wrong_shape", path="/api/v2/", times=1)
    assert "steps" not in v2(f"/tasks/{FINISHED_TASK}").json()
    faults.add("reset_mid_body", path="/api/v2/", times=1)
    with pytest.raises(httpx2.RemoteProtocolError):
        v2(f"/tasks/{FINISHED_TASK}")
    faults.add("huge_body", path="/api/v2/", times=1, size=5 * 1024 * 1024)
    huge = v2(f"/tasks/{FINISHED_TASK}")
    assert len(huge.content) == 5 * 1024 * 1024 and "content-length" not in huge.headers
    faults.add("trickle", path="/api/v2/", times=1, chunk_size=64, interval=0.01)
    assert v2(f"/tasks/{FINISHED_TASK}/status").json()["id"] == FINISHED_TASK
    assert v2(f"/tasks/{FINISHED_TASK}").status_code == 200  # every fault used up
    kinds = [r.fault for r in fresh_emulator.requests()]
    assert kinds == [
        "malformed_json",
        "html_error",
        "wrong_shape",
        "reset_mid_body",
        "huge_body",
        "trickle",
        None,
    ]


def test_client_disconnect_is_recorded(fresh_emulator: Emulator, v2: Any) -> None:
    fresh_emulator.faults.add("delay", path="/api/v2/", delay=5)
    started = time.monotonic()
    with pytest.raises(httpx2.TimeoutException):
        v2(f"/tasks/{FINISHED_TASK}", timeout=0.3)
    record = fresh_emulator.log.wait_for(lambda r: r.client_disconnected, timeout=3)
    assert record is not None and record.fault == "delay" and not record.completed
    assert time.monotonic() - started < 3  # the delay stopped when the client went away


def test_http_control_api_and_request_log(fresh_emulator: Emulator, v2: Any, client: httpx2.Client) -> None:
    base = fresh_emulator.base_url
    added = client.post(f"{base}/_emulator/faults", json={"kind": 429, "path": "/api/v2/tasks", "times": 1})
    assert added.status_code == 201 and added.json()["faults"][0]["remaining"] == 1
    assert client.post(f"{base}/_emulator/faults", json={"kind": "nonsense"}).status_code == 400
    assert v2("/tasks").status_code == 429
    assert v2("/tasks", params={"pageSize": 5}).status_code == 200
    log = client.get(f"{base}/_emulator/requests").json()
    assert log["counts"] == {"/api/v2/tasks": 2}
    first, second = log["requests"]
    assert second["query"] == "pageSize=5" and first["status"] == 429 and first["fault"] == "429"
    for record in log["requests"]:
        assert "x-browser-use-api-key" not in record["headers"] and "authorization" not in record["headers"]
        assert record["auth_header"] == "x-browser-use-api-key" and record["completed"]
        assert not record["client_disconnected"]
    assert client.post(f"{base}/_emulator/reset").status_code == 200
    assert client.get(f"{base}/_emulator/requests").json() == {"requests": [], "counts": {}}
    assert client.get(f"{base}/_emulator/faults").json() == {"faults": []}


def test_standalone_module_prints_base_url_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url), base_url
        with httpx2.Client(trust_env=False, timeout=10) as c:
            response = c.get(
                f"{base_url}/api/v2/tasks/{FINISHED_TASK}/status",
                headers={"X-Browser-Use-API-Key": "bu-test-key-0123456789"},
            )
        assert response.json()["status"] == "finished"
    finally:
        process.terminate()
        process.wait(timeout=10)
