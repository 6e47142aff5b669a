"""What the server lifespan opens once and every handler reads: the service and the call deadline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from .service import TaskService


@dataclass
class AppState:
    service: TaskService
    call_deadline_s: float
    #: Values never to appear in any answer (the API key), whatever an upstream echoes back.
    secrets: tuple[str, ...] = ()
    #: The runs folder, when the server reads the Cloud but a runs folder is set too: `compare_tasks`
    #: reads a `local:<run id>` from it, to compare a local run with a Cloud run.
    local: TaskService | None = None


def app_state(ctx: Context[Any, Any]) -> AppState:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState)
    return state
