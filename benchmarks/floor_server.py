"""The SDK's floor: the least an MCP server on this SDK can do for `get_task` over stdio.

One `MCPServer`, one tool, one pooled `httpx2` GET of the task, the JSON text returned as is: no
validation of ours, no mapping, no rendering, no cache. `python -m benchmarks` runs it beside the
real server against the same emulated task, so "our overhead" is measured against what the SDK
itself costs on this machine in the same run (`FLOOR_BASE_URL`, `FLOOR_API_KEY` say where to read).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from mcp.server.mcpserver import MCPServer

BASE_URL = os.environ["FLOOR_BASE_URL"]
HEADERS = {"X-Browser-Use-API-Key": os.environ["FLOOR_API_KEY"]}
pool: dict[str, httpx2.AsyncClient] = {}


@asynccontextmanager
async def lifespan(_: MCPServer) -> AsyncIterator[None]:
    async with httpx2.AsyncClient(timeout=15.0) as client:
        pool["client"] = client
        yield


floor = MCPServer("sdk-floor", lifespan=lifespan)


@floor.tool()
async def get_task(task_id: str) -> str:
    """The task's JSON as the API sent it."""
    response = await pool["client"].get(f"{BASE_URL}/tasks/{task_id}", headers=HEADERS)
    response.raise_for_status()
    return response.text


if __name__ == "__main__":
    floor.run("stdio")
