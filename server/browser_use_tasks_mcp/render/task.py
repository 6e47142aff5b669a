"""Markdown of a whole task: `get_task`, the step-log resource, `list_tasks` and `wait_for_task`."""

from __future__ import annotations

import json
from typing import Any

from .. import uris
from ..budget import RESOURCE_BUDGET
from ..models import Step, Task, TaskPage
from ..results import StatusResult
from ..selection import TEXT_CONTEXT, steps_that_matter
from ..untrusted import clean_line, code, fence, inline, truncate
from .text import UNTRUSTED_NOTE, call, capped, duration, join, labels, numbers, when, yes_no


def _task_duration(task: Task) -> float | None:
    if task.duration_s is not None:
        return task.duration_s
    start = task.started_at or task.created_at
    if start and task.finished_at:
        return max(0.0, (task.finished_at - start).total_seconds())
    durations = [s.duration_s for s in task.steps if s.duration_s is not None]
    return sum(durations) if durations else None


def step_line(step: Step) -> str:
    mark = "✗" if step.errors else "✓"
    actions = ", ".join(a.name for a in step.actions[:4]) or "no action"
    line = f"{step.number:>4}. {mark} [{actions}] {clean_line(step.next_goal, 90)}"
    if step.url:
        line += f" @ {clean_line(step.url, 80)}"
    if step.errors:
        line += f" — error: {clean_line(step.errors[0], 140)}"
    return line


def _header(task: Task) -> list[str]:
    failing = sum(1 for s in task.steps if s.errors)
    raw = task.raw_status
    status = task.status + (f" (raw: {clean_line(raw, 20)})" if raw and raw != task.status else "")
    lines = [
        f"# Task {task.id}: {task.status}",
        labels(
            [
                ("Status", status),
                ("Agent says success", yes_no(task.is_success)),
                ("Judge", yes_no(task.judgement.verdict, "pass", "fail") if task.judgement else None),
                ("Source", task.source),
            ]
        ),
        labels(
            [
                ("Steps", f"{len(task.steps)}" + (f" ({failing} with errors)" if failing else "")),
                ("Duration", duration(_task_duration(task))),
                ("Created", when(task.created_at)),
                ("Finished", when(task.finished_at)),
            ]
        ),
        labels(
            [
                ("LLM", inline(task.llm, 40) or None),
                ("Cost", f"${inline(task.cost_usd, 20)}" if task.cost_usd else None),
                ("Tokens", _tokens(task.metadata)),
                ("browser-use", inline(task.browser_use_version, 20) or None),
                ("Session", task.session_id),
            ]
        ),
    ]
    if task.steps and task.steps[-1].url:
        lines.append(f"**Last URL:** {code(task.steps[-1].url, 200)}")
    return lines


def _answer(task: Task) -> list[str]:
    lines = ["", UNTRUSTED_NOTE]
    if task.task:
        lines += ["", "## Instruction", fence(task.task, limit=800)]
    lines += ["", "## Final output"]
    if task.output:
        lines.append(fence(task.output, limit=1500))
        if task.metadata.get("output_data") is not None:
            lines.append(
                "_Structured: the `done` action's data is in the structured content, task.metadata.output_data._"
            )
        if attached := task.metadata.get("attachments"):
            names = ", ".join(inline(str(n), 80) for n in attached[:20])
            lines.append(
                f"**Attached to the answer:** {names} (read them with `get_output_file` when the run keeps them)."
            )
    elif task.last_action_result:
        lines += [
            "_None: the run never called `done`._",
            "",
            "## What the last action returned (not a final answer)",
            fence(task.last_action_result, limit=1500),
        ]
    else:
        lines.append("_No final output yet._")
    judgement = task.judgement
    if judgement and (judgement.reasoning or judgement.failure_reason):
        lines += ["", "## Judge"]
        if judgement.failure_reason:
            lines += ["**Failure reason:**", fence(judgement.failure_reason, limit=300)]
        if judgement.reasoning:
            lines.append(fence(judgement.reasoning, limit=800))
    return lines


