"""What the server process opens once and every handler reads: the service and the call deadline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import Context

from .service import TaskService

if TYPE_CHECKING:
    from .tenancy import KeyedServices


@dataclass
class AppState:
    service: TaskService
    call_deadline_s: float
    #: Values never to appear in any answer (the API key), whatever an upstream echoes back.
    secrets: tuple[str, ...] = ()
    #: Each user's own key's service (BROWSER_USE_MCP_CLIENT_KEYS); None: everyone uses `service`.
    keyed: KeyedServices | None = None
    #: The runs folder, when the server reads the Cloud but a runs folder is set too: `compare_tasks`
    #: reads a `local:<run id>` from it, to compare a local run with a Cloud run.
    local: TaskService | None = None

    async def service_for(self, ctx: Context[Any, Any]) -> tuple[TaskService, tuple[str, ...]]:
        """The service this request is answered with, and the secrets to scrub from its answer."""
        if self.keyed is None:
            return self.service, self.secrets
        service, key = await self.keyed.for_request(ctx)
        return service, self.secrets if key is None else (*self.secrets, key)


def app_state(ctx: Context[Any, Any]) -> AppState:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, AppState)
    return state
