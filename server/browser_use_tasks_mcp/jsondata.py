"""Decoding JSON from outside (API bodies, history files) without letting one odd value refuse it all."""

from __future__ import annotations

import json
from typing import Any

#: An integer literal longer than this is not a number anyone meant (Python refuses past 4,300 digits).
MAX_INT_DIGITS = 30


def loads(raw: bytes | str) -> Any:
    """JSON with absurd integers read as None instead of failing the whole document.

    Raises ValueError (not JSON) or RecursionError (nested past the parser's limit).
    """
    return json.loads(raw, parse_int=_int_literal)


def _int_literal(text: str) -> int | None:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else None
