"""Markdown of one step (`get_step`, the debug prompt) and what was attached to it."""

from __future__ import annotations

import json

from ..models import Step, Task
from ..untrusted import clean_line, code, fence
from .text import UNTRUSTED_NOTE, call, duration, join, labels, size, when


def render_step(task: Task, step: Step) -> str:
    lines = [
        f"# Step {step.number} of task {task.id}" + (" (with errors)" if step.errors else ""),
        labels(
            [
                ("Duration", duration(step.duration_s)),
                ("Started", when(step.started_at)),
                ("Screenshot", "yes" if step.screenshot else "none"),
            ]
        ),
    ]
    if step.url:
        lines.append(f"**URL:** {code(step.url, 300)}")
    if step.title:
        lines.append(f"**Page title:** {code(step.title, 200)}")
    lines += ["", UNTRUSTED_NOTE]
    for label, text in (
        ("Evaluation of the previous goal", step.evaluation_previous_goal),
        ("Memory", step.memory),
        ("Thinking", step.thinking),
        ("Next goal", step.next_goal),
    ):
        if text:
            lines += ["", f"## {label}", fence(text, limit=2000)]
    lines += _actions(step)
    if step.results:
        lines += ["", "## Results", fence("\n".join(step.results), limit=3000)]
    if step.errors:
        lines += ["", "## Errors", fence("\n".join(step.errors), limit=2000)]
    lines += _neighbours(task, step)
    return join(lines)


def _actions(step: Step) -> list[str]:
    if not step.actions:
        return []
    rendered = [f"{a.name} {json.dumps(a.params, ensure_ascii=False)}" for a in step.actions[:15]]
    if len(step.actions) > 15:
        rendered.append(f"… {len(step.actions) - 15} more in structured content")
    return ["", f"## Actions ({len(step.actions)})", fence("\n".join(rendered), limit=4000)]


def _neighbours(task: Task, step: Step) -> list[str]:
    numbers = [s.number for s in task.steps]
    index = numbers.index(step.number)
    nav = []
    if index > 0:
        nav.append(f"previous {call('get_step', task_id=task.id, step=numbers[index - 1])}")
    if index + 1 < len(numbers):
        nav.append(f"next {call('get_step', task_id=task.id, step=numbers[index + 1])}")
    return ["", "Neighbours: " + ", ".join(nav) + "."] if nav else []


def screenshot_attached(step: int, resolution: str, width: int, height: int, byte_count: int) -> str:
    return (
        f"\n**Attached:** screenshot of step {step} ({resolution}, {width}×{height}, {size(byte_count)}).\n"
    )


def screenshot_not_attached(step: int, reason: str | None) -> str:
    if reason is None:
        return "\n**Not attached:** this step has no screenshot.\n"
    return f"\n**Not attached:** screenshot of step {step}: {clean_line(reason, 600)}\n"


def screenshot_pointer(task_id: str, step: int, resource_uri: str) -> str:
    see = call("get_step", task_id=task_id, step=step, include_screenshot=True)
    return f"\nScreenshot: {see} or resource `{resource_uri}`.\n"
