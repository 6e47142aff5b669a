"""How a failure reads: one sentence per error class, worded for tools, resources and prompts.

`guard.py` decides which failure happened; this module only says it.
"""

from __future__ import annotations

from ..errors import TasksError
from ..untrusted import clean_line


def tool_error(error: TasksError) -> str:
    # Messages are ours but may quote names the source sent: one clean line, no bidi tricks.
    return f"**{error.title}:** {clean_line(error.message, 2000)}"


def resource_error(error: TasksError) -> str:
    return f"{error.title}: {clean_line(error.message, 2000)}"


def timed_out(what: str, deadline_s: float) -> str:
    return (
        f"**Timed out:** `{what}` did not finish within {deadline_s:.0f}s "
        "(the upstream API is slow or retrying). Try again in a moment."
    )


def resource_timed_out(deadline_s: float) -> str:
    return f"Timed out after {deadline_s:.0f}s; try again in a moment."


def internal_error(what: str, exc: BaseException) -> str:
    return f"**Internal error** in `{what}` ({type(exc).__name__}). The server logs have details."


def structured_cut(budget_bytes: int) -> str:
    return (
        f"\n_Structured content was cut to fit {budget_bytes // 1024} KB: long values end with “… [cut]” and "
        "long lists keep their first items. Ask for less (one step, fewer steps) to get values in full._\n"
    )
