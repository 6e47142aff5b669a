"""The normalized domain model every task source maps into.

Cloud API v2, legacy Cloud API v1 and local `browser-use` runs describe the same
things with different names; tools, resources and the renderer only ever see these
classes. They double as the tools' output schemas, so field descriptions are written
for the reader of a schema.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Which source a task came from (`local`, `cloud-v1`, `cloud-v2`, ...); each source names itself.
SourceKind = str

# The common status vocabulary. v2 says `started` where v1 says `running`; both become
# `running`. A status no source documents is kept as its raw string (see `normalize_status`).
KNOWN_STATUSES = ("created", "running", "paused", "finished", "failed", "stopped")
TERMINAL_STATUSES = frozenset({"finished", "failed", "stopped"})

_PLAIN_STATUS = re.compile(r"[a-z][a-z_\-]{0,39}")
_STATUS_ALIASES = {"started": "running", "in_progress": "running", "completed": "finished"}


def normalize_status(raw: str | None) -> str:
    """Map any source's status string into the common vocabulary, keeping unknown plain words raw.

    Anything that is not a plain word (control characters, markup, whole sentences) becomes
    `unknown`: statuses are shown unfenced, in headings.
    """
    if not raw:
        return "unknown"
    value = str(raw).strip().lower()
    if not _PLAIN_STATUS.fullmatch(value):
        return "unknown"
    return _STATUS_ALIASES.get(value, value)


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Element(_Model):
    """The page element an action used (local runs record it per action)."""

    tag: str | None = Field(default=None, description="Tag name, e.g. a, button, input.")
    id: str | None = None
    name: str | None = None
    text: str | None = Field(default=None, description="Its accessible name or text.")
    xpath: str | None = None


class Action(_Model):
    """One action the agent took in a step, e.g. `click` with its parameters."""

    name: str = Field(description="Action name, e.g. navigate, click, input_text, done.")
    params: dict[str, Any] = Field(default_factory=dict, description="The action's parameters.")
    element: Element | None = Field(default=None, description="The element it used, when recorded.")


class Tab(_Model):
    """A browser tab open at a step."""

    url: str | None = None
    title: str | None = None
    target_id: str | None = Field(default=None, description="browser-use's short tab id.")
    active: bool = Field(default=False, description="The tab the step's page was in.")


class Screenshot(_Model):
    """A screenshot taken at one step."""

    step: int | None = Field(description="Step number, when the source says which step took it.")
    url: str | None = Field(default=None, description="Presigned download URL (cloud sources); expires.")
    path: str | None = Field(
        default=None, description="File path relative to the runs folder (local source)."
    )
    resource_uri: str | None = Field(
        default=None, description="MCP resource that serves this screenshot's image."
    )


class Step(_Model):
    """One step of an agent run."""

    number: int
    url: str | None = Field(default=None, description="Page URL at this step.")
    title: str | None = Field(default=None, description="Page title at this step (local runs only).")
    evaluation_previous_goal: str | None = None
    memory: str | None = None
    next_goal: str | None = None
    thinking: str | None = None
    actions: list[Action] = Field(default_factory=list)
    results: list[str] = Field(default_factory=list, description="Text the step's actions extracted.")
    errors: list[str] = Field(default_factory=list, description="Errors the step's actions reported.")
    duration_s: float | None = Field(default=None, description="Step duration in seconds.")
    started_at: datetime | None = None
    screenshot: Screenshot | None = None
    tabs: list[Tab] = Field(default_factory=list, description="Tabs open at this step (local runs).")
    page_seen: bool = Field(
        default=False,
        description="The run kept the page as the agent's LLM saw it at this step (get_step names its resource).",
    )


class OutputFile(_Model):
    """A file the agent produced."""

    name: str
    id: str | None = Field(default=None, description="Source-specific file id (v2).")
    download_url: str | None = Field(default=None, description="Presigned download URL, when resolved.")
    path: str | None = Field(default=None, description="Path relative to the runs folder (local).")
    size_bytes: int | None = None
    mime_type: str | None = None


class MediaItem(_Model):
    """A recording, log, GIF or conversation file that belongs to a task."""

    kind: Literal["recording", "gif", "log", "conversation", "output_file"]
    name: str
    url: str | None = Field(default=None, description="Download URL (cloud sources); presigned, expires.")
    path: str | None = Field(default=None, description="Path relative to the runs folder (local).")
    resource_uri: str | None = Field(default=None, description="MCP resource that serves it, if any.")
    mime_type: str | None = None
    size_bytes: int | None = None


class CookieSummary(_Model):
    """Cookies the browser kept (v1 `browser_data`). Values are never carried."""

    count: int
    domains: list[str]


class Judgement(_Model):
    """The judge's report on the run, when a judge ran."""

    verdict: bool | None = None
    reasoning: str | None = None
    failure_reason: str | None = None
    impossible_task: bool | None = None
    reached_captcha: bool | None = None


