"""The one "steps that matter" policy: first steps, failing steps, last steps.

The `get_task` text, its structured content, the GIF's key frames and the prompts all
choose steps here, so they always name the same failing steps. A step is failing when
its actions reported an error (sources map their own signals into `Step.errors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .models import Step, Task

#: Failing steps named in any bounded view; the rest are counted and listed by number.
MAX_FAILING_SHOWN = 8
#: First and last steps of the `get_task` text.
TEXT_CONTEXT = 3
#: First and last steps of the structured step summaries (11 + 8 + 11 = 30 at most).
STRUCTURED_CONTEXT = 11


def failing_steps(task: Task) -> list[Step]:
    return [s for s in task.steps if s.errors]


def first_failing(task: Task) -> Step | None:
    return next((s for s in task.steps if s.errors), None)


@dataclass(frozen=True)
class Selection:
    steps: list[Step]  # in step order
    left_out: int
    #: Failing steps beyond MAX_FAILING_SHOWN that are not among `steps`.
    unlisted_failing: list[int]


def steps_that_matter(steps: Sequence[Step], *, context: int) -> Selection:
    """All steps when few; else the first and last `context` steps and the first failing ones."""
    if len(steps) <= 2 * context + MAX_FAILING_SHOWN:
        return Selection(list(steps), 0, [])
    failing = [s for s in steps if s.errors]
    keep = {id(s) for s in steps[:context]} | {id(s) for s in steps[-context:]}
    keep |= {id(s) for s in failing[:MAX_FAILING_SHOWN]}
    chosen = [s for s in steps if id(s) in keep]
    unlisted = [s.number for s in failing if id(s) not in keep]
    return Selection(chosen, len(steps) - len(chosen), unlisted)


def focus_steps(task: Task) -> list[int]:
    """Where a diagnosis starts: the first failing step and its neighbours, else the last two steps."""
    numbers = [s.number for s in task.steps]
    first = first_failing(task)
    if first is None:
        return numbers[-2:]
    index = numbers.index(first.number)
    return numbers[max(0, index - 1) : index + 2]


def pick_positions(count: int, must: set[int], limit: int) -> list[int]:
    """At most `limit` of `count` positions: the first, the last and `must`, then evenly spaced."""
    if count <= limit:
        return list(range(count))
    keep = {0, count - 1} | {i for i in must if 0 <= i < count}
    keep = set(sorted(keep)[:limit])
    spare = limit - len(keep)
    if spare > 0:
        stride = count / (spare + 1)
        keep |= {min(count - 1, round(stride * (k + 1))) for k in range(spare)}
    return sorted(keep)[:limit]
