"""The run viewer (an MCP App) as the protocol sees it, on every source.

A client that negotiates MCP Apps gets from `get_task` exactly what every other client gets,
plus a `_meta` timeline for the viewer; a client without Apps gets no timeline at all. The
viewer itself is checked in a real browser in `tests/viewer/`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp_types import TextResourceContents

from browser_use_tasks_mcp.app import build_server
from browser_use_tasks_mcp.apps import MAX_ROWS, TIMELINE_KEY, VIEWER_URI
from tests.emulator import LONG_TASK, UNTRUSTED_CONTENT_TASK
from tests.helpers import call_ok
from tests.reliability.test_hostile_input import FORBIDDEN
from tests.tools.common import Source

pytestmark = pytest.mark.anyio


def apps_client(source: Source) -> Client:
    """A client that says it renders MCP Apps, as Claude Desktop or VS Code do."""
    ui = advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})
    return Client(build_server(source.settings), extensions=[ui])


def timeline(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    return (meta or {}).get(TIMELINE_KEY)


async def test_apps_hosts_get_the_same_answer_plus_a_timeline(source: Source) -> None:
    args = {"task_id": source.failed}
    async with source.client() as plain:
        before = await call_ok(plain, "get_task", args)
    async with apps_client(source) as apps:
        with_apps = await call_ok(apps, "get_task", args)
    # What the model reads is identical; only `_meta`, which hosts keep from the model, differs.
    assert with_apps.content == before.content
    assert with_apps.structured_content == before.structured_content
    assert timeline(before.meta) is None
    rows = timeline(with_apps.meta)
    assert rows is not None
    structured = with_apps.structured_content
    assert structured is not None
    assert rows["task_id"] == structured["task"]["id"]
    assert rows["step_count"] == structured["step_count"]
    numbers = [row["number"] for row in rows["steps"]]
    assert numbers == list(range(1, structured["step_count"] + 1))
    with_errors = [row["number"] for row in rows["steps"] if row["errors"]]
    assert with_errors == structured["failing_steps"]
    assert source.failing_step in numbers


async def test_get_task_names_the_viewer_and_the_server_serves_it(source: Source) -> None:
    async with apps_client(source) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        read = await client.read_resource(VIEWER_URI)
    assert tools["get_task"].meta is not None
    assert tools["get_task"].meta["ui"] == {"resourceUri": VIEWER_URI}
    assert all(t.meta is None or "ui" not in t.meta for name, t in tools.items() if name != "get_task")
    [contents] = read.contents
    assert isinstance(contents, TextResourceContents)
    assert contents.mime_type == APP_MIME_TYPE
    # A declared CSP with no remote domain of any kind.
    assert contents.meta is not None
    assert all(domains == [] for domains in contents.meta["ui"]["csp"].values())
    html = contents.text
    assert len(html.encode()) < 200_000
    assert "default-src 'none'" in html and "img-src data:" in html
    # Only the viewer's own script may run: the policy names it by hash, not 'unsafe-inline'.
    [script] = re.findall(r"<script>(.*?)</script>", html, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html, f"after editing the script, its hash is sha256-{digest}"
    assert "unsafe-inline" not in html.split("script-src", 1)[1].split(";", 1)[0]
    # Self-contained: no remote URL, no external script or stylesheet, and data never parsed as HTML.
    assert not re.search(r"https?://", html)
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", html)
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html and "document.write" not in html


async def test_a_long_run_is_capped_and_says_so(make_source: Any) -> None:
    source: Source = make_source("v2")
    async with apps_client(source) as client:
        result = await call_ok(client, "get_task", {"task_id": LONG_TASK})
    rows = timeline(result.meta)
    assert rows is not None
    assert rows["step_count"] == 500 and len(rows["steps"]) == min(500, MAX_ROWS)
    assert len(json.dumps(rows)) < 200_000  # what the host hands the viewer stays small


@pytest.mark.parametrize("version", ["v1", "v2", "v3", "v4"])
async def test_timeline_rows_are_clean_single_lines(version: str, make_source: Any) -> None:
    """Page-written text reaches the viewer as text, but without control, bidi or zero-width tricks."""
    source: Source = make_source(version)
    async with apps_client(source) as client:
        result = await call_ok(client, "get_task", {"task_id": UNTRUSTED_CONTENT_TASK})
    rows = timeline(result.meta)
    assert rows is not None and rows["steps"]
    texts = [row[key] or "" for row in rows["steps"] for key in ("next_goal", "url")]
    assert any(texts)
    for text in texts:
        assert not FORBIDDEN.search(text) and "\n" not in text, repr(text)


async def test_the_server_advertises_mcp_apps(source: Source) -> None:
    async with source.client() as client:
        capabilities = client.server_capabilities
    assert capabilities.extensions is not None and EXTENSION_ID in capabilities.extensions
