"""What the tool files share: argument types, annotations, and the content blocks they return."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from mcp_types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from .. import budget, render
from ..media import Rendered
from ..models import Screenshot
from ..results import ImageAttachment

#: Every tool only reads; the same call gives the same answer; the data comes from outside.
READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)

TaskId = Annotated[
    str,
    Field(
        description="A task id, as listed by `list_tasks` (a UUID for Browser Use Cloud v2; a run folder name for "
        "local runs).",
        max_length=200,
    ),
]
Resolution = Annotated[
    Literal["preview", "full"],
    Field(description="`preview` (long side ≤ 1024 px, a few hundred KB) or `full` resolution."),
]


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its handler (whose signature is its input schema) and how it presents itself."""

    handler: Callable[..., Any]
    title: str
    description: str
    annotations: ToolAnnotations = field(default_factory=lambda: READ_ONLY)
    #: Tool `_meta`, e.g. the MCP App a host renders with the result.
    meta: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.handler.__name__


def result(markdown: str, structured: BaseModel | dict[str, Any], *extra: ContentBlock) -> CallToolResult:
    """Text for the model and structured content for programs, the latter cut to its byte budget."""
    data, cut = bounded(structured)
    return fitted(markdown, data, cut, *extra)


def bounded(structured: BaseModel | dict[str, Any]) -> tuple[dict[str, Any], bool]:
    data = structured if isinstance(structured, dict) else structured.model_dump(mode="json")
    return budget.fit(data)


def fitted(markdown: str, data: dict[str, Any], cut: bool, *extra: ContentBlock) -> CallToolResult:
    if cut:
        markdown += render.structured_cut(budget.STRUCTURED_BUDGET)
    return CallToolResult(content=[TextContent(type="text", text=markdown), *extra], structured_content=data)


def image_block(rendered: Rendered) -> ImageContent:
    return ImageContent(
        type="image", data=base64.b64encode(rendered.data).decode("ascii"), mime_type=rendered.mime_type
    )


def attachment(
    shot: Screenshot, rendered: Rendered, resolution: Literal["preview", "full"]
) -> ImageAttachment:
    return ImageAttachment(
        step=shot.step,
        resource_uri=shot.resource_uri,
        mime_type=rendered.mime_type,
        width=rendered.width,
        height=rendered.height,
        size_bytes=len(rendered.data),
        original_width=rendered.original.width,
        original_height=rendered.original.height,
        original_size_bytes=rendered.original.size_bytes,
        resolution=resolution,
        part=rendered.part,
        parts=rendered.parts,
    )


def link(uri: str, name: str, mime_type: str | None, size: int | None = None) -> ResourceLink:
    return ResourceLink(type="resource_link", uri=uri, name=name, mime_type=mime_type, size=size)


# -- the across-runs tools (search_tasks, task_stats) ------------------------------------------

StatusFilter = Annotated[
    Literal["created", "running", "paused", "finished", "failed", "stopped"] | None,
    Field(description="Only runs with this status (the source's own filter where it has one)."),
]
Since = Annotated[
    str | None,
    Field(
        description="Only runs created at or after this: an ISO 8601 date or time (UTC unless it says), "
        "or an age such as 24h, 7d, 2w.",
        max_length=40,
    ),
]
Until = Annotated[
    str | None,
    Field(description="Only runs created at or before this (same forms as `since`).", max_length=40),
]
SourceName = Annotated[
    str | None,
    Field(
        description="Only runs from this source: local, cloud-v1 … cloud-v4 (v2 is short for cloud-v2); "
        "useful when the server reads several Cloud generations.",
        max_length=20,
    ),
]
ScanLimit = Annotated[
    int,
    Field(description="The most runs to look at, newest first (1-10000).", ge=1, le=10_000),
]
#: Share of the call deadline a scan may spend, leaving the rest for rendering and the answer.
SCAN_SHARE = 0.6


def scan_budget(call_deadline_s: float) -> float:
    return max(0.5, call_deadline_s * SCAN_SHARE)
