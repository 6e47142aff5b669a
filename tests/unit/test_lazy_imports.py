"""Start-up (issue 14): what it leaves unloaded (the across-runs walk, the comparison's diffing and the
across-runs text load with the first call that needs them, and those calls then work), and the
collector it leaves behind (off while the server is built, then on again for serving).

A fresh interpreter per check, since this test process has long since imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR

#: Loaded by the first search, statistics or comparison call (or the debug prompt), not to answer `tools/list`.
DEFERRED = (
    "difflib",
    "browser_use_tasks_mcp.across.scan",
    "browser_use_tasks_mcp.render.across",
)
#: A server on local runs never loads the Cloud sources: each source's module loads with its row.
CLOUD_SOURCES = tuple(
    f"browser_use_tasks_mcp.sources.{name}"
    for name in ("cloud_auto", "cloud_v1", "cloud_v2", "cloud_v3", "cloud_v4")
)

CHILD = """
import json, sys

import anyio

from browser_use_tasks_mcp.app import build_server
from browser_use_tasks_mcp.config import Settings

deferred, runs_dir, cloud = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])


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
                      "calls": calls, "after_calls": loaded(),
                      "cloud": [name for name in cloud if name in sys.modules]}))


anyio.run(main)
"""


def _child() -> dict[str, object]:
    run = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(DEFERRED), str(BUNDLED_RUNS_DIR), json.dumps(CLOUD_SOURCES)],
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
    assert report["cloud"] == [], "a server on local runs loaded Cloud sources"


SERVE_AND_REPORT = """
import gc, json, sys

from browser_use_tasks_mcp import cli

code = cli.main([])  # stdio; stdin is empty, so it serves nothing and returns
print(json.dumps({"code": code, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
                  "threshold": gc.get_threshold()}), file=sys.stderr)
"""


def test_the_console_script_serves_with_the_collector_on_and_its_start_up_frozen() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWSER_USE_")}
    env["BROWSER_USE_RUNS_DIR"] = str(BUNDLED_RUNS_DIR)
    run = subprocess.run(
        [sys.executable, "-c", SERVE_AND_REPORT],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == ""  # stdio mode: nothing but protocol messages, and there were none
    report = json.loads(run.stderr.strip().splitlines()[-1])
    assert report["code"] == 0
    assert report["enabled"], "the collector stayed off after start-up"
    assert report["frozen"] > 10_000, "start-up's objects were not moved out of the collector's sight"
    assert report["threshold"][0] == 50_000
