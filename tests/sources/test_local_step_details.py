"""Tabs and the element each action used, read from the history as browser-use writes them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from tests.helpers import call_ok, client_for, local_settings, text_of

pytestmark = pytest.mark.anyio
RUN = "order-blue-widget"


def raw_history(run: str) -> list[dict]:  # type: ignore[type-arg]
    return json.loads((BUNDLED_RUNS_DIR / run / "AgentHistory.json").read_text())["history"]  # type: ignore[no-any-return]


async def test_each_action_names_the_element_it_used() -> None:
    history = raw_history(RUN)
    async with client_for(local_settings()) as client:
        for index, item in enumerate(history):
            number = item["metadata"]["step_number"]
            step = (await call_ok(client, "get_step", {"task_id": RUN, "step": number})).structured_content
            recorded = item["state"]["interacted_element"] or []
            for action, element in zip(step["step"]["actions"], recorded, strict=False):  # type: ignore[index]
                if element is None:
                    assert action["element"] is None
                    continue
                assert action["element"]["xpath"] == element["x_path"], (index, action)
                assert action["element"]["tag"] == element["node_name"].lower()
                assert action["element"]["id"] == element["attributes"].get("id")


async def test_tabs_are_listed_with_the_active_one_marked(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_RUNS_DIR / RUN, tmp_path / RUN)
    path = tmp_path / RUN / "AgentHistory.json"
    data = json.loads(path.read_text())
    state = data["history"][2]["state"]
    state["tabs"] = [
        {"url": "https://other.example/", "title": "Other", "target_id": "A1B2"},
        {"url": state["url"], "title": "Product", "target_id": "C3D4"},
    ]
    path.write_text(json.dumps(data))
    async with client_for(local_settings(tmp_path)) as client:
        result = await call_ok(client, "get_step", {"task_id": RUN, "step": 3})
    tabs = result.structured_content["step"]["tabs"]  # type: ignore[index]
    assert [(t["target_id"], t["active"]) for t in tabs] == [("A1B2", False), ("C3D4", True)]
    text = text_of(result)
    assert "## Tabs (2)" in text and "**active** `" + state["url"] in text
