"""The MCP tools, one file each: description, parameters, annotations and handler together.

Handlers are thin: ask the service, hand the result to `render`, return text for the
model plus structured content for programs. Every failure becomes an `isError` result
through `guard.run_tool`. To add a tool, add its file and one entry to `TOOLS`.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from . import (
    compare_tasks,
    get_gif,
    get_media,
    get_output_file,
    get_step,
    get_task,
    list_screenshots,
    list_tasks,
    search_tasks,
    task_stats,
    wait_for_task,
)
from .common import ToolSpec

#: In the order `tools/list` shows them: the starting point first.
TOOLS: tuple[ToolSpec, ...] = (
    get_task.TOOL,
    get_step.TOOL,
    list_screenshots.TOOL,
    get_gif.TOOL,
    get_media.TOOL,
    list_tasks.TOOL,
    get_output_file.TOOL,
    wait_for_task.TOOL,
    search_tasks.TOOL,
    task_stats.TOOL,
    compare_tasks.TOOL,
)


def register_tools(server: MCPServer[Any]) -> None:
    for spec in TOOLS:
        server.tool(
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=spec.annotations,
            meta=spec.meta,
        )(spec.handler)