def _media_and_files(task: Task) -> list[str]:
    shots = sum(1 for s in task.steps if s.screenshot)
    lines = [
        "",
        "## Media",
        f"- **Screenshots:** {shots} of {len(task.steps)} steps have one: "
        f"{call('list_screenshots', task_id=task.id)}",
        f"- **GIF of the run:** {call('get_gif', task_id=task.id)}",
        f"- **Recordings, logs, files:** {call('get_media', task_id=task.id)}",
    ]
    if task.output_files:
        lines += ["", f"## Output files ({len(task.output_files)})"]
        lines += capped(
            [f"- {code(f.name, 100)}" for f in task.output_files],
            10,
            f"call {call('get_media', task_id=task.id)} for the rest",
        )
        lines.append(
            f"Read one with {call('get_output_file', task_id=task.id, file=task.output_files[0].name)}."
        )
    return lines


def render_task(task: Task) -> str:
    lines = [*_header(task), *_answer(task), "", *_steps_section(task), *_media_and_files(task)]
    extra = _extras(task)
    if extra:
        lines += ["", "## More", *extra]
    if task.notes:
        lines += ["", "## Notes", *[f"- {inline(n, 300)}" for n in task.notes[:5]]]
    return join(lines)


def _steps_section(task: Task) -> list[str]:
    if not task.steps:
        return ["## Steps", "_No steps recorded yet._"]
    chosen = steps_that_matter(task.steps, context=TEXT_CONTEXT)
    title = f"## Steps ({len(task.steps)})"
    if chosen.left_out:
        title += (
            f": first {TEXT_CONTEXT}, failing ones, last {TEXT_CONTEXT}; {chosen.left_out} more not shown"
        )
    body: list[str] = []
    previous = None
    for step in chosen.steps:
        if previous is not None and step.number - previous > 1:
            body.append(f"      … {step.number - previous - 1} steps …")
        body.append(step_line(step))
        previous = step.number
    lines = [title, fence("\n".join(body), limit=12_000, label="untrusted")]
    if chosen.unlisted_failing:
        lines.append(f"**Also with errors (not listed):** {numbers(chosen.unlisted_failing, 40)}")
    example = next((s.number for s in task.steps if s.errors), task.steps[-1].number)
    lines.append(
        f"Full step: {call('get_step', task_id=task.id, step=example)}. "
        f"Whole log: resource `{uris.steps_log(task.id)}`."
    )
    return lines


def _extras(task: Task) -> list[str]:
    lines: list[str] = []
    if task.live_url:
        lines.append(f"- **Live view:** {code(task.live_url, 200)}")
    if task.public_share_url:
        lines.append(f"- **Public share:** {code(task.public_share_url, 200)}")
    if task.cookies:
        domains = ", ".join(inline(d, 60) for d in task.cookies.domains[:8])
        lines.append(
            f"- **Cookies kept:** {task.cookies.count} (values not shown) for {domains or 'unknown domains'}"
        )
    if task.user_uploaded_files:
        names = ", ".join(inline(n, 60) for n in task.user_uploaded_files[:8])
        lines.append(f"- **Uploaded files:** {names}")
    if task.metadata:
        pairs = ", ".join(
            f"{inline(str(k), 30)}={inline(str(v), 60)}" for k, v in list(task.metadata.items())[:8]
        )
        lines.append(f"- **Metadata:** {pairs}")
    for suggestion in task.suggestions[:3]:
        text = suggestion.get("message") or suggestion.get("suggestion") or suggestion.get("title")
        if text:
            lines.append(f"- **Suggestion:** {inline(str(text), 200)}")
    return lines


def render_steps_log(task: Task, start: int = 0, budget: int = RESOURCE_BUDGET) -> str:
    """The step log as markdown from step position `start`, every step's sections bounded, the
    whole within `budget` bytes; when steps are left, the last line names the resource with them."""
    lines = [
        f"# Step log of task {task.id} ({len(task.steps)} steps, status {task.status})",
        "",
        UNTRUSTED_NOTE,
    ]
    if start:
        lines += [
            "",
            f"_From step {task.steps[start].number} on._" if start < len(task.steps) else "_No more steps._",
        ]
    used = sum(len(line.encode()) + 1 for line in lines)
    for position in range(start, len(task.steps)):
        step = task.steps[position]
        section = ["", f"## Step {step.number}" + (" ✗" if step.errors else "")]
        meta = labels(
            [("Duration", duration(step.duration_s)), ("Screenshot", "yes" if step.screenshot else None)]
        )
        section += [meta] if meta else []
        section.append(fence("\n".join(_log_body(step)), limit=3000))
        size = sum(len(line.encode()) + 1 for line in section)
        if used + size > budget - 500 and position > start:
            rest = uris.steps_log_from(task.id, position)
            lines += ["", f"_Steps {step.number} to {task.steps[-1].number} follow in resource `{rest}`._"]
            break
        lines += section
        used += size
    return join(lines)


