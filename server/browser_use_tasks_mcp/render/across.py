"""Markdown of the across-runs tools: `search_tasks`, `task_stats` and `compare_tasks`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from ..across.align import Alignment, Segment
from ..across.stats import Distribution, Group, Rate, Stats
from ..models import Step, Task
from ..results import ScanInfo, SearchHit
from ..untrusted import clean_line, code, fence
from .text import UNTRUSTED_NOTE, call, capped, duration, join, labels, numbers, when, yes_no

MAX_SIGNATURES_SHOWN = 10
MAX_GROUPS_SHOWN = 25
MAX_SEGMENTS_SHOWN = 20
#: The largest `limit` search_tasks takes (its schema says so too).
MAX_SEARCH_LIMIT = 100


def _filters(given: Mapping[str, object]) -> str:
    shown = [(name, code(str(value), 80)) for name, value in given.items() if value not in (None, "")]
    return labels([("Filters", " · ".join(f"{n} {v}" for n, v in shown) or "none")])


def _scan_line(scan: ScanInfo) -> list[str]:
    state = "all of them" if scan.complete else "partial"
    runs = f"{scan.listed} run{'s' if scan.listed != 1 else ''}"
    lines = [labels([("Scanned", f"{runs} listed, {scan.read} in the window ({state})")])]
    if scan.hint:
        lines.append(scan.hint)
    if scan.errors:
        lines.append(
            f"Could not read {len(scan.errors)} runs: "
            + "; ".join(clean_line(e, 160) for e in scan.errors[:3])
        )
    return lines


def _hit(index: int, hit: SearchHit) -> list[str]:
    judge = yes_no(hit.judge_verdict, "pass", "fail") if hit.judge_verdict is not None else None
    on_instruction = any(r.field == "instruction" for r in hit.reasons)
    quoted = (
        [f"instruction: {clean_line(hit.instruction, 160)}"] if hit.instruction and not on_instruction else []
    )
    for reason in hit.reasons:
        where = f"step {reason.step} {reason.field}" if reason.step is not None else reason.field
        quoted.append(f"{where} ({reason.filter}): {clean_line(reason.excerpt, 200)}")
    lines = [
        "",
        f"## {index}. {code(hit.task_id, 120)}: {hit.status}",
        labels(
            [
                ("Created", when(hit.created_at)),
                ("Steps", str(hit.step_count)),
                ("Agent says success", yes_no(hit.is_success)),
                ("Judge", judge),
                ("LLM", code(hit.llm, 40) if hit.llm else None),
                ("Source", hit.source),
            ]
        ),
    ]
    if quoted:
        lines.append(fence("\n".join(quoted), limit=1500))
    return [*lines, f"Details: {call('get_task', task_id=hit.task_id)}"]


def render_search(
    hits: Sequence[SearchHit], matches: int, scan: ScanInfo, given: Mapping[str, object], limit: int
) -> str:
    title = f"# Search: {matches} matching run{'s' if matches != 1 else ''}"
    lines = [title, _filters(given), *_scan_line(scan)]
    if not hits:
        lines += ["", "No run matches every filter. Loosen a filter, or widen the window as said above."]
        return join(lines)
    lines += ["", UNTRUSTED_NOTE]
    for index, hit in enumerate(hits, 1):
        lines += _hit(index, hit)
    if matches > len(hits):
        lines += ["", f"{matches - len(hits)} more match. More: {_more_call(hits, given, limit)}."]
    return join(lines)


def _more_call(hits: Sequence[SearchHit], given: Mapping[str, object], limit: int) -> str:
    """The call for more hits: a larger limit, or at the largest the runs older than the last hit."""
    more = {k: v for k, v in given.items() if v not in (None, "")}
    last = hits[-1].created_at if hits else None
    if limit < MAX_SEARCH_LIMIT or last is None:
        return call("search_tasks", **more, limit=min(MAX_SEARCH_LIMIT, limit * 2))
    older = (last - timedelta(microseconds=1)).isoformat()
    return call("search_tasks", **{**more, "until": older}, limit=limit)


def _rate(value: Rate) -> str:
    if not value.of:
        return "—"
    return f"{value.yes} of {value.of} ({round(100 * (value.rate or 0))}%)"


def _money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.4f}".rstrip("0").rstrip(".")


def _dist_line(label: str, dist: Distribution, unit: str) -> str:
    if not dist.count:
        return f"**{label}:** —"
    if unit == "s":
        return f"**{label}:** p50 {duration(dist.p50)} · p95 {duration(dist.p95)} · max {duration(dist.max)}"
    if unit == "$":
        return f"**{label}:** {_money(dist.total)} total · {_money(dist.mean)} per run ({dist.count} runs with cost)"
    mean = f"{dist.mean:,.1f}" if dist.mean is not None else "—"
    spread = f"p50 {dist.p50 or 0:,.0f} · max {dist.max or 0:,.0f}"
    return f"**{label}:** {dist.total or 0:,.0f} total · {mean} per run · {spread}"


def _signatures(stats: Stats) -> list[str]:
    if not stats.top_failures:
        return ["", "## Top failure signatures", "No failed run has an error or a judge's reason."]
    lines = ["", "## Top failure signatures", "_Errors with numbers, ids, URLs and quoted values replaced._"]
    for index, sig in enumerate(stats.top_failures[:MAX_SIGNATURES_SHOWN], 1):
        examples = ", ".join(
            call("get_step", task_id=e.task_id, step=e.step)
            if e.step is not None
            else call("get_task", task_id=e.task_id)
            for e in sig.examples
        )
        lines.append(
            f"{index}. {sig.runs} run{'s' if sig.runs != 1 else ''}: {code(sig.signature, 170)} — e.g. {examples}"
        )
    return lines


def _groups(by: str, groups: Sequence[Group], truncated: bool) -> list[str]:
    lines = [
        "",
        f"## By {by}",
        "| " + by + " | runs | failed | agent success | cost | p50 duration |",
        "|---|---|---|---|---|---|",
    ]
    for group in groups[:MAX_GROUPS_SHOWN]:
        key = code(group.key, 60).replace("|", "\\|")
        lines.append(
            f"| {key} | {group.runs} | {group.failed} | {_rate(group.agent_success)} | {_money(group.cost_usd)} "
            f"| {duration(group.duration_p50_s)} |"
        )
    if len(groups) > MAX_GROUPS_SHOWN or truncated:
        lines.append(f"- … {len(groups) - MAX_GROUPS_SHOWN} more groups in the structured content.")
    return lines


def render_stats(
    stats: Stats,
    scan: ScanInfo,
    given: Mapping[str, object],
    by: str | None,
    groups: Sequence[Group],
    truncated: bool,
) -> str:
    statuses = " · ".join(f"{name} {count}" for name, count in stats.by_status.items()) or "—"
    lines = [
        f"# Task statistics: {stats.runs} run{'s' if stats.runs != 1 else ''}",
        _filters(given),
        *_scan_line(scan),
        "",
        f"**Status:** {statuses} · **Failed by any account:** {stats.failed_runs}",
        labels([("Agent success", _rate(stats.agent_success)), ("Judge pass", _rate(stats.judge_pass))]),
        _dist_line("Cost", stats.cost_usd, "$"),
        _dist_line("Tokens", stats.tokens, "n"),
        _dist_line("Duration", stats.duration_s, "s"),
        _dist_line("Steps", stats.steps, "n"),
        *_signatures(stats),
    ]
    if by is not None:
        lines += _groups(by, groups, truncated)
    return join(lines)


def _side(label: str, task: Task, ref: str) -> str:
    judge = yes_no(task.judgement.verdict, "pass", "fail") if task.judgement else None
    return (
        f"**{label}:** {code(ref, 120)} · {task.status} · agent success {yes_no(task.is_success)}"
        + (f" · judge {judge}" if judge else "")
        + f" · {len(task.steps)} steps · {task.source}"
    )


def _step_block(label: str, task: Task, ref: str, step: Step | None) -> list[str]:
    if step is None:
        return [
            "",
            f"### {label}: had ended",
            f"Run {label[-1]} has no step here; its last step was {len(task.steps)}.",
        ]
    body = [
        f"goal: {step.next_goal}" if step.next_goal else "",
        f"evaluation: {step.evaluation_previous_goal}" if step.evaluation_previous_goal else "",
    ]
    body += [f"action: {a.name} {clean_line(str(a.params), 200)}" for a in step.actions[:5]]
    body += [f"result: {clean_line(r, 300)}" for r in step.results[:2]] + [
        f"error: {clean_line(e, 300)}" for e in step.errors[:3]
    ]
    lines = ["", f"### {label}: step {step.number}"]
    if step.url:
        lines.append(f"**URL:** {code(step.url, 200)}")
    text = "\n".join(line for line in body if line)
    if text:
        lines.append(fence(text, limit=1500))
    return [*lines, f"Full step: {call('get_step', task_id=ref, step=step.number, include_screenshot=True)}"]


def _segment_line(segment: Segment) -> str:
    a, b = (f"{s[0]}" if len(s) == 1 else f"{s[0]}-{s[-1]}" for s in (segment.a or [0], segment.b or [0]))
    if segment.kind == "same":
        return f"- A {a} = B {b}: same actions on the same pages"
    if segment.kind == "different":
        return f"- A {a} ≠ B {b}: different"
    if segment.kind == "only_a":
        return f"- A {a}: only in A"
    return f"- B {b}: only in B"


def _parting(a: Task, b: Task, alignment: Alignment, refs: tuple[str, str]) -> list[str]:
    parting = alignment.parting
    if parting is None:
        return [
            "",
            "## Where they part",
            "Nowhere: every step matches (same actions on the same pages, same failures).",
        ]
    lines = [
        "",
        f"## Where they part: A step {parting.a_step or '—'}, B step {parting.b_step or '—'}",
        parting.why,
    ]
    lines += _step_block("Run A", a, refs[0], a.step(parting.a_step) if parting.a_step else None)
    lines += _step_block("Run B", b, refs[1], b.step(parting.b_step) if parting.b_step else None)
    meet = alignment.meet_again
    return [
        *lines,
        "",
        f"They meet again at A step {meet[0]}, B step {meet[1]}." if meet else "They do not meet again.",
    ]


def _alignment(alignment: Alignment) -> list[str]:
    segments = [_segment_line(s) for s in alignment.segments]
    lines = [
        "",
        "## Alignment",
        *capped(segments, MAX_SEGMENTS_SHOWN, "see `alignment` in the structured content"),
    ]
    if alignment.only_a or alignment.only_b:
        only = [
            ("Only in A", numbers(alignment.only_a, 20) or "—"),
            ("Only in B", numbers(alignment.only_b, 20) or "—"),
        ]
        lines.append(labels(only))
    return lines


def render_compare(
    a: Task, b: Task, alignment: Alignment, same_instruction: bool, *, refs: tuple[str, str]
) -> str:
    """`refs`: the ids as the caller named them (`local:<run>` beside a Cloud source), used in call hints."""
    lines = [
        f"# Compare {code(refs[0], 80)} (A) with {code(refs[1], 80)} (B)",
        _side("A", a, refs[0]),
        _side("B", b, refs[1]),
        labels([("Same instruction", yes_no(same_instruction)), ("Matching steps", str(alignment.matched))]),
        "",
        UNTRUSTED_NOTE,
    ]
    if not same_instruction:
        instructions = fence(f"A: {a.task or '—'}\n\nB: {b.task or '—'}", limit=1600)
        lines += ["", "## Instructions (they differ)", instructions]
    lines += _parting(a, b, alignment, refs) + _alignment(alignment)
    lines += ["", "## Final outputs", "A:", fence(a.output or a.last_action_result or "(none)", limit=1200)]
    lines += ["B:", fence(b.output or b.last_action_result or "(none)", limit=1200)]
    return join(lines)


def compare_screenshot_attached(label: str, step: int, width: int, height: int) -> str:
    return f"\n**Attached:** run {label} step {step} (preview, {width}×{height}).\n"


def compare_screenshot_missing(label: str, step: int, reason: str | None) -> str:
    if reason is None:
        return f"\n**Not attached:** run {label} step {step} has no screenshot.\n"
    return f"\n**Not attached:** run {label} step {step}: {clean_line(reason, 600)}\n"
