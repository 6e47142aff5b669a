"""What a history says about each step, read as browser-use writes it: tabs, the element each action
used, the page the agent saw, failing steps by one rule, and a run that never called done."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import TextResourceContents

from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR
from browser_use_tasks_mcp.untrusted import sanitize
from tests.emulator import FINISHED_TASK, Emulator
from tests.helpers import call_ok, client_for, cloud_settings, local_settings, text_of

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


@pytest.mark.parametrize(
    ("run", "failing"),
    [
        ("red-gadget-expired-coupon", [3, 4, 5]),
        ("order-blue-widget", [3]),
        ("trade-login-max-steps", [2, 3, 5, 6]),
    ],
)
async def test_one_failing_step_rule_an_error_or_the_next_steps_failed_verdict(
    run: str, failing: list[int]
) -> None:
    """As on the Cloud: a step fails when its action reported an error or the next step judged it failed."""
    history = raw_history(run)
    expected = [
        index + 1
        for index, item in enumerate(history)
        if any(r.get("error") for r in item["result"])
        or (
            index + 1 < len(history)
            and (history[index + 1]["model_output"] or {})
            .get("evaluation_previous_goal", "")
            .startswith("Failed")
        )
    ]
    assert expected == failing  # the recorded runs say so; the server must agree
    async with client_for(local_settings()) as client:
        task = await call_ok(client, "get_task", {"task_id": run})
        prompt = await client.get_prompt("debug_task", {"task_id": run})
    assert task.structured_content["failing_steps"] == failing  # type: ignore[index]
    # get_task and debug_task lead with the first failing step, the likely cause.
    assert f'get_step(task_id="{run}", step={failing[0]})' in text_of(task)
    # The prompt's step details centre on it: the step before, it, the step after.
    headings = [m.content.text.split("\n", 1)[0] for m in prompt.messages if hasattr(m.content, "text")]
    shown = [h for h in headings if h.startswith("# Step ")]
    assert f"# Step {failing[0]} of task {run} (with errors)" in shown
    assert shown[0].startswith(f"# Step {max(1, failing[0] - 1)} of task")


async def test_a_run_without_done_shows_what_its_last_action_returned_labelled_as_such(
    tmp_path: Path,
) -> None:
    run = "red-gadget-expired-coupon"
    shutil.copytree(BUNDLED_RUNS_DIR / run, tmp_path / run)
    path = tmp_path / run / "AgentHistory.json"
    data = json.loads(path.read_text())
    data["history"] = data["history"][:-1]  # the run stopped before its `done` step
    last = data["history"][-1]["result"][-1]
    last["extracted_content"] = "Navigated back to the checkout page"
    last.pop("is_done", None)
    path.write_text(json.dumps(data))
    async with client_for(local_settings(tmp_path)) as client:
        result = await call_ok(client, "get_task", {"task_id": run})
    task = result.structured_content["task"]  # type: ignore[index]
    assert task["output"] is None
    assert task["last_action_result"] == "Navigated back to the checkout page"
    text = text_of(result)
    assert "## Final output\n_None: the run never called `done`._" in text
    assert "## What the last action returned (not a final answer)\n```untrusted\nNavigated back" in text
    async with client_for(local_settings()) as client:
        finished = await call_ok(client, "get_task", {"task_id": "order-blue-widget"})
    assert finished.structured_content["task"]["last_action_result"] is None  # type: ignore[index]


async def test_the_page_the_agent_saw_is_a_resource_linked_from_get_step() -> None:
    history = raw_history(RUN)
    async with client_for(local_settings()) as client:
        result = await call_ok(client, "get_step", {"task_id": RUN, "step": 3})
        uri = result.structured_content["page_seen_uri"]  # type: ignore[index]
        assert uri == f"browser-use://tasks/{RUN}/steps/3/page"
        assert f"**What the agent saw:** the page as sent to its LLM, resource `{uri}`." in text_of(result)
        assert any(getattr(b, "uri", None) == uri for b in result.content)
        read = await client.read_resource(uri)
    (content,) = read.contents
    assert isinstance(content, TextResourceContents) and content.mime_type == "text/plain"
    assert content.text == sanitize(history[2]["state_message"])
    assert "<user_request>" in content.text


async def test_a_long_page_view_is_cut_and_a_missing_one_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_RUNS_DIR / RUN, tmp_path / RUN)
    path = tmp_path / RUN / "AgentHistory.json"
    data = json.loads(path.read_text())
    data["history"][1]["state_message"] = "[12]<button>Buy</button>\n" * 10_000  # 250,000 characters
    del data["history"][3]["state_message"]
    path.write_text(json.dumps(data))
    async with client_for(local_settings(tmp_path)) as client:
        long = await client.read_resource(f"browser-use://tasks/{RUN}/steps/2/page")
        without = await call_ok(client, "get_step", {"task_id": RUN, "step": 4})
        with pytest.raises(MCPError, match="no saved page view"):
            await client.read_resource(f"browser-use://tasks/{RUN}/steps/4/page")
        with pytest.raises(MCPError, match="has no step 99"):
            await client.read_resource(f"browser-use://tasks/{RUN}/steps/99/page")
    (content,) = long.contents
    assert isinstance(content, TextResourceContents)
    assert content.text.startswith("[page view cut: showing the first 60000 characters]\n[12]<button>Buy")
    assert len(content.text) < 61_000
    assert without.structured_content["page_seen_uri"] is None  # type: ignore[index]
    assert "What the agent saw" not in text_of(without)


async def test_cloud_sources_say_they_keep_no_page_view(fresh_emulator: Emulator) -> None:
    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        step = await call_ok(client, "get_step", {"task_id": FINISHED_TASK, "step": 2})
        with pytest.raises(MCPError, match="does not keep what the agent's LLM was sent"):
            await client.read_resource(f"browser-use://tasks/{FINISHED_TASK}/steps/2/page")
    assert step.structured_content["page_seen_uri"] is None  # type: ignore[index]


async def test_usage_structured_output_and_attachments_when_the_history_has_them(tmp_path: Path) -> None:
    """Token usage and cost (browser-use's UsageSummary, once save_history() keeps it), the done
    action's `data` (structured output) and the files attached to the answer."""
    shutil.copytree(BUNDLED_RUNS_DIR / RUN, tmp_path / RUN)
    path = tmp_path / RUN / "AgentHistory.json"
    data = json.loads(path.read_text())
    data["usage"] = {
        "total_prompt_tokens": 48_210,
        "total_completion_tokens": 1_933,
        "total_tokens": 50_143,
        "total_cost": 0.0123456789,
        "entry_count": 7,
    }
    last = data["history"][-1]
    last["model_output"]["action"] = [{"done": {"data": {"order": "ACME-1042", "qty": 3}, "success": True}}]
    last["result"][-1]["attachments"] = ["/tmp/browser_use_agent_x/browseruse_agent_data/receipt.pdf"]
    path.write_text(json.dumps(data))
    async with client_for(local_settings(tmp_path)) as client:
        result = await call_ok(client, "get_task", {"task_id": RUN})
    task = result.structured_content["task"]  # type: ignore[index]
    assert task["cost_usd"] == "0.0123456789"  # exact, as written
    metadata = task["metadata"]
    assert (metadata["total_input_tokens"], metadata["total_output_tokens"]) == (48_210, 1_933)
    assert metadata["output_data"] == {"order": "ACME-1042", "qty": 3}
    assert metadata["attachments"] == ["receipt.pdf"]
    text = text_of(result)
    assert "**Cost:** $0.0123456789 · **Tokens:** 48,210 in / 1,933 out" in text
    assert "task.metadata.output_data" in text
    assert "**Attached to the answer:** receipt.pdf" in text
    async with client_for(local_settings()) as client:  # the bundled run saved no usage
        plain = await call_ok(client, "get_task", {"task_id": RUN})
    assert "Tokens" not in text_of(plain) and plain.structured_content["task"]["cost_usd"] is None  # type: ignore[index]
