"""Validation of ids and names before they become path segments or file names.

An id that fails here is refused before any request or file access is made.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from .errors import InvalidInputError
from .untrusted import clean_line, code

MAX_ID_LENGTH = 128
# Cloud ids are UUIDs in v2 and opaque tokens in v1; local run ids are folder names.
# One conservative alphabet serves all three: no separators, no dots at the start,
# no percent signs (so `%2e%2e` cannot decode into `..` anywhere downstream).
_SAFE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
# A requested file name is only ever compared with the names a source listed, never joined into a
# path or a URL, so it may hold anything a listed name can (`%`, `?`, `#`, spaces), except path
# separators and NUL; backslashes only as the markdown escapes a model may copy with a name.
_SAFE_FILE_NAME = re.compile(r"^[^/\\\x00]+$")
MAX_FILE_NAME_LENGTH = 300
_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_\[\]<>!#|~])")


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"


def validate_id(value: object, *, what: str = "task_id") -> str:
    """Return `value` if it is a safe id, else raise InvalidInputError with a clear reason."""
    if not isinstance(value, str):
        raise InvalidInputError(f"`{what}` must be a string, got {type(value).__name__}.")
    text = value.strip()
    if not text:
        raise InvalidInputError(f"`{what}` is empty. Call `list_tasks` to see the available task ids.")
    if len(text) > MAX_ID_LENGTH:
        raise InvalidInputError(f"`{what}` is {len(text)} characters long; ids are at most {MAX_ID_LENGTH}.")
    if ".." in text or not _SAFE_ID.match(text):
        raise InvalidInputError(
            f"`{what}` {_describe(text)} is not a valid id: use letters, digits, '-', '_' and '.' only "
            "(as listed by `list_tasks`)."
        )
    return text


def validate_uuid(value: str, *, what: str = "task_id") -> str:
    """Cloud ids of v2 and later are UUIDs; refuse anything else before asking the API."""
    text = validate_id(value, what=what)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidInputError(
            f"`{what}` {_describe(text)} is not a Browser Use Cloud task id (a UUID such as "
            "'3fa85f64-5717-4562-b3fc-2c963f66afa6'). Call `list_tasks` to find one."
        ) from None


def validate_file_name(value: object, *, what: str = "file") -> str:
    """A file name as the API or a run folder lists it: no separators, no traversal."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"`{what}` must be a non-empty file name as listed by `get_media`.")
    text = value
    plain = _MARKDOWN_ESCAPE.sub(r"\1", text)
    if len(text) > MAX_FILE_NAME_LENGTH or plain.strip() in {".", ".."} or not _SAFE_FILE_NAME.match(plain):
        raise InvalidInputError(
            f"`{what}` {_describe(text)} is not a plain file name; use a name exactly as `get_media` lists it."
        )
    return text


def name_key(name: str) -> str:
    """A file name as it reads once shown: NFC, whitespace runs as one space, trimmed, no markdown escapes.

    Names reach a model in code spans that fold tabs and newlines into spaces, and a model may copy
    a name with the backslashes markdown escaping added (`my\\_results.csv`).
    """
    # The same cleaning `code()` applies when it shows a name (NFC, invisible and control characters
    # dropped, whitespace folded), then the escapes a model may have added.
    return _MARKDOWN_ESCAPE.sub(r"\1", clean_line(name, 10_000))


def pick_name(names: Sequence[str], requested: str) -> int | None:
    """The position of `requested` among listed names: the exact name first, else the name as shown."""
    if requested in names:
        return names.index(requested)
    key = name_key(requested)
    return next((i for i, name in enumerate(names) if name_key(name) == key), None)


def file_not_found(
    task_id: str, requested: str, names: Sequence[str], limit: int = 10, *, what: str = "output file"
) -> str:
    """The sentence for a file name no listed name matches; names are shown as code spans."""
    listed = ", ".join(code(n, 100) for n in names[:limit]) + (" …" if len(names) > limit else "")
    available = f"Available: {listed}." if names else f"It lists no {what}s."
    return f"Task {task_id} has no {what} {code(requested, 100)}. {available}"


def coerce_int(value: object, *, what: str, minimum: int, maximum: int) -> int:
    """Accept 5 or "5" (some clients send numbers as strings) within bounds."""
    if isinstance(value, bool):
        raise InvalidInputError(f"`{what}` must be a whole number, not a boolean.")
    if isinstance(value, str):
        stripped = value.strip()
        if not re.fullmatch(r"[+-]?\d{1,12}", stripped):
            raise InvalidInputError(f"`{what}` must be a whole number, got {_describe(value)}.")
        value = int(stripped)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise InvalidInputError(f"`{what}` must be a whole number, got {type(value).__name__}.")
    if not minimum <= value <= maximum:
        raise InvalidInputError(f"`{what}` must be between {minimum} and {maximum}, got {value}.")
    return value
