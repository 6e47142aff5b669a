"""Snapshots: the tool surface and what a model reads, so any change to them is a reviewed diff.

Run with `UPDATE_SNAPSHOTS=1` to rewrite the files under tests/snapshots/ after an intended change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.emulator import FAILED_TASK, Emulator
from tests.helpers import call_ok, client_for, cloud_settings, local_settings, text_of

pytestmark = pytest.mark.anyio
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def check_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"snapshot {name} was missing and has been written; review and commit it")
    assert actual == path.read_text(encoding="utf-8"), (
        f"{name} changed; rerun with UPDATE_SNAPSHOTS=1 if intended"
    )


async def test_tool_surface_snapshot_and_invariants() -> None:
    async with client_for(local_settings()) as client:
        tools = (await client.list_tools()).tools
        prompts = (await client.list_prompts()).prompts
        templates = (await client.list_resource_templates()).resource_templates
    surface = {
        "tools": [
            {
                "name": t.name,
                "title": t.title,
                "description": t.description,
                "annotations": t.annotations.model_dump(mode="json", by_alias=True, exclude_none=True)
                if t.annotations
                else None,
                "inputSchema": t.input_schema,
                "outputSchema": t.output_schema,
            }
            for t in sorted(tools, key=lambda t: t.name)
        ],
        "prompts": sorted(p.name for p in prompts),
        "resourceTemplates": sorted(t.uri_template for t in templates),
    }
    text = json.dumps(surface, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    check_snapshot("tool_surface.json", text)

    names = [t.name for t in tools]
    assert len(names) == len(set(names)), "tool names must be unique"
    for tool in tools:
        assert tool.annotations is not None, tool.name
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False
        assert tool.annotations.idempotent_hint is not None and tool.annotations.open_world_hint is not None
        for key in ("anyOf", "oneOf", "allOf"):
            assert key not in tool.input_schema, f"{tool.name}: top-level {key} breaks some providers"
        assert tool.input_schema.get("type") == "object"
    listing_size = len(json.dumps([t.model_dump(mode="json", by_alias=True) for t in tools]))
    print(f"\ntools/list: {len(tools)} tools, {listing_size} characters")
    # The whole tool list is sent to the model on every turn: keep it lean.
    assert listing_size < 60_000


async def test_get_task_text_snapshot_local() -> None:
    async with client_for(local_settings()) as client:
        result = await call_ok(client, "get_task", {"task_id": "red-gadget-expired-coupon"})
    check_snapshot("get_task_local_failed_run.md", text_of(result))


async def test_get_task_text_snapshot_cloud(fresh_emulator: Emulator) -> None:
    async with client_for(cloud_settings(fresh_emulator.v2_url)) as client:
        task = await call_ok(client, "get_task", {"task_id": FAILED_TASK})
        step = await call_ok(client, "get_step", {"task_id": FAILED_TASK, "step": 3})
    check_snapshot("get_task_cloud_v2_failed.md", text_of(task))
    check_snapshot("get_step_cloud_v2_failed_step3.md", text_of(step))
