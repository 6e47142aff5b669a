"""All markdown a model reads, one module per subject; nothing outside this package writes it.

Everything the agent or a web page wrote goes inside `untrusted` fences (see
`untrusted.py`); the structure around it is ours. Every list is capped and says how
to get the rest, so the text stays bounded whatever the task size. `across.py` (search,
statistics, comparison) is imported by the tools that use it, so it loads with their first call.
"""

from .errors import internal_error, resource_error, resource_timed_out, structured_cut, timed_out, tool_error
from .media import image_label, render_gif, render_media, render_output_file, render_screenshots
from .step import (
    page_seen_pointer,
    render_step,
    screenshot_attached,
    screenshot_not_attached,
    screenshot_pointer,
    tall_page_parts,
)
from .task import render_steps_log, render_task, render_task_page, render_wait, step_line
from .text import UNTRUSTED_NOTE, call, duration, size, when

__all__ = [
    "UNTRUSTED_NOTE",
    "call",
    "duration",
    "image_label",
    "internal_error",
    "page_seen_pointer",
    "render_gif",
    "render_media",
    "render_output_file",
    "render_screenshots",
    "render_step",
    "render_steps_log",
    "render_task",
    "render_task_page",
    "render_wait",
    "resource_error",
    "resource_timed_out",
    "screenshot_attached",
    "screenshot_not_attached",
    "screenshot_pointer",
    "size",
    "step_line",
    "structured_cut",
    "tall_page_parts",
    "timed_out",
    "tool_error",
    "when",
]
