"""`task_stats`: counts, rates, cost, durations and the top failure signatures over many runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from ..across.stats import MAX_GROUPS, groups, stats
from ..guard import run_tool
from ..results import TaskStatsResult, scan_info
from ..service import TaskService
from ..state import app_state
from .common import ScanLimit, Since, SourceName, ToolSpec, Until, result, scan_budget

DESCRIPTION = (
    "Statistics over the newest runs: counts by status, agent-success and judge-pass rates, cost and "
    "tokens (total and per run), duration p50/p95, step counts, and the top failure signatures (errors "
    "with numbers, ids, URLs and quoted values stripped, each with a count and two example runs). "
    "`group_by` splits the runs by day, model, domain, source or status. Scans at most `scan_limit` "
    "runs within the call deadline and says how far it got.\n"
    'Example: task_stats(since="7d", group_by="day")'
)


async def task_stats(
    ctx: Context[Any, Any],
    since: Since = None,
    until: Until = None,
    source: SourceName = None,
    group_by: Annotated[
        Literal["day", "model", "domain", "source", "status"] | None,
        Field(
            description="Split the runs by day (UTC), model, domain (of the first page), source or status."
        ),
    ] = None,
    scan_limit: ScanLimit = 500,
) -> Annotated[CallToolResult, TaskStatsResult]:
    async def work(service: TaskService) -> CallToolResult:
        # The walk over the listing loads with the first scan, not at start-up.
        from ..across.scan import scan, window_of
        from ..render.across import render_stats

        window = window_of(
            service, status=None, since=since, until=until, source=source, scan_limit=scan_limit
        )
        found = await scan(service, window, scan_budget(app_state(ctx).call_deadline_s))
        summary = stats(found.runs)
        split = groups(found.runs, group_by) if group_by else []
        info = scan_info(found, window)
        structured = TaskStatsResult(
            stats=summary,
            group_by=group_by,
            groups=split[:MAX_GROUPS],
            groups_truncated=len(split) > MAX_GROUPS,
            scan=info,
        )
        given = {"since": since, "until": until, "source": source}
        text = render_stats(summary, info, given, group_by, split, len(split) > MAX_GROUPS)
        return result(text, structured)

    return await run_tool(ctx, "task_stats", work)


TOOL = ToolSpec(task_stats, title="Task statistics", description=DESCRIPTION)
