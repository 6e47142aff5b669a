"""Shared test helpers: build servers on each source, call tools, validate structured output."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema
from mcp import Client
from mcp_types import CallToolResult, ImageContent, TextContent
from pydantic import SecretStr

from browser_use_tasks_mcp.app import build_server
from browser_use_tasks_mcp.config import Settings
from browser_use_tasks_mcp.examples import BUNDLED_RUNS_DIR

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TEST_KEY = "bu-test-key-0123456789"


def local_settings(runs_dir: Path = BUNDLED_RUNS_DIR, **extra: Any) -> Settings:
    return Settings(source="local", runs_dir=runs_dir, **extra)


def cloud_settings(base_url: str, *, version: str = "v2", key: str = TEST_KEY, **extra: Any) -> Settings:
    values: dict[str, Any] = {"request_timeout_s": 5.0, "call_deadline_s": 20.0}
    values.update(extra)
    return Settings(
        source="cloud",
        api_key=SecretStr(key),
        api_version=version,
        base_url=base_url,
        **values,  # type: ignore[arg-type]
    )


def client_for(settings: Settings) -> Client:
    return Client(build_server(settings))


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def images_of(result: CallToolResult) -> list[tuple[str, bytes]]:
    return [
        (block.mime_type, base64.b64decode(block.data))
        for block in result.content
        if isinstance(block, ImageContent)
    ]


async def call_ok(client: Client, name: str, args: dict[str, Any]) -> CallToolResult:
    """Call a tool, assert success, and validate its structured content against its output schema."""
    result = await client.call_tool(name, args)
    assert not result.is_error, text_of(result)
    tools = {t.name: t for t in (await client.list_tools()).tools}
    schema = tools[name].output_schema
    assert schema is not None, f"{name} has no output schema"
    jsonschema.validate(result.structured_content, schema)
    return result


async def call_error(client: Client, name: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error, f"{name}({args}) unexpectedly succeeded: {text_of(result)[:300]}"
    return text_of(result)


def dumps(value: Any) -> str:
    return json.dumps(value, indent=1, sort_keys=True, default=str)
