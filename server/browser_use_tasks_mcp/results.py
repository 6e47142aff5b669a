"""Structured results of the tools (their output schemas), one model per tool.

Each wraps domain objects for programs; the text content is the model's summary.
Lists here are capped too, and say so with a `*_truncated` flag and a hint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from . import uris
from .across.align import Alignment
from .across.digest import RunDigest
from .across.match import Reason
from .across.stats import Group, Stats
from .across.window import Scan, Window, widen_hint
from .models import MediaItem, OutputFile, Screenshot, Step, Task, TaskPage
from .selection import STRUCTURED_CONTEXT, steps_that_matter

MAX_STRUCTURED_SCREENSHOTS = 200


class StepSummary(BaseModel):
    number: int
    url: str | None = None
    next_goal: str | None = None
    actions: list[str] = Field(default_factory=list, description="Action names.")
    errors: list[str] = Field(default_factory=list)
    duration_s: float | None = None
    screenshot_uri: str | None = None


class TaskResult(BaseModel):
    task: Task = Field(description="The task; `steps` is emptied here, see `steps` below.")
    step_count: int
    failing_steps: list[int] = Field(description="Numbers of the steps with errors.")
    steps: list[StepSummary] = Field(
        description="Step summaries: first, failing and last steps first if capped."
    )
    steps_truncated: bool
    hint: str = Field(description="How to get full steps.")


class StepResult(BaseModel):
    task_id: str
    task_status: str
    step_count: int
    step: Step
    image: ImageAttachment | None = None
    page_seen_uri: str | None = Field(
        default=None, description="Resource with the page as the agent's LLM saw it at this step."
    )


class ImageAttachment(BaseModel):
    step: int | None
    resource_uri: str | None
    mime_type: str
    width: int
    height: int
    size_bytes: int
    original_width: int
    original_height: int
    original_size_bytes: int
    resolution: Literal["preview", "full"]
    part: int = Field(
        default=1, description="Which square part of a tall page a preview shows (1 is the top)."
    )
    parts: int = Field(
        default=1, description="How many parts the page has; ask get_step for another with part=N."
    )


class SkippedImage(BaseModel):
    step: int | None
    reason: str


class ScreenshotsResult(BaseModel):
    task_id: str
    total: int
    screenshots: list[Screenshot]
    screenshots_truncated: bool
    steps_without_screenshot: list[int]
    attached: list[ImageAttachment] = Field(default_factory=list)
    skipped: list[SkippedImage] = Field(default_factory=list)


class GifResult(BaseModel):
    task_id: str
    resource_uri: str
    origin: Literal["source", "assembled"] = Field(description="The source's own GIF, or assembled here.")
    frame_count: int
    width: int
    height: int
    size_bytes: int
    frame_steps: list[int | None] = Field(description="Step of each frame, for an assembled GIF.")
    previews: list[str] = Field(default_factory=list, description="Labels of the key frames attached.")
    notes: list[str] = Field(default_factory=list)


class MediaResult(BaseModel):
    task_id: str
    task_status: str
    recordings: list[MediaItem]
    logs: list[MediaItem]
    conversations: list[MediaItem]
    output_files: list[OutputFile]
    gif_resource_uri: str
    source_gif: MediaItem | None
    notes: list[str]


class TaskListResult(BaseModel):
    page: TaskPage
    has_more: bool
    next_page: int | None


class OutputFileResult(BaseModel):
    task_id: str
    file: OutputFile
    mime_type: str | None = Field(description="Sniffed from the bytes.")
    size_bytes: int
    inline: bool = Field(description="Whether the text is included in the result.")
    truncated: bool
    text: str | None = Field(default=None, description="The file's text when inline (capped).")
    resource_uri: str


class StatusResult(BaseModel):
    task_id: str
    status: str
    raw_status: str | None
    is_success: bool | None
    finished: bool
    output: str | None
    step_count: int | None
    waited_s: float
    timed_out: bool


class ScanInfo(BaseModel):
    """How far a search or statistics call looked."""

    listed: int = Field(description="Runs listed (newest first) before the scan stopped.")
    read: int = Field(description="Runs read in full and inside the filters' window.")
    unread: int = Field(default=0, description="Listed runs left unread at the call deadline.")
    complete: bool = Field(description="Every run the filters allow was looked at.")
    stopped: str = Field(
        description="end, since (past the window), scan_limit, deadline or listing (an error)."
    )
    hint: str | None = Field(default=None, description="How to look further, when the scan stopped early.")
    errors: list[str] = Field(default_factory=list, description="Runs that could not be read.")


class SearchHit(BaseModel):
    task_id: str
    source: str
    instruction: str | None
    status: str
    is_success: bool | None
    judge_verdict: bool | None
    created_at: datetime | None
    step_count: int
    llm: str | None
    reasons: list[Reason] = Field(description="Why it matched: one per filter given.")


class SearchResult(BaseModel):
    hits: list[SearchHit] = Field(description="Matching runs, newest first, at most `limit`.")
    matches: int = Field(description="Matching runs among those scanned (may exceed the hits shown).")
    scan: ScanInfo


class TaskStatsResult(BaseModel):
    stats: Stats
    group_by: str | None
    groups: list[Group]
    groups_truncated: bool
    scan: ScanInfo


class CompareSide(BaseModel):
    task_id: str
    source: str
    status: str
    is_success: bool | None
    judge_verdict: bool | None
    step_count: int
    output: str | None
    parting_step: StepSummary | None = Field(description="This run's step where the runs part.")


class CompareResult(BaseModel):
    a: CompareSide
    b: CompareSide
    same_instruction: bool
    alignment: Alignment
    segments_truncated: bool
    images: list[ImageAttachment] = Field(default_factory=list)
    skipped: list[SkippedImage] = Field(default_factory=list)


StepResult.model_rebuild()


def step_summary(step: Step) -> StepSummary:
    return StepSummary(
        number=step.number,
        url=step.url,
        next_goal=step.next_goal,
        actions=[a.name for a in step.actions],
        errors=step.errors,
        duration_s=step.duration_s,
        screenshot_uri=step.screenshot.resource_uri if step.screenshot else None,
    )


def summarize_steps(task: Task) -> tuple[list[StepSummary], bool]:
    """The steps that matter (see `selection.py`) as summaries, and whether any were left out."""
    chosen = steps_that_matter(task.steps, context=STRUCTURED_CONTEXT)
    return [step_summary(s) for s in chosen.steps], chosen.left_out > 0


def task_result(task: Task) -> TaskResult:
    summaries, truncated = summarize_steps(task)
    return TaskResult(
        task=task.model_copy(update={"steps": []}),
        step_count=len(task.steps),
        failing_steps=[s.number for s in task.steps if s.errors],
        steps=summaries,
        steps_truncated=truncated,
        hint=f"get_step(task_id, step) for one step; resource {uris.steps_log(task.id)} for all.",
    )


def scan_info(found: Scan, window: Window) -> ScanInfo:
    return ScanInfo(
        listed=found.listed,
        read=len(found.runs),
        unread=found.unread,
        complete=found.complete,
        stopped=found.stopped,
        hint=widen_hint(found, window),
        errors=found.errors,
    )


def search_hit(run: RunDigest, reasons: list[Reason]) -> SearchHit:
    return SearchHit(
        task_id=run.id,
        source=run.source,
        instruction=run.instruction,
        status=run.status,
        is_success=run.is_success,
        judge_verdict=run.verdict,
        created_at=run.created_at,
        step_count=run.step_count,
        llm=run.llm,
        reasons=reasons,
    )
