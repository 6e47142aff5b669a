"""What start-up leaves unloaded (issue 14): the across-runs walk, the comparison's diffing and the
across-runs text load with the first call that needs them, and those calls then work.

A fresh interpreter per check, since this test process has long since imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR

#: Loaded by the first search, statistics or comparison call (or the debug prompt), not to answer `tools/list`.
DEFERRED = (
    "difflib",
    "browser_use_tasks_mcp.across.scan",
    "browser_use_tasks_mcp.render.across",
)

CHILD = """
import json, sys

import anyio

from browser_use_tasks_mcp.app import build_server
from browser_use_tasks_mcp.config import Settings

deferred, runs_dir = json.loads(sys.argv[1]), sys.argv[2]


def loaded():
    return [name for name in deferred if name in sys.modules]


async def main():
    server = build_server(Settings(source="local", runs_dir=runs_dir))
    after_build = loaded()
    from mcp import Client

    async with Client(server) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        after_list = loaded()
        calls = {}
        for name, args in (
            ("search_tasks", {"query": "widget"}),
            ("task_stats", {"group_by": "status"}),
            ("compare_tasks", {"task_a": "order-blue-widget", "task_b": "red-gadget-expired-coupon"}),
        ):
            result = await client.call_tool(name, args)
            calls[name] = {"error": result.is_error, "text": result.content[0].text[:300]}
    print(json.dumps({"after_build": after_build, "after_list": after_list, "tools": tools,
                      "calls": calls, "after_calls": loaded()}))


anyio.run(main)
"""


def _child() -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(DEFERRED), str(BUNDLED_RUNS_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return report


def test_start_up_leaves_the_across_runs_work_unloaded_until_a_call_needs_it() -> None:
    report = _child()
    assert report["after_build"] == [], "imported while building the server"
    assert report["after_list"] == [], "imported to answer tools/list"
    tools, calls = report["tools"], report["calls"]
    assert isinstance(tools, list) and isinstance(calls, dict)
    assert {"search_tasks", "task_stats", "compare_tasks"} <= set(tools)
    for name, call in calls.items():
        assert not call["error"], f"{name}: {call['text']}"
    # The calls did load them: the list above names modules that the tools really use.
    assert report["after_calls"] == list(DEFERRED)
