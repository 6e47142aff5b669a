"""Shared test helpers: build servers on each source, call tools, validate structured output."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment without any BROWSER_USE_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROWSER_USE_")}
    env.update(extra)
    return env


def cloud_env(emu: Any, **extra: str) -> dict[str, str]:
    """A server subprocess's environment for Cloud API v2 on the emulator `emu`."""
    return server_env(BROWSER_USE_API_KEY=emu.api_key, BROWSER_USE_BASE_URL=emu.v2_url, **extra)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_process(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The console script serving over HTTP on a free loopback port, until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "browser_use_tasks_mcp", "--port", str(port), *args],
        env=env if env is not None else server_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    process.stderr.read().decode() if process.stderr else "server did not start"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
