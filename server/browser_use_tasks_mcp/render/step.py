"""Markdown of one step (`get_step`, the debug prompt) and what was attached to it."""

from __future__ import annotations

import json

from ..models import Action, Step, Task
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
    lines += _tabs(step)
    if step.results:
        lines += ["", "## Results", fence("\n".join(step.results), limit=3000)]
    if step.errors:
        lines += ["", "## Errors", fence("\n".join(step.errors), limit=2000)]
    lines += _neighbours(task, step)
    return join(lines)


def _actions(step: Step) -> list[str]:
    if not step.actions:
        return []
    rendered = [_action_line(a) for a in step.actions[:15]]
    if len(step.actions) > 15:
        rendered.append(f"… {len(step.actions) - 15} more in structured content")
    return ["", f"## Actions ({len(step.actions)})", fence("\n".join(rendered), limit=4000)]


def _action_line(action: Action) -> str:
    line = f"{action.name} {json.dumps(action.params, ensure_ascii=False)}"
    element = action.element
    if element is not None:
        tag = element.tag or "element"
        ident = f"#{element.id}" if element.id else (f"[name={element.name}]" if element.name else "")
        text = f" “{element.text[:80]}”" if element.text else ""
        where = f" at {element.xpath[:160]}" if element.xpath else ""
        line += f"\n  → <{tag}{ident}>{text}{where}"
    return line


def _tabs(step: Step) -> list[str]:
    if len(step.tabs) < 2 and not (step.tabs and not step.tabs[0].active):
        return []  # one tab, the page above: nothing to add
    rows = [
        f"- {'**active** ' if tab.active else ''}{code(tab.url, 200)} {code(tab.title, 80) if tab.title else ''}".rstrip()
        for tab in step.tabs[:10]
    ]
    more = [f"- … {len(step.tabs) - 10} more in structured content"] if len(step.tabs) > 10 else []
    return ["", f"## Tabs ({len(step.tabs)})", *rows, *more]


def _neighbours(task: Task, step: Step) -> list[str]:
    numbers = [s.number for s in task.steps]
    index = numbers.index(step.number)
    nav = []
    if index > 0:
        nav.append(f"previous {call('get_step', task_id=task.id, step=numbers[index - 1])}")
    if index + 1 < len(numbers):
        nav.append(f"next {call('get_step', task_id=task.id, step=numbers[index + 1])}")
    return ["", "Neighbours: " + ", ".join(nav) + "."] if nav else []


def tall_page_parts(task_id: str, step: int, part: int, parts: int) -> str:
    """Where the rest of a tall page is, after a preview of one of its parts."""
    others = [p for p in (part - 1, part + 1) if 1 <= p <= parts]
    more = " or ".join(
        call("get_step", task_id=task_id, step=step, include_screenshot=True, part=p) for p in others
    )
    return (
        f"The page is tall: this preview is part {part} of {parts} (square parts from the top, full width). "
        f'More: {more}; the whole page at once: resolution="full".\n'
    )


def page_seen_pointer(uri: str) -> str:
    return f"\n**What the agent saw:** the page as sent to its LLM, resource `{uri}`.\n"


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
