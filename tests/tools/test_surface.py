"""The tool surface (names, descriptions, schemas, annotations) and the inventory of tool tests.

The tool names come from `tools/list`, never from a hand-kept list: a new tool without its
own test file and snapshots fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.snapshot import SNAPSHOTS, assert_snapshot
from tests.tools.common import SOURCES, Source, listed_tools, tool_names

pytestmark = pytest.mark.anyio
HERE = Path(__file__).parent


async def test_tool_surface_snapshot(source: Source) -> None:
    """The surface is the same on every source, and equals the stored snapshot."""
    async with source.client() as client:
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
    assert_snapshot(
        "tool_surface.json", json.dumps(surface, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    )


def test_tool_invariants() -> None:
    tools = listed_tools()
    names = [t.name for t in tools]
    assert len(names) == len(set(names)), "tool names must be unique"
    for tool in tools:
        assert tool.annotations is not None, tool.name
        assert tool.annotations.read_only_hint is True and tool.annotations.destructive_hint is False
        assert tool.annotations.idempotent_hint is not None and tool.annotations.open_world_hint is not None
        assert tool.output_schema is not None, tool.name
        assert "Example:" in (tool.description or ""), tool.name
        for key in ("anyOf", "oneOf", "allOf"):
            assert key not in tool.input_schema, f"{tool.name}: top-level {key} breaks some providers"
        assert tool.input_schema.get("type") == "object"
    listing_size = len(json.dumps([t.model_dump(mode="json", by_alias=True) for t in tools]))
    print(f"\ntools/list: {len(tools)} tools, {listing_size} characters")
    # The whole tool list is sent to the model on every turn: keep it lean.
    assert listing_size < 60_000


@pytest.mark.parametrize("name", tool_names())
def test_every_listed_tool_has_its_test_file_and_snapshots_on_every_source(name: str) -> None:
    assert (HERE / f"test_{name}.py").is_file(), f"tests/tools/test_{name}.py is missing"
    stored = {p.name for p in (SNAPSHOTS / name).glob("*.md")}
    for source in SOURCES:
        assert any(s.startswith(f"{source}-") for s in stored), f"no {source} snapshot of {name}"
    for md in stored:
        assert (SNAPSHOTS / name / md).with_suffix(".json").is_file(), f"{name}/{md} has no .json twin"


def test_every_tool_test_file_and_snapshot_folder_names_a_listed_tool() -> None:
    names = set(tool_names())
    non_tool = {"surface", "resources", "prompts", "completions", "errors", "snapshot_helper", "run_viewer"}
    for path in HERE.glob("test_*.py"):
        stem = path.stem.removeprefix("test_")
        assert stem in names | non_tool, f"{path.name} tests no tool that tools/list lists"
    for folder in (p for p in SNAPSHOTS.iterdir() if p.is_dir()):
        assert folder.name in names | {"resources", "prompts", "errors"}, (
            f"stale snapshot folder {folder.name}"
        )
