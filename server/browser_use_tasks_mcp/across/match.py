"""Whether a run matches a search, and why: the field or step that matched, with the words around it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, Field

from ..errors import InvalidInputError
from .digest import RunDigest

#: Characters of context kept either side of a match.
CONTEXT_CHARS = 60
MAX_NEEDLE = 200


class Reason(BaseModel):
    """Why a run matched one filter."""

    filter: str
    field: str = Field(description="instruction, output, goal, evaluation, url, error, judge or llm.")
    step: int | None = None
    excerpt: str = Field(description="The matching text in context (untrusted).")


@dataclass(frozen=True)
class Needles:
    """The text filters of a search, lower-cased; an empty search matches every run."""

    query: str | None = None
    url_contains: str | None = None
    error_contains: str | None = None
    model: str | None = None

    @classmethod
    def of(cls, **given: object) -> Needles:
        values: dict[str, str | None] = {}
        for name, value in given.items():
            text = " ".join(str(value).split()).lower() if value not in (None, "") else None
            if text is not None and len(text) > MAX_NEEDLE:
                raise InvalidInputError(
                    f"`{name}` is longer than {MAX_NEEDLE} characters; search for a shorter part."
                )
            values[name] = text or None
        return cls(**values)

    @property
    def any(self) -> bool:
        return any((self.query, self.url_contains, self.error_contains, self.model))


def excerpt(text: str, needle: str) -> str | None:
    """`text` around the first occurrence of `needle` (whitespace folded, case ignored), or None."""
    flat = " ".join(text.split())
    at = flat.lower().find(needle)
    if at < 0:
        return None
    start, end = max(0, at - CONTEXT_CHARS), min(len(flat), at + len(needle) + CONTEXT_CHARS)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")


def _query_fields(run: RunDigest) -> Iterator[tuple[str, int | None, str | None]]:
    yield "instruction", None, run.instruction
    yield "output", None, run.output
    for step in run.steps:
        yield "goal", step.number, step.goal
        yield "evaluation", step.number, step.evaluation


def _error_fields(run: RunDigest) -> Iterator[tuple[str, int | None, str | None]]:
    for step in run.steps:
        for error in step.errors:
            yield "error", step.number, error
    yield "judge", None, run.failure_reason


def _url_fields(run: RunDigest) -> Iterator[tuple[str, int | None, str | None]]:
    for step in run.steps:
        yield "url", step.number, step.url


def _first(name: str, needle: str, fields: Iterator[tuple[str, int | None, str | None]]) -> Reason | None:
    for where, step, text in fields:
        if text:
            found = excerpt(text, needle)
            if found is not None:
                return Reason(filter=name, field=where, step=step, excerpt=found)
    return None


def reasons(run: RunDigest, needles: Needles) -> list[Reason] | None:
    """One reason per given filter when the run matches all of them; None when it does not."""
    found: list[Reason] = []
    for name, needle, fields in (
        ("query", needles.query, _query_fields),
        ("url_contains", needles.url_contains, _url_fields),
        ("error_contains", needles.error_contains, _error_fields),
        ("model", needles.model, lambda r: iter([("llm", None, r.llm)])),
    ):
        if needle is None:
            continue
        reason = _first(name, needle, fields(run))
        if reason is None:
            return None
        found.append(reason)
    return found


def search(
    runs: list[RunDigest], needles: Needles, limit: int
) -> tuple[list[tuple[RunDigest, list[Reason]]], int]:
    """The first `limit` matching runs (in the order given) with their reasons, and how many match."""
    hits: list[tuple[RunDigest, list[Reason]]] = []
    matches = 0
    for run in runs:
        found = reasons(run, needles)
        if found is None:
            continue
        matches += 1
        if len(hits) < limit:
            hits.append((run, found))
    return hits, matches