def _tokens(metadata: dict[str, Any]) -> str | None:
    """`12,345 in / 678 out`, from the counts a source keeps in the task's metadata."""
    counts = [metadata.get(k) for k in ("total_input_tokens", "total_output_tokens")]
    if not all(isinstance(c, int) and not isinstance(c, bool) for c in counts):
        return None
    return f"{counts[0]:,} in / {counts[1]:,} out"


def _log_body(step: Step) -> list[str]:
    body = [f"URL: {step.url}"] if step.url else []
    for label, text in (
        ("Evaluation", step.evaluation_previous_goal),
        ("Memory", step.memory),
        ("Next goal", step.next_goal),
    ):
        if text:
            body.append(f"{label}: {truncate(text, 600)}")
    if step.actions:
        body.append(
            "Actions: " + "; ".join(f"{a.name} {json.dumps(a.params)[:200]}" for a in step.actions[:8])
        )
    body += [f"Error: {truncate(error, 400)}" for error in step.errors[:3]]
    return body


def _page_heading(page: TaskPage, scope: str, status: str | None) -> list[str]:
    """`page 2 of 12 (120 tasks)`; says so plainly when there are none or the page is past the end."""
    total = page.total_items
    pages = page.total_pages or (-(-total // page.page_size) if total is not None else None)
    if total == 0:
        return [f"# Tasks{scope}: none", f"_No tasks{scope}._"]
    if pages is None:
        heading = [f"# Tasks{scope}: page {page.page}"]
    elif page.page > pages:
        args: dict[str, object] = {"status": status} if status else {}
        last = call("list_tasks", **args, page=pages, page_size=page.page_size)
        return [
            f"# Tasks{scope}: page {page.page} of {pages}",
            f"_Page {page.page} is past the last page; {last}._",
        ]
    else:
        counted = f" ({total} tasks)" if total is not None else ""
        heading = [f"# Tasks{scope}: page {page.page} of {pages}{counted}"]
    return heading + ([] if page.items else ["_No tasks on this page._"])


def render_task_page(page: TaskPage, status: str | None) -> str:
    scope = f" with status {status}" if status else ""
    lines = _page_heading(page, scope, status)
    for item in page.items:
        success = "" if item.is_success is None else (" ✓" if item.is_success else " ✗")
        steps = f" · {item.step_count} steps" if item.step_count is not None else ""
        where = f" · {item.source.removeprefix('cloud-')}" if item.source else ""
        lines.append(
            f"- `{item.id}` **{item.status}**{success}{where} · {when(item.created_at)}{steps}"
            f" — {inline(item.task, 100)}"
        )
    if page.has_more:
        args: dict[str, object] = {"page": page.page + 1, "page_size": page.page_size}
        if status:
            args = {"status": status, **args}
        lines += ["", f"More: {call('list_tasks', **args)}."]
    if page.errors:
        lines += ["", "## Problems", *[f"- {inline(e, 300)}" for e in page.errors[:10]]]
    if page.notices:
        lines += ["", "## Notes", *[f"- {n}" for n in page.notices]]
    if page.items:
        lines += ["", f"Inspect one with {call('get_task', task_id=page.items[0].id)}."]
    return join(lines)


def render_wait(result: StatusResult) -> str:
    if result.finished:
        head = f"# Task {result.task_id} ended: {result.status}"
    else:
        head = f"# Task {result.task_id} still {result.status} after {result.waited_s:.0f}s"
    lines = [
        head,
        labels(
            [
                ("Agent says success", yes_no(result.is_success) if result.finished else None),
                ("Steps", str(result.step_count) if result.step_count is not None else None),
                ("Waited", f"{result.waited_s:.1f}s"),
            ]
        ),
    ]
    if result.finished:
        if result.output:
            lines += ["", UNTRUSTED_NOTE, "", "## Final output", fence(result.output, limit=1500)]
        lines += ["", f"Details: {call('get_task', task_id=result.task_id)}."]
    else:
        lines += [
            "",
            f"Still running; call {call('wait_for_task', task_id=result.task_id)} again to keep waiting.",
        ]
    return join(lines)
