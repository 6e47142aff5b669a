"""`search_tasks`: runs matching every given filter, newest first, each with why it matched."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from ..guard import run_tool
from ..results import SearchResult, scan_info, search_hit
from ..service import TaskService
from ..state import app_state
from .common import ScanLimit, Since, SourceName, StatusFilter, ToolSpec, Until, result, scan_budget

DESCRIPTION = (
    "Find runs matching all the given filters, newest first, each with why it matched (the step or "
    "field, quoted). `query` matches the instruction, the final output and step goals; `url_contains` "
    "any page a step was on; `error_contains` step errors and the judge's failure reason; `model` the "
    "LLM. Scans at most `scan_limit` of the newest runs within the call deadline and says how far it "
    "got and how to look further.\n"
    'Example: search_tasks(error_contains="timed out", status="failed", since="7d")'
)


async def search_tasks(
    ctx: Context[Any, Any],
    query: Annotated[
        str | None, Field(description="Text in the instruction, final output or a step goal.", max_length=200)
    ] = None,
    status: StatusFilter = None,
    since: Since = None,
    until: Until = None,
    url_contains: Annotated[
        str | None, Field(description="Text in the URL of any step's page.", max_length=200)
    ] = None,
    error_contains: Annotated[
        str | None, Field(description="Text in a step error or the judge's failure reason.", max_length=200)
    ] = None,
    model: Annotated[
        str | None, Field(description="Text in the LLM's name, e.g. gpt-4.1.", max_length=200)
    ] = None,
    source: SourceName = None,
    limit: Annotated[int, Field(description="Matching runs to return, 1-100.", ge=1, le=100)] = 10,
    scan_limit: ScanLimit = 500,
) -> Annotated[CallToolResult, SearchResult]:
    async def work(service: TaskService) -> CallToolResult:
        # The walk and the matching load with the first search, not at start-up.
        from ..across.match import Needles, search
        from ..across.scan import scan, window_of
        from ..render.across import render_search

        needles = Needles.of(
            query=query, url_contains=url_contains, error_contains=error_contains, model=model
        )
        window = window_of(
            service, status=status, since=since, until=until, source=source, scan_limit=scan_limit
        )
        found = await scan(service, window, scan_budget(app_state(ctx).call_deadline_s))
        hits, matches = search(found.runs, needles, limit)
        info = scan_info(found, window)
        structured = SearchResult(
            hits=[search_hit(run, why) for run, why in hits], matches=matches, scan=info
        )
        given = {
            "query": query,
            "status": status,
            "since": since,
            "until": until,
            "url_contains": url_contains,
            "error_contains": error_contains,
            "model": model,
            "source": source,
        }
        return result(render_search(structured.hits, matches, info, given, limit), structured)

    return await run_tool(ctx, "search_tasks", work)


TOOL = ToolSpec(search_tasks, title="Search tasks", description=DESCRIPTION)
