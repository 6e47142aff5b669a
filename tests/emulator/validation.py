"""FastAPI/pydantic-v2 style request validation: the 422 bodies the real API sends."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

_UUID_CHARS = re.compile(r"[0-9a-fA-F-]")


def response_422(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": errors}, status_code=422)


def parse_uuid(value: str, loc: list[str | int], errors: list[dict[str, Any]]) -> str | None:
    try:
        if value.startswith("{"):
            raise ValueError
        return str(uuid.UUID(value))
    except ValueError:
        body = value[len("urn:uuid:") :] if value.startswith("urn:uuid:") else value
        bad = next(((i, ch) for i, ch in enumerate(body) if not _UUID_CHARS.match(ch)), None)
        if bad is not None:
            reason = (
                "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], "
                f"found `{bad[1]}` at {bad[0] + 1}"
            )
        elif "-" in body:
            reason = f"invalid group count: expected 5, found {body.count('-') + 1}"
        else:
            reason = f"invalid length: expected length 32 for simple format, found {len(body)}"
        errors.append(
            {
                "type": "uuid_parsing",
                "loc": loc,
                "msg": f"Input should be a valid UUID, {reason}",
                "input": value,
                "ctx": {"error": reason},
            }
        )
        return None


def parse_int(
    raw: str | None,
    loc: list[str | int],
    errors: list[dict[str, Any]],
    *,
    default: int,
    ge: int | None = None,
    le: int | None = None,
) -> int:
    if raw is None:
        return default
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        errors.append(
            {
                "type": "int_parsing",
                "loc": loc,
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": raw,
            }
        )
        return default
    value = int(text)
    if ge is not None and value < ge:
        errors.append(
            {
                "type": "greater_than_equal",
                "loc": loc,
                "msg": f"Input should be greater than or equal to {ge}",
                "input": raw,
                "ctx": {"ge": ge},
            }
        )
    elif le is not None and value > le:
        errors.append(
            {
                "type": "less_than_equal",
                "loc": loc,
                "msg": f"Input should be less than or equal to {le}",
                "input": raw,
                "ctx": {"le": le},
            }
        )
    return value


def parse_enum(
    raw: str | None, loc: list[str | int], errors: list[dict[str, Any]], choices: list[str]
) -> str | None:
    if raw is None:
        return None
    if raw in choices:
        return raw
    expected = ", ".join(f"'{c}'" for c in choices[:-1]) + f" or '{choices[-1]}'"
    errors.append(
        {
            "type": "enum",
            "loc": loc,
            "msg": f"Input should be {expected}",
            "input": raw,
            "ctx": {"expected": expected},
        }
    )
    return None


def parse_datetime(raw: str | None, loc: list[str | int], errors: list[dict[str, Any]]) -> datetime | None:
    """ISO 8601 (with or without offset) or epoch seconds; aware values become naive UTC."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), UTC).replace(tzinfo=None)
        value = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        errors.append(
            {
                "type": "datetime_from_date_parsing",
                "loc": loc,
                "msg": "Input should be a valid datetime or date, invalid character in year",
                "input": raw,
                "ctx": {"error": "invalid character in year"},
            }
        )
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
