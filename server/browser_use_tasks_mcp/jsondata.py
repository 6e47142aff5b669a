"""Decoding JSON from outside (API bodies, history files) without letting one odd value refuse it all."""

from __future__ import annotations

import json
from typing import Any

#: An integer literal longer than this is not a number anyone meant (Python refuses past 4,300 digits).
MAX_INT_DIGITS = 30


def loads(raw: bytes | str) -> Any:
    """JSON with absurd integers read as None instead of failing the whole document.

    Raises ValueError (not JSON) or RecursionError (nested past the parser's limit).
    What `json.loads(raw, parse_int=...)` does, on one decoder made once: `json.loads` with
    any option builds a new decoder per call, which was half the cost of a small document
    (v2 sends every step's actions as a JSON string of their own).
    """
    if isinstance(raw, bytes | bytearray):
        raw = raw.decode(json.detect_encoding(raw), "surrogatepass")
    elif not isinstance(raw, str):
        raise TypeError(f"the JSON object must be str, bytes or bytearray, not {type(raw).__name__}")
    elif raw.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
    return _DECODER.decode(raw)


def _int_literal(text: str) -> int | None:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else None


_DECODER = json.JSONDecoder(parse_int=_int_literal)
