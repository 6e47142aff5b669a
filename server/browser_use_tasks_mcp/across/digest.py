"""What the across-runs questions need of one task, a few kilobytes whatever the task's size.

Searching and counting thousands of runs must not hold thousands of full tasks, nor parse them
again on every call: a digest is built once per version of a task and kept. A task's version is
what its listing row says (status, step count, times); a finished run does not change under the
same row, and a running one is never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from ..cache import ByteLRU
from ..models import Task, TaskSummary

#: Steps kept per digest (the first ones: where a search or a failure signature looks first).
MAX_DIGEST_STEPS = 300
#: Characters kept of each text a search may quote (goals, errors, URLs, instruction, output).
MAX_FIELD_CHARS = 600
#: Memory for kept digests: a few kilobytes each, so tens of thousands of typical runs fit.
MAX_DIGEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class StepDigest:
    number: int
    url: str | None
    goal: str | None
    evaluation: str | None
    actions: tuple[str, ...]
    errors: tuple[str, ...]


@dataclass(frozen=True)
class RunDigest:
    id: str
    source: str
    instruction: str | None
    status: str
    is_success: bool | None
    verdict: bool | None
    failure_reason: str | None
    output: str | None
    llm: str | None
    cost_usd: float | None
    tokens: int | None
    duration_s: float | None
    step_count: int
    created_at: datetime | None
    steps: tuple[StepDigest, ...] = field(default=())

    @property
    def failed(self) -> bool:
        """Failed by any account: its status, the agent's own verdict, or the judge's."""
        return self.status == "failed" or self.is_success is False or self.verdict is False

    @property
    def succeeded(self) -> bool:
        return self.status == "finished" and self.is_success is not False and self.verdict is not False

    @property
    def domain(self) -> str | None:
        """The host of the first real page the run opened (blank and browser pages skipped)."""
        for step in self.steps:
            host = page_host(step.url)
            if host:
                return host
        return None

    @property
    def day(self) -> str | None:
        return utc(self.created_at).strftime("%Y-%m-%d") if self.created_at else None


def utc(value: datetime) -> datetime:
    """Sources hand over UTC; naive means UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def page_host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower() + (f":{parts.port}" if parts.port else "")


def _cut(text: str | None) -> str | None:
    return text[:MAX_FIELD_CHARS] if text else text


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 and value == value and value != float("inf") else None


def _tokens(task: Task) -> int | None:
    meta = task.metadata
    total = meta.get("total_tokens")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    parts = [meta.get(k) for k in ("total_input_tokens", "total_output_tokens")]
    if all(isinstance(p, int) and not isinstance(p, bool) for p in parts):
        return sum(p for p in parts if isinstance(p, int))
    return None


def task_duration(task: Task) -> float | None:
    """The source's own duration, else finish minus start, else the sum of step durations."""
    if task.duration_s is not None:
        return task.duration_s
    start = task.started_at or task.created_at
    if start and task.finished_at:
        return max(0.0, (utc(task.finished_at) - utc(start)).total_seconds())
    durations = [s.duration_s for s in task.steps if s.duration_s is not None]
    return sum(durations) if durations else None


def digest(task: Task) -> RunDigest:
    judged = task.judgement
    steps = tuple(
        StepDigest(
            number=s.number,
            url=_cut(s.url),
            goal=_cut(s.next_goal),
            evaluation=_cut(s.evaluation_previous_goal),
            actions=tuple(a.name[:60] for a in s.actions[:10]),
            errors=tuple(e[:MAX_FIELD_CHARS] for e in s.errors[:5]),
        )
        for s in task.steps[:MAX_DIGEST_STEPS]
    )
    return RunDigest(
        id=task.id,
        source=task.source,
        instruction=_cut(task.task),
        status=task.status,
        is_success=task.is_success,
        verdict=judged.verdict if judged else None,
        failure_reason=_cut(judged.failure_reason) if judged else None,
        output=_cut(task.output or task.last_action_result),
        llm=task.llm[:100] if task.llm else None,
        cost_usd=_number(task.cost_usd),
        tokens=_tokens(task),
        duration_s=task_duration(task),
        step_count=len(task.steps),
        created_at=task.created_at or task.started_at,
        steps=steps,
    )


def version(row: TaskSummary) -> tuple[object, ...] | None:
    """What identifies this version of a listed task; None while it may still change."""
    if row.status not in ("finished", "failed", "stopped"):
        return None
    return (row.status, row.step_count, row.created_at, row.finished_at, row.is_success)


def digest_bytes(run: RunDigest) -> int:
    """About what a digest holds in memory: its texts plus a fixed cost per object."""
    texts = (run.instruction, run.output, run.failure_reason, run.llm)
    size = 600 + sum(len(t) for t in texts if t)
    for step in run.steps:
        size += 250 + sum(len(t) for t in (step.url, step.goal, step.evaluation) if t)
        size += sum(map(len, step.actions)) + sum(map(len, step.errors))
    return size


class DigestCache:
    """Digests by (source, task id), each valid for the listing row it was built under; bounded in bytes."""

    def __init__(self, max_bytes: int = MAX_DIGEST_BYTES) -> None:
        self._entries: ByteLRU[tuple[tuple[object, ...], RunDigest]] = ByteLRU(max_bytes)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, source: str, row: TaskSummary) -> RunDigest | None:
        stamp = version(row)
        entry = self._entries.get((source, row.id)) if stamp is not None else None
        return entry[1] if entry is not None and entry[0] == stamp else None

    def put(self, source: str, row: TaskSummary, value: RunDigest) -> None:
        stamp = version(row)
        if stamp is not None:
            self._entries.put((source, row.id), (stamp, value), size=digest_bytes(value))
