"""The run viewer, an MCP App: the `ui://` resource hosts render, and the data `get_task` hands it.

`get_task` names the viewer in its tool `_meta`; a host that renders MCP Apps shows it beside the
answer and feeds it the result. Only for such a host (`client_supports_apps`) does the result carry
more: a `_meta` entry with one row per step for the timeline. The text and structured content stay
exactly what every other host gets, and `_meta` never reaches the model. The viewer loads each
step's details and screenshot itself through the host bridge (`get_step`) when the person selects it.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from mcp.server.apps import Apps, ResourceCsp

from ..models import Step, Task
from ..untrusted import clean_line

VIEWER_URI = "ui://browser-use-tasks/run-viewer.html"
#: The key under the result's `_meta` the viewer reads its timeline from.
TIMELINE_KEY = "browser-use-tasks/timeline"
#: `ui` is the MCP Apps key; `ui/resourceUri` the flat key hosts of the first drafts read.
TOOL_META: dict[str, Any] = {"ui": {"resourceUri": VIEWER_URI}, "ui/resourceUri": VIEWER_URI}
#: A 500-step run fits (about 150 KB); longer runs show their first rows and say so.
MAX_ROWS = 500
MAX_ACTIONS = 6


@cache
def viewer_html() -> str:
    return files(__package__).joinpath("run_viewer.html").read_text(encoding="utf-8")


def extension() -> Apps:
    """The MCP Apps extension: advertises the capability and serves the viewer's HTML."""
    apps = Apps()
    apps.add_html_resource(
        VIEWER_URI,
        viewer_html(),
        name="run-viewer",
        title="Browser Use run viewer",
        description="Interactive view of one task: header, step timeline, each step's screenshot and record.",
        # No domain at all: the viewer fetches nothing; screenshots come through the host bridge.
        csp=ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[]),
        prefers_border=True,
    )
    return apps


def timeline_meta(task: Task) -> dict[str, Any]:
    """The result `_meta` for an Apps host: every step (up to `MAX_ROWS`) as one short row."""
    rows = [_row(step) for step in task.steps[:MAX_ROWS]]
    return {TIMELINE_KEY: {"task_id": task.id, "step_count": len(task.steps), "steps": rows}}


def _row(step: Step) -> dict[str, Any]:
    names = [a.name for a in step.actions]
    return {
        "number": step.number,
        "actions": [clean_line(n, 40) for n in names[:MAX_ACTIONS]],
        "more_actions": max(0, len(names) - MAX_ACTIONS),
        "next_goal": clean_line(step.next_goal, 160) or None,
        "url": clean_line(step.url, 200) or None,
        "errors": len(step.errors),
        "duration_s": step.duration_s,
    }
