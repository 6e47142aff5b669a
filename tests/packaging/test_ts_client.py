"""A client built on the official MCP TypeScript SDK talks to the server over stdio.

`tests/node/stdio_client.mjs` uses the SDK's `Client` and `StdioClientTransport` (the same
classes TypeScript hosts use) to start `python -m browser_use_tasks_mcp`, list its tools
and call `get_task`. Needs Node.js 20+ and `npm ci --prefix tests/node`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from tests.helpers import REPO

NODE_DIR = REPO / "tests" / "node"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None,
    reason="Node.js is not installed; this test runs an MCP TypeScript SDK client, so install Node.js 20+ "
    "and run `npm ci --prefix tests/node`",
)


def run_ts_client(task_id: str, *env: str) -> dict[str, Any]:
    if not (NODE_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        pytest.fail("tests/node/node_modules is missing: run `npm ci --prefix tests/node` before pytest")
    cmd = [str(NODE), str(NODE_DIR / "stdio_client.mjs"), "--task", task_id]
    for pair in env:
        cmd += ["--env", pair]
    cmd += ["--", sys.executable, "-m", "browser_use_tasks_mcp"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=REPO)
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output (exit {result.returncode}); stderr:\n{result.stderr[-3000:]}"
    summary: dict[str, Any] = json.loads(lines[-1])
    assert result.returncode == 0 and "error" not in summary, summary
    return summary


def test_typescript_sdk_client_lists_tools_and_gets_a_task() -> None:
    # No configuration at all: the server serves its bundled example runs.
    summary = run_ts_client("order-blue-widget")
    assert {"get_task", "get_step", "list_tasks", "list_screenshots", "get_gif"} <= set(summary["tools"])
    assert summary["server"]["name"] == "browser-use-tasks"
    assert "tools" in summary["capabilities"]
    task = summary["get_task"]
    assert task["isError"] is False, task["text"]
    assert "ACME-1042" in task["text"]
    assert task["structuredContent"]["task"]["id"] == "order-blue-widget"


def test_typescript_sdk_client_sees_a_tool_error_as_a_result() -> None:
    summary = run_ts_client("no-such-run", "BROWSER_USE_SOURCE=local")
    task = summary["get_task"]
    assert task["isError"] is True
    assert "no-such-run" in task["text"]
