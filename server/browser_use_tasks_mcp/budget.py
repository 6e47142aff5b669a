"""Byte budgets: no tool result or resource may flood a model's context or a client's memory.

Text content is bounded where it is rendered; structured content is bounded here, after
it is built, by cutting its longest strings (and, if that is not enough, its longest
lists) until its JSON fits. The cuts say so in place, so a program can tell a cut value
from a short one and knows where the rest is.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic_core

#: Structured content of one result, in bytes of JSON (images the caller asked for are apart).
STRUCTURED_BUDGET = 1024 * 1024
#: Text of one text resource (the step log, one step as JSON).
RESOURCE_BUDGET = 1024 * 1024
CUT_MARK = " … [cut]"
#: A list is never cut below this many items.
MIN_LIST_ITEMS = 20


def json_size(value: Any) -> int:
    """Bytes of `value` as compact JSON, written as the answer will be (by pydantic-core, in Rust)."""
    try:
        return len(pydantic_core.to_json(value))
    except pydantic_core.PydanticSerializationError:  # a lone surrogate: measured as it will be replaced
        return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace"))


def fit(value: Any, budget: int = STRUCTURED_BUDGET) -> tuple[Any, bool]:
    """`value` (JSON data) cut to fit `budget` bytes, and whether anything was cut."""
    size = json_size(value)
    if size <= budget:
        return value, False
    cap = _string_cap(value, size - budget)
    if cap is not None:
        value = _cut_strings(value, cap)
    while json_size(value) > budget and _cut_longest_list(value):
        pass
    return value, True


def _strings(value: Any, out: list[int]) -> None:
    if isinstance(value, str):
        out.append(len(value.encode("utf-8", "replace")))
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


def _string_cap(value: Any, excess: int) -> int | None:
    """The largest per-string length that removes at least `excess` bytes, or None if none does."""
    lengths: list[int] = []
    _strings(value, lengths)
    lengths.sort(reverse=True)
    low, high = len(CUT_MARK) * 4, lengths[0] if lengths else 0
    if high <= low:
        return None
    best = None
    while low <= high:
        cap = (low + high) // 2
        saved = sum(n - cap - len(CUT_MARK) for n in lengths if n > cap + len(CUT_MARK))
        if saved >= excess:
            best, low = cap, cap + 1
        else:
            high = cap - 1
    return best if best is not None else len(CUT_MARK) * 4


def _cut_strings(value: Any, cap: int) -> Any:
    if isinstance(value, str):
        if len(value.encode("utf-8", "replace")) <= cap + len(CUT_MARK):
            return value
        return value.encode("utf-8", "replace")[:cap].decode("utf-8", "ignore") + CUT_MARK
    if isinstance(value, dict):
        return {k: _cut_strings(v, cap) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_strings(v, cap) for v in value]
    return value


def _cut_longest_list(value: Any) -> bool:
    """Halve the longest list (in items) that is longer than MIN_LIST_ITEMS; False if there is none."""
    longest: list[Any] | None = None

    def visit(node: Any) -> None:
        nonlocal longest
        if isinstance(node, list):
            if len(node) > MIN_LIST_ITEMS and (longest is None or len(node) > len(longest)):
                longest = node
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            for item in node.values():
                visit(item)

    visit(value)
    if longest is None:
        return False
    del longest[max(MIN_LIST_ITEMS, len(longest) // 2) :]
    return True
