"""`get_output_file`: a file the agent produced, inline when it is text, else as a resource link."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, ContentBlock
from pydantic import Field

from .. import render, uris
from ..files import MAX_FILE_BYTES, FileContent, output_file
from ..guard import run_tool
from ..results import OutputFileResult
from ..service import TaskService
from ..untrusted import clean_line, sanitize, truncate
from .common import TaskId, ToolSpec, link, result

INLINE_TEXT_CHARS = 20_000

DESCRIPTION = (
    "Read a file the agent produced. Text files (csv, json, txt, md, …) come inline up to a size cap "
    "with a note when cut; binary or large files come as a resource link with size and type.\n"
    'Example: get_output_file(task_id="3fa85f64-5717-4562-b3fc-2c963f66afa6", file="results.csv")'
)


async def get_output_file(
    task_id: TaskId,
    file: Annotated[
        str, Field(description="File name as listed by `get_task` or `get_media`.", max_length=300)
    ],
    ctx: Context[Any, Any],
) -> Annotated[CallToolResult, OutputFileResult]:
    async def work(service: TaskService) -> CallToolResult:
        content = await output_file(service, task_id, file)
        structured, total_chars = _structured(content)
        blocks: list[ContentBlock] = []
        if content.data is not None and structured.text is None:
            name = clean_line(content.file.name, 100)
            blocks.append(link(structured.resource_uri, name, content.mime_type, structured.size_bytes))
        where = None if content.data is not None else (content.file.download_url or content.file.path)
        text = render.render_output_file(
            structured,
            where=where,
            total_chars=total_chars,
            inline_limit=INLINE_TEXT_CHARS,
            max_bytes=MAX_FILE_BYTES,
        )
        return result(text, structured, *blocks)

    return await run_tool(ctx, "get_output_file", work)


def _structured(content: FileContent) -> tuple[OutputFileResult, int]:
    """The result, with a text file's content inline (capped), and the text's full length."""
    text: str | None = None
    total = 0
    if content.data is not None and content.is_text:
        decoded = sanitize(content.data.decode("utf-8", errors="replace"))
        total = len(decoded)
        text = truncate(decoded, INLINE_TEXT_CHARS) if total > INLINE_TEXT_CHARS else decoded
    size = len(content.data) if content.data is not None else (content.file.size_bytes or 0)
    structured = OutputFileResult(
        task_id=content.task_id,
        file=content.file,
        mime_type=content.mime_type,
        size_bytes=size,
        inline=text is not None,
        truncated=total > INLINE_TEXT_CHARS,
        text=text,
        resource_uri=uris.output_file(content.task_id, content.file.name),
    )
    return structured, total


TOOL = ToolSpec(get_output_file, title="Get an output file", description=DESCRIPTION)
