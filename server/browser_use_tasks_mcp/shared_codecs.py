"""How values travel through the shared cache: bytes out, the same value back.

Models go as their JSON; images and GIFs as a small JSON header followed by their bytes. A
value that does not decode (another version's, or damaged) is treated as a miss, never an error.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .media import ImageInfo, Rendered

M = TypeVar("M", bound=BaseModel)
_HEADER = struct.Struct(">I")


def dump_model(value: BaseModel) -> bytes:
    return value.model_dump_json().encode()


def load_model(kind: type[M], data: bytes) -> M | None:
    try:
        return kind.model_validate_json(data)
    except ValidationError:
        return None


def _with_header(header: dict[str, Any], payload: bytes) -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return _HEADER.pack(len(head)) + head + payload


def _split(data: bytes) -> tuple[dict[str, Any], bytes] | None:
    if len(data) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack_from(data)
    end = _HEADER.size + length
    try:
        header = json.loads(data[_HEADER.size : end])
    except ValueError:
        return None
    return (header, data[end:]) if isinstance(header, dict) else None


def dump_rendered(value: Rendered) -> bytes:
    header = asdict(value)
    del header["data"]
    return _with_header(header, value.data)


def load_rendered(data: bytes) -> Rendered | None:
    split = _split(data)
    if split is None:
        return None
    header, payload = split
    try:
        original = ImageInfo(**header.pop("original"))
        return Rendered(data=payload, original=original, **header)
    except (TypeError, KeyError):
        return None


def dump_model_with_bytes(value: tuple[BaseModel, bytes]) -> bytes:
    """A model and the bytes it describes (a GIF and its frame map)."""
    return _with_header(value[0].model_dump(mode="json"), value[1])


def load_model_with_bytes(kind: type[M], data: bytes) -> tuple[M, bytes] | None:
    split = _split(data)
    if split is None:
        return None
    try:
        return kind.model_validate(split[0]), split[1]
    except ValidationError:
        return None
