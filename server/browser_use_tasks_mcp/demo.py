"""`browser-use-tasks-mcp demo`: show a newcomer what an assistant sees, through a real MCP client.

It starts the server in-process on the configured source (the bundled example runs when
nothing is configured), connects an MCP client, and prints the text of a few tool calls.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import anyio
from mcp import Client

from .app import build_server
from .config import Settings


def _text(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "type", "") == "text")


async def _demo(settings: Settings, out: io.StringIO) -> int:
    server = build_server(settings)
    async with Client(server) as client:
        tools = await client.list_tools()
        print(f"Connected. Tools: {', '.join(t.name for t in tools.tools)}\n", file=out)
        listing = await client.call_tool("list_tasks", {"page_size": 5})
        print("$ list_tasks(page_size=5)\n" + _text(listing), file=out)
        if listing.is_error:
            return 1
        items = (listing.structured_content or {}).get("page", {}).get("items", [])
        if not items:
            print("No tasks to show.", file=out)
            return 0
        task_id = items[0]["id"]
        task = await client.call_tool("get_task", {"task_id": task_id})
        print(f"$ get_task(task_id={task_id!r})\n" + _text(task), file=out)
        failing = (task.structured_content or {}).get("failing_steps") or []
        if failing:
            step = await client.call_tool("get_step", {"task_id": task_id, "step": failing[0]})
            print(f"$ get_step(task_id={task_id!r}, step={failing[0]})\n" + _text(step), file=out)
        print(
            "That is what an assistant reads. Plug the server into your client with the README's snippets "
            "(Claude Desktop, Claude Code, VS Code, Cursor).",
            file=out,
        )
        return 1 if task.is_error else 0


def run_demo(settings: Settings) -> int:
    # Collected first and printed after the client has closed, so `demo | head` ends quietly.
    out = io.StringIO()
    status = anyio.run(_demo, settings, out)
    try:
        sys.stdout.write(out.getvalue())
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status