class Task(_Model):
    """A task with everything the source knows about it."""

    id: str
    source: SourceKind = Field(description="Where the task was read from, e.g. local, cloud-v2.")
    task: str | None = Field(default=None, description="The instruction given to the agent.")
    status: str = Field(description="Common status: created, running, paused, finished, failed, stopped.")
    raw_status: str | None = Field(default=None, description="The status string exactly as the source said.")
    is_success: bool | None = Field(default=None, description="The agent's own verdict on success.")
    judgement: Judgement | None = None
    output: str | None = Field(default=None, description="The final answer of the agent.")
    last_action_result: str | None = Field(
        default=None,
        description="Only when the run never called done: what its last action returned (not a final answer).",
    )
    cost_usd: str | None = None
    llm: str | None = None
    browser_use_version: str | None = None
    session_id: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    output_files: list[OutputFile] = Field(default_factory=list)
    live_url: str | None = None
    public_share_url: str | None = None
    cookies: CookieSummary | None = None
    user_uploaded_files: list[str] = Field(default_factory=list)
    suggestions: list[dict[str, Any]] = Field(default_factory=list)
    duration_s: float | None = Field(
        default=None,
        description="Run duration as the source computes it (local runs: the sum of step durations).",
    )
    notes: list[str] = Field(
        default_factory=list, description="Problems met while reading the task (e.g. missing files)."
    )

    @property
    def terminal(self) -> bool:
        return is_terminal(self.status)

    def step(self, number: int) -> Step | None:
        return next((s for s in self.steps if s.number == number), None)


class TaskStatusInfo(_Model):
    """The cheap status of a task, for polling."""

    id: str
    status: str
    raw_status: str | None = None
    is_success: bool | None = None
    output: str | None = None
    finished_at: datetime | None = None
    cost_usd: str | None = None
    step_count: int | None = None

    @classmethod
    def of(cls, task: Task) -> TaskStatusInfo:
        """The status part of a full task, for sources without a status endpoint and cached tasks."""
        return cls(
            id=task.id,
            status=task.status,
            raw_status=task.raw_status,
            is_success=task.is_success,
            output=task.output,
            finished_at=task.finished_at,
            cost_usd=task.cost_usd,
            step_count=len(task.steps),
        )


class TaskSummary(_Model):
    """One row of a task listing."""

    id: str
    task: str | None = None
    status: str
    raw_status: str | None = None
    is_success: bool | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    output: str | None = None
    step_count: int | None = None
    source: SourceKind | None = Field(
        default=None,
        description="Where the task lives (cloud-v4, cloud-v3, cloud-v2) when the server reads several.",
    )


class TaskPage(_Model):
    """One page of tasks, newest first."""

    items: list[TaskSummary]
    page: int
    page_size: int
    total_items: int | None = None
    total_pages: int | None = None
    errors: list[str] = Field(
        default_factory=list, description="Entries that could not be read (e.g. a corrupt local run)."
    )
    notices: list[str] = Field(
        default_factory=list,
        description="How the server's configuration shapes this listing, and how to change it.",
    )

    @property
    def has_more(self) -> bool:
        if self.total_pages is not None:
            return self.page < self.total_pages
        if self.total_items is not None:
            return self.page * self.page_size < self.total_items
        return len(self.items) >= self.page_size


class MediaBundle(_Model):
    """Everything downloadable that belongs to a task, apart from screenshots."""

    task_id: str
    recordings: list[MediaItem] = Field(default_factory=list)
    logs: list[MediaItem] = Field(default_factory=list)
    conversations: list[MediaItem] = Field(default_factory=list)
    output_files: list[OutputFile] = Field(default_factory=list)
    gif: MediaItem | None = Field(default=None, description="A GIF the source itself has, if any.")
    notes: list[str] = Field(default_factory=list, description="What is missing and why.")
