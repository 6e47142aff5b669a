"""Decoding JSON from outside (API bodies, history files) without letting one odd value refuse it all."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import from_json

#: An integer literal longer than this is not a number anyone meant (Python refuses past 4,300 digits).
MAX_INT_DIGITS = 30
# Every digit read as "0", so a literal too long to keep is one substring search away.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER_BYTES = b"0" * (MAX_INT_DIGITS + 1)


def loads(raw: bytes | str) -> Any:
    """JSON with absurd integers read as None instead of failing the whole document.

    Raises ValueError (not JSON) or RecursionError (nested past the parser's limit).
    Most documents take pydantic-core's parser (written in Rust, about twice as fast as the
    standard library's on a 350 KB task). Anything it refuses, and any document with a run of
    digits long enough to be an absurd integer, is read by the standard library's decoder
    under the rules below, so both paths give the same value or the same refusal.
    """
    if isinstance(raw, bytes | bytearray):
        encoded = raw
    elif not isinstance(raw, str):
        raise TypeError(f"the JSON object must be str, bytes or bytearray, not {type(raw).__name__}")
    elif raw.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
    else:
        # Checked and parsed as bytes: a byte table is four times faster than `str.translate`, and a lone
        # surrogate (not UTF-8) makes pydantic-core refuse, leaving it to the standard decoder.
        encoded = raw.encode("utf-8", "surrogatepass")
    if _LONG_NUMBER_BYTES not in encoded.translate(_DIGITS_AS_ZERO):
        try:
            return from_json(encoded)
        except ValueError:
            pass  # not JSON as pydantic-core reads it: the standard decoder judges
    text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw), "surrogatepass")
    return _DECODER.decode(text)


def _int_literal(text: str) -> int | None:
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else None


# What `json.loads(text, parse_int=...)` does, on one decoder made once: `json.loads` with any option
# builds a new decoder per call, which was half the cost of a small document.
_DECODER = json.JSONDecoder(parse_int=_int_literal)
