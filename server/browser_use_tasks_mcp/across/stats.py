"""Counts, rates, cost, durations and the top failure signatures of a set of runs.

A failure signature is an error with the parts that vary between runs stripped (URLs, ids,
emails, quoted values, numbers), so "Coupon SPRING25 expired on 31 March" and "Coupon WINTER10
expired on 2 May" count as one reason. Each run counts once per signature.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, Field

from .digest import RunDigest

GroupBy = Literal["day", "model", "domain", "source", "status"]
MAX_SIGNATURES = 10
MAX_GROUPS = 50
SIGNATURE_CHARS = 160

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
    rf"|\b\d{{1,2}} {_MONTH}(?: \d{{4}})?\b|\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?\b",
    re.IGNORECASE,
)
_VARYING: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE), "<url>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"), "<email>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{12,}\b", re.IGNORECASE), "<id>"),
    (_DATE, "<date>"),
    # Quoted values up to 80 characters (a coupon, a name); a longer quote is the message itself and stays.
    (re.compile(r"'[^'\n]{0,80}'|\"[^\"\n]{0,80}\"|“[^”\n]{0,80}”|‘[^’\n]{0,80}’"), "<value>"),
    (re.compile(r"(?<![A-Za-z])[A-Z]{1,8}-?[0-9][A-Z0-9-]*\b"), "<code>"),
    (re.compile(r"\b[A-Za-z]*\d[\w.,:-]*"), "<n>"),
)


def signature(error: str) -> str:
    """The error's first line with what varies between runs replaced by placeholders."""
    line = next((ln for ln in error.splitlines() if ln.strip()), "")
    for pattern, placeholder in _VARYING:
        line = pattern.sub(placeholder, line)
    line = " ".join(line.split())
    return line[:SIGNATURE_CHARS] or "(empty error)"


class Example(BaseModel):
    task_id: str
    step: int | None = None


class Signature(BaseModel):
    signature: str = Field(description="The error with what varies replaced.")
    runs: int
    examples: list[Example]


class Distribution(BaseModel):
    count: int
    total: float | None = None
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    max: float | None = None


class Rate(BaseModel):
    yes: int
    of: int
    rate: float | None = None


class Stats(BaseModel):
    runs: int
    by_status: dict[str, int]
    agent_success: Rate
    judge_pass: Rate
    cost_usd: Distribution
    tokens: Distribution
    duration_s: Distribution
    steps: Distribution
    top_failures: list[Signature]
    failed_runs: int = Field(description="Failed by status, agent or judge.")


class Group(BaseModel):
    key: str
    runs: int
    failed: int
    agent_success: Rate
    cost_usd: float | None = None
    duration_p50_s: float | None = None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted `values`."""
    if not values:
        return None
    rank = max(1, -(-len(values) * share // 1))
    return values[min(len(values), int(rank)) - 1]


def distribution(values: Sequence[float | int | None]) -> Distribution:
    known = sorted(float(v) for v in values if v is not None)
    if not known:
        return Distribution(count=0)
    total = sum(known)
    return Distribution(
        count=len(known),
        total=round(total, 6),
        mean=round(total / len(known), 6),
        p50=percentile(known, 0.5),
        p95=percentile(known, 0.95),
        max=known[-1],
    )


def rate(values: Sequence[bool | None]) -> Rate:
    known = [v for v in values if v is not None]
    yes = sum(1 for v in known if v)
    return Rate(yes=yes, of=len(known), rate=round(yes / len(known), 4) if known else None)


def failure_signatures(runs: Sequence[RunDigest], limit: int = MAX_SIGNATURES) -> list[Signature]:
    """The commonest signatures among failed runs: step errors, else the judge's failure reason."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[Example]] = {}
    for run in runs:
        if not run.failed:
            continue
        seen: dict[str, Example] = {}
        for step in run.steps:
            for error in step.errors:
                seen.setdefault(signature(error), Example(task_id=run.id, step=step.number))
        if not seen and run.failure_reason:
            seen[signature(run.failure_reason)] = Example(task_id=run.id)
        for key, example in seen.items():
            counts[key] += 1
            if len(examples.setdefault(key, [])) < 2:
                examples[key].append(example)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Signature(signature=key, runs=count, examples=examples[key]) for key, count in ranked]


def stats(runs: Sequence[RunDigest]) -> Stats:
    return Stats(
        runs=len(runs),
        by_status=dict(Counter(r.status for r in runs).most_common()),
        agent_success=rate([r.is_success for r in runs]),
        judge_pass=rate([r.verdict for r in runs]),
        cost_usd=distribution([r.cost_usd for r in runs]),
        tokens=distribution([r.tokens for r in runs]),
        duration_s=distribution([r.duration_s for r in runs]),
        steps=distribution([r.step_count for r in runs]),
        top_failures=failure_signatures(runs),
        failed_runs=sum(1 for r in runs if r.failed),
    )


_KEYS: dict[str, Callable[[RunDigest], str | None]] = {
    "day": lambda r: r.day,
    "model": lambda r: r.llm,
    "domain": lambda r: r.domain,
    "source": lambda r: r.source,
    "status": lambda r: r.status,
}


def groups(runs: Sequence[RunDigest], by: GroupBy) -> list[Group]:
    """Runs grouped by day (newest first) or by model, domain, source or status (largest first)."""
    buckets: dict[str, list[RunDigest]] = {}
    for run in runs:
        buckets.setdefault(_KEYS[by](run) or "(unknown)", []).append(run)
    if by == "day":
        ordered = sorted(buckets.items(), key=lambda kv: kv[0], reverse=True)
    else:
        ordered = sorted(buckets.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [_group(key, members) for key, members in ordered]


def _group(key: str, members: list[RunDigest]) -> Group:
    costs = [r.cost_usd for r in members if r.cost_usd is not None]
    return Group(
        key=key,
        runs=len(members),
        failed=sum(1 for r in members if r.failed),
        agent_success=rate([r.is_success for r in members]),
        cost_usd=round(sum(costs), 6) if costs else None,
        duration_p50_s=distribution([r.duration_s for r in members]).p50,
    )
