"""Lining up the steps of two runs, and where they part.

Two steps match when they took the same actions (by name) on the same page (host and path; the
query string, element indices and typed text may differ). The longest matching blocks are found
with `difflib`, so a step inserted or skipped in one run does not throw the rest off.

Where they part: the first place both runs did something different (a replaced block), or the
same action on the same page failed in one run only, or one run went on after the other ended.
A block only one run has between matching steps is a detour, listed but not the parting point,
unless there is nothing else.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from ..models import Step, Task

Kind = Literal["same", "different", "only_a", "only_b"]


class Segment(BaseModel):
    """A run of steps the alignment treats alike."""

    kind: Kind
    a: list[int] = Field(description="Run A's step numbers.")
    b: list[int] = Field(description="Run B's step numbers.")


class Parting(BaseModel):
    a_step: int | None = Field(description="A's step where they part (None: A had ended).")
    b_step: int | None = Field(description="B's step where they part (None: B had ended).")
    why: str = Field(description="How they differ there.")
    screenshot_a: int | None = Field(default=None, description="A's step whose screenshot shows it.")
    screenshot_b: int | None = Field(default=None, description="B's step whose screenshot shows it.")


class Alignment(BaseModel):
    matched: int = Field(description="Steps that match pairwise.")
    segments: list[Segment]
    parting: Parting | None = Field(description="Where the runs part; None when every step matches.")
    meet_again: tuple[int, int] | None = Field(
        default=None, description="Next matching (A, B) steps after it."
    )
    only_a: list[int] = Field(description="Steps of A with no counterpart in B.")
    only_b: list[int] = Field(description="Steps of B with no counterpart in A.")


def page_key(url: str | None) -> str:
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url[:200]
    if parts.scheme not in ("http", "https"):
        return "blank" if url.startswith(("about:", "chrome:", "edge:")) else parts.scheme
    return f"{(parts.hostname or '').lower()}{parts.path.rstrip('/') or '/'}"


def step_key(step: Step) -> tuple[tuple[str, ...], str]:
    return tuple(a.name for a in step.actions), page_key(step.url)


def _segments(a: list[Step], b: list[Step]) -> list[Segment]:
    import difflib  # loads with the first comparison: the models above are needed at start-up, this is not

    matcher = difflib.SequenceMatcher(
        None, [step_key(s) for s in a], [step_key(s) for s in b], autojunk=False
    )
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        kind: Kind = {"equal": "same", "replace": "different", "delete": "only_a", "insert": "only_b"}[tag]  # type: ignore[assignment]
        segments.append(Segment(kind=kind, a=[s.number for s in a[i1:i2]], b=[s.number for s in b[j1:j2]]))
    return segments


def _failed_once(a: Task, b: Task, segment: Segment) -> Parting | None:
    """In a matching block, the first pair where the same action failed in one run only."""
    for na, nb in zip(segment.a, segment.b, strict=True):
        sa, sb = a.step(na), b.step(nb)
        if sa is not None and sb is not None and bool(sa.errors) != bool(sb.errors):
            which = "A" if sa.errors else "B"
            return Parting(
                a_step=na,
                b_step=nb,
                why=f"Same action on the same page; it failed in run {which} only. The screenshots show the "
                "page each action led to.",
                screenshot_a=_next(a, na),
                screenshot_b=_next(b, nb),
            )
    return None


def _next(task: Task, number: int) -> int:
    """The step after `number` (whose screenshot shows what the step's actions led to), else itself."""
    return next((s.number for s in task.steps if s.number > number), number)


def _parting(a: Task, b: Task, segments: list[Segment]) -> tuple[Parting | None, int]:
    """The parting point and the index of the segment it is in (-1: none)."""
    detour: tuple[Parting, int] | None = None
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment.kind == "same":
            found = _failed_once(a, b, segment)
            if found is not None:
                return found, index
        elif segment.kind == "different":
            return Parting(
                a_step=segment.a[0], b_step=segment.b[0], why="Different actions or a different page."
            ), index
        elif last:
            ended = "B" if segment.kind == "only_a" else "A"
            return Parting(
                a_step=segment.a[0] if segment.a else None,
                b_step=segment.b[0] if segment.b else None,
                why=f"Run {ended} had ended; the other went on.",
            ), index
        elif detour is None:
            only = "A" if segment.kind == "only_a" else "B"
            detour = (
                Parting(
                    a_step=segment.a[0] if segment.a else None,
                    b_step=segment.b[0] if segment.b else None,
                    why=f"Steps only in run {only} (a detour); the runs match again after it.",
                ),
                index,
            )
    return detour if detour is not None else (None, -1)


def align(a: Task, b: Task) -> Alignment:
    segments = _segments(a.steps, b.steps)
    parting, at = _parting(a, b, segments)
    if parting is not None and parting.screenshot_a is None and parting.screenshot_b is None:
        parting = parting.model_copy(update={"screenshot_a": parting.a_step, "screenshot_b": parting.b_step})
    meet = None
    if parting is not None:
        after = next((s for s in segments[at + 1 :] if s.kind == "same"), None)
        same = segments[at]
        if same.kind == "same":  # parted inside a matching block: they meet at its next pair
            rest = [(x, y) for x, y in zip(same.a, same.b, strict=True) if x > (parting.a_step or 0)]
            meet = rest[0] if rest else None
        if meet is None and after is not None:
            meet = (after.a[0], after.b[0])
    return Alignment(
        matched=sum(len(s.a) for s in segments if s.kind == "same"),
        segments=segments,
        parting=parting,
        meet_again=meet,
        only_a=[n for s in segments if s.kind in ("only_a", "different") for n in s.a],
        only_b=[n for s in segments if s.kind in ("only_b", "different") for n in s.b],
    )


def same_instruction(a: str | None, b: str | None) -> bool:
    """Whether two instructions are the same, whitespace and case aside."""
    if not a or not b:
        return False
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()
