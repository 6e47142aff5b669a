"""The one URI scheme of this server's resources: every `browser-use://` URI is built here.

Resource templates (for registration) and concrete URIs (in tool results and text) come
from the same spelling, so a renamed path cannot leave a dangling link behind.
"""

from __future__ import annotations

from urllib.parse import quote

from .models import Screenshot

PREFIX = "browser-use://tasks"

# Templates, as the SDK registers them.
STEPS_LOG = PREFIX + "/{task_id}/steps"
STEPS_LOG_FROM = PREFIX + "/{task_id}/steps/from/{start}"
STEP = PREFIX + "/{task_id}/steps/{step}"
GIF = PREFIX + "/{task_id}/gif"
LOGS = PREFIX + "/{task_id}/logs"
CONVERSATION = PREFIX + "/{task_id}/conversations/{step}"
PAGE_SEEN = PREFIX + "/{task_id}/steps/{step}/page"
RECORDING = PREFIX + "/{task_id}/recordings/{name}"
RECORDING_FRAME = PREFIX + "/{task_id}/recordings/{name}/steps/{step}"
SCREENSHOT = PREFIX + "/{task_id}/screenshots/{ref}"
SCREENSHOT_FULL = PREFIX + "/{task_id}/screenshots/{ref}/full"
OUTPUT_FILE = PREFIX + "/{task_id}/files/{name}"


def _task(task_id: str, *parts: str | int) -> str:
    # Ids are percent-encoded as one segment: a local run id may hold `/`, spaces or `:`
    # (`project-a/run 1`); the SDK decodes it back when it matches a template.
    return "/".join([PREFIX, quote(task_id, safe=""), *(str(p) for p in parts)])


def steps_log(task_id: str) -> str:
    return _task(task_id, "steps")


def steps_log_from(task_id: str, position: int) -> str:
    """The step log from the step at `position` (0-based, in step order) on."""
    return _task(task_id, "steps", "from", position)


def step(task_id: str, number: int) -> str:
    return _task(task_id, "steps", number)


def gif(task_id: str) -> str:
    return _task(task_id, "gif")


def logs(task_id: str) -> str:
    return _task(task_id, "logs")


def page_seen(task_id: str, number: int) -> str:
    return _task(task_id, "steps", number, "page")


def recording(task_id: str, name: str) -> str:
    return _task(task_id, "recordings", name)


def recording_frame(task_id: str, name: str, number: int) -> str:
    return _task(task_id, "recordings", name, "steps", number)


def conversation(task_id: str, number: int) -> str:
    return _task(task_id, "conversations", number)


def screenshot(task_id: str, ref: str | int) -> str:
    return _task(task_id, "screenshots", ref)


def output_file(task_id: str, name: str) -> str:
    # File names are the source's: percent-encoded so `?`, `#` or `/` cannot change the URI.
    return _task(task_id, "files", quote(name, safe=""))


def screenshot_ref(shot: Screenshot, index: int) -> str:
    """How a screenshot is named in URIs: its step number, else its capture position."""
    return str(shot.step) if shot.step is not None else f"capture-{index + 1}"


def takes_task_id(template: str) -> bool:
    return "{task_id}" in template
