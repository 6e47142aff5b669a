"""Run ids of local runs: the run folder's path below the runs folder, as the folder names it.

Users name folders as they like (`Order #12 (retry)`, `2024-05-01 12:30`, `café+tests@home`) and keep
runs in project folders (`project-a/run-1`), so a local run id is a relative path of up to
`MAX_RUN_DEPTH` names joined by `/`. It is refused, before any I/O, when it could leave the runs
folder or be read differently than it is written: an empty or hidden (`.`-leading) name, `..`, a
backslash, a percent sign (nothing downstream may decode it into something else), control or
invisible characters, or a leading Windows drive (`C:`), which the MCP SDK refuses in resource URIs.
"""

from __future__ import annotations

import re
import unicodedata

from ...errors import InvalidInputError

#: Folders searched below the runs folder: `<run>`, `<project>/<run>`, `<group>/<project>/<run>`.
MAX_RUN_DEPTH = 3
#: The whole id (what tools accept as `task_id`), and one folder name.
MAX_RUN_ID_LENGTH = 200
MAX_NAME_LENGTH = 128

_DRIVE = re.compile(r"^[A-Za-z]:")
_FORBIDDEN = {"\\", "%", "\x00"}
#: Printable ASCII without `\` or `%`: most names, accepted without a look at each character's category.
_PLAIN_NAME = re.compile(r"[ -$&-\[\]-~]+")


def name_problem(name: str) -> str | None:
    """Why one folder (or bare file) name cannot be part of a run id; None when it can."""
    if not name or name != name.strip():
        return "it is empty or starts or ends with a space"
    if name in {".", ".."}:
        return "'.' and '..' cannot be folder names in a run id"
    if name.startswith("."):
        return "a folder name in it starts with '.'"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is longer than {MAX_NAME_LENGTH} characters"
    if not _PLAIN_NAME.fullmatch(name) and any(
        ch in _FORBIDDEN or unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in name
    ):
        return "it holds a backslash, '%', or a control or invisible character"
    return None


def id_problem(run_id: str) -> str | None:
    """Why `run_id` cannot be a run id; None when it can."""
    if len(run_id) > MAX_RUN_ID_LENGTH:
        return f"it is {len(run_id)} characters long; run ids are at most {MAX_RUN_ID_LENGTH}"
    names = run_id.split("/")
    if len(names) > MAX_RUN_DEPTH:
        return f"it is nested {len(names)} folders deep; runs are searched {MAX_RUN_DEPTH} deep"
    if _DRIVE.match(run_id):
        return "it starts like a Windows drive ('C:'), which resource URIs cannot carry"
    for name in names:
        problem = name_problem(name)
        if problem is not None:
            return problem
    return None


def validate_run_id(value: object, *, what: str = "task_id") -> str:
    """`value` if it can name a run below the runs folder, else InvalidInputError saying why."""
    if not isinstance(value, str):
        raise InvalidInputError(f"`{what}` must be a string, got {type(value).__name__}.")
    text = value.strip()
    if not text:
        raise InvalidInputError(f"`{what}` is empty. Call `list_tasks` to see the available run ids.")
    problem = id_problem(text)
    if problem is not None:
        shown = repr(text) if len(repr(text)) <= 60 else repr(text)[:57] + "...'"
        raise InvalidInputError(
            f"`{what}` {shown} is not a run id ({problem}). A run id is the run folder's path below the "
            "runs folder, exactly as `list_tasks` shows it."
        )
    return text
