"""The MCP server class: `MCPServer` plus recent tasks' step logs in `resources/list` and completions.

`resources/list` and completions get no request context from the SDK, so the state the
lifespan opened is kept on the server itself.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp_types import Completion, PromptReference, ResourceTemplateReference
from mcp_types import Resource as MCPResource

from . import uris
from .errors import TasksError
from .state import AppState
from .untrusted import clean_line

MAX_COMPLETIONS = 50
#: Interactive lookups answer fast or not at all.
MAX_LOOKUP_S = 10.0
PROMPTS_WITH_TASK_ID = ("debug_task", "summarize_task")


class TasksServer(MCPServer[AppState]):
    state: AppState | None = None
    #: The process-wide state the lifespan borrows (`app.ProcessState`); the HTTP transports hold it.
    process: Any = None

    async def list_resources(self) -> list[MCPResource]:
        listed = await super().list_resources()
        if self.state is None:
            return listed
        try:
            with anyio.fail_after(min(MAX_LOOKUP_S, self.state.call_deadline_s)):
                recent = await self.state.service.recent_tasks()
        except (TasksError, TimeoutError):
            return listed  # listing must not fail because the source is down
        return listed + [
            MCPResource(
                uri=uris.steps_log(item.id),
                name=f"steps-{item.id}",
                title=f"Step log: {clean_line(item.task, 60) or item.id} ({item.status})",
                description=f"Every step of task {item.id} as markdown.",
                mime_type="text/markdown",
            )
            for item in recent
        ]

    async def complete_task_argument(self, ref: Any, argument: Any, context: Any) -> Completion | None:
        """Recent task ids for `task_id`, step numbers for `step`; nothing rather than an error."""
        if self.state is None:
            return None
        prefix = (argument.value or "").strip()
        try:
            with anyio.fail_after(min(MAX_LOOKUP_S, self.state.call_deadline_s)):
                values = await self._candidates(ref, argument.name, context)
        except (TasksError, TimeoutError):
            return Completion(values=[])
        if values is None:
            return None
        matching = [v for v in values if v.startswith(prefix)]
        return Completion(
            values=matching[:MAX_COMPLETIONS], total=len(matching), has_more=len(matching) > MAX_COMPLETIONS
        )

    async def _candidates(self, ref: Any, name: str, context: Any) -> list[str] | None:
        assert self.state is not None
        service = self.state.service
        if name == "task_id" and _takes_task_id(ref):
            return [t.id for t in await service.recent_tasks()]
        task_id = (context.arguments or {}).get("task_id") if context is not None else None
        if name == "step" and task_id:
            return [str(s.number) for s in (await service.get_task(task_id)).steps]
        return None


def _takes_task_id(ref: Any) -> bool:
    if isinstance(ref, PromptReference):
        return ref.name in PROMPTS_WITH_TASK_ID
    return isinstance(ref, ResourceTemplateReference) and uris.takes_task_id(ref.uri)
