"""Tolerant field readers and the mappers every source shares (actions, judgements).

Upstream payloads and history files drift across releases: unknown fields are ignored,
a field of the wrong type becomes None, and nothing here raises on a surprising value.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidInputError
from ..jsondata import loads
from ..models import Action, Judgement, Step

#: One text field (a memory, a goal, an output) is kept up to this many characters.
MAX_TEXT_CHARS = 20_000
#: Containers nested deeper than this (metadata, action parameters) are kept as a short text.
MAX_DEPTH = 12
#: One action's parameters, as JSON, are kept up to this many characters.
MAX_PARAMS_CHARS = 8_000
#: An action's JSON text this short re-encodes its parameters under MAX_PARAMS_CHARS whatever it holds:
#: written back out, a token grows at most 4.5 times (`1E15` -> `1000000000000000.0`; a separator
#: gains a space, strings never grow, cut values shrink), plus `{"value": }` around a bare value.
SHORT_ACTION_CHARS = (MAX_PARAMS_CHARS - 16) * 2 // 9
#: Output and uploaded files listed of one task.
MAX_FILES = 500
#: Steps kept of one task: the first and last halves of this many (a run past it is pathological).
MAX_STEPS = 2_000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,18}")
# json.dumps(data, ensure_ascii=False) without building an encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_BIG = 10**30
#: Values `as_data` keeps unchanged: nothing in them to bound or clean.
_KEPT_AS_IS = frozenset({int, bool, type(None)})


def _text(value: str) -> str:
    """Valid Unicode (a lone surrogate becomes U+FFFD), at most MAX_TEXT_CHARS."""
    if value.isascii() and len(value) <= MAX_TEXT_CHARS:
        return value  # the common case, and no surrogate can hide in ASCII; isascii() is O(1)
    if len(value) > MAX_TEXT_CHARS:
        value = value[:MAX_TEXT_CHARS] + " … [cut]"
    return _LONE_SURROGATE.sub("\ufffd", value)


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 with or without offset (naive means UTC, as the API documents), as UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # unparsable, or out of range once moved to UTC
        return None


def as_str(value: Any) -> str | None:
    if isinstance(value, str):
        # _text's common case inline: this runs for every text field of every step.
        return value if value.isascii() and len(value) <= MAX_TEXT_CHARS else _text(value)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def as_text(value: Any) -> str | None:
    """A string that says something: None for anything else, and for blank text."""
    return _text(value) if isinstance(value, str) and value.strip() else None


def bounded_steps(items: list[Any]) -> tuple[list[tuple[int, Any]], str | None]:
    """(position, item) of the steps kept, the first and last MAX_STEPS // 2; and a note when any were not."""
    if len(items) <= MAX_STEPS:
        return list(enumerate(items)), None
    half = MAX_STEPS // 2
    kept = [
        *enumerate(items[:half]),
        *((len(items) - half + i, item) for i, item in enumerate(items[-half:])),
    ]
    note = (
        f"The task has {len(items)} steps; steps {half + 1} to {len(items) - half} (by position) were not read, "
        f"to keep memory bounded. The first and last {half} are shown."
    )
    return kept, note


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def as_float(value: Any) -> float | None:
    """A finite number; NaN and infinities (which json.loads accepts) become None."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float | str):
            number = float(value)
            return number if math.isfinite(number) else None
    except (ValueError, OverflowError):
        return None
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _ASCII_INT.fullmatch(value.strip()):
        return int(value.strip())
    return None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_data(value: Any, depth: int = 0) -> Any:
    """JSON data safe to keep and show: valid text, bounded strings, nesting cut at MAX_DEPTH."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return "{…}"
        # Short ASCII keys and plain scalars are kept as they are without a call each (the common case).
        return {
            (k if type(k) is str and k.isascii() and len(k) <= MAX_TEXT_CHARS else _text(str(k))): (
                v if type(v) in _KEPT_AS_IS else as_data(v, depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return "[…]" if depth >= MAX_DEPTH else [as_data(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def params_of(value: Any, *, from_short_json: bool = False) -> dict[str, Any]:
    """An action's parameters: bounded data, or the start of their JSON when they are too large.

    `from_short_json`: the value was decoded from JSON text of at most `SHORT_ACTION_CHARS`, so
    its JSON here cannot pass the cap and is not written out just to be measured.
    """
    data = as_data(value if isinstance(value, dict) else {"value": value})
    if from_short_json or _surely_short(data):
        return data  # type: ignore[no-any-return]
    text = _ENCODER.encode(data)
    if len(text) <= MAX_PARAMS_CHARS:
        return data  # type: ignore[no-any-return]
    return _cut(text)


def _surely_short(data: dict[str, Any]) -> bool:
    """Whether flat parameters surely fit MAX_PARAMS_CHARS as JSON, without writing them out: written
    out, a string grows at most six times (a control character), a finite float or a bounded integer
    stays under 32 characters, a key costs its own text plus quotes and separators."""
    size = 2
    for key, value in data.items():
        if isinstance(value, str):
            size += 6 * len(value)
        elif (
            value is None
            or isinstance(value, bool | float)
            or (isinstance(value, int) and -_BIG < value < _BIG)
        ):
            size += 32
        else:
            return False  # nested, or a huge integer: measure it
        size += 6 * len(key) + 8
    return size <= MAX_PARAMS_CHARS


def _cut(text: str) -> dict[str, Any]:
    """The start of an action's JSON, short enough that written out as JSON again (where every quote
    and backslash in it is escaped, a control character six times its size) it still fits the cap."""
    keep = MAX_PARAMS_CHARS
    while True:
        cut = {"cut": text[:keep] + " … [cut]"}
        size = len(_ENCODER.encode(cut))
        if size <= MAX_PARAMS_CHARS + 100 or keep == 0:
            return cut
        keep = keep * MAX_PARAMS_CHARS // size  # strictly smaller: size is over the cap


def action_fields(raw: Any) -> dict[str, Any]:
    """An action's `Action` fields: an action is `{"name": {params}}`, in v2 as a JSON string; anything
    else is kept readable. Plain fields, so a mapper validates them with its task in one pydantic pass."""
    value = raw
    short = isinstance(raw, str) and len(raw) <= SHORT_ACTION_CHARS
    if isinstance(raw, str):
        try:
            value = loads(raw)
        except (ValueError, RecursionError):
            return {"name": "unparsed", "params": {"text": _text(raw[:500])}}
    if isinstance(value, dict) and len(value) == 1:
        name, params = next(iter(value.items()))
        return {"name": _text(str(name)[:100]), "params": params_of(params, from_short_json=short)}
    return {"name": "unparsed", "params": {"text": _text(str(raw)[:500])}}


def action_entries(entries: Any) -> list[dict[str, Any]]:
    """browser-use's `[{"click": {...}}, {"done": {...}}]` as `Action` fields: one action per key, empty
    entries skipped. Plain fields, so a mapper validates them with its task in one pydantic pass."""
    return [
        {"name": _text(name[:100]), "params": params_of(params)}
        for entry in as_list(entries)
        for name, params in as_dict(entry).items()
        if params is not None and isinstance(name, str)
    ]


def actions_from_entries(entries: Any) -> list[Action]:
    """`action_entries` as models, for a mapper that builds its steps one by one."""
    return [Action.model_validate(fields) for fields in action_entries(entries)]


def judgement_from(report: Any, verdict: Any = None) -> Judgement | None:
    """The judge's report (a dict as browser-use writes it); `verdict` when the API sends it apart."""
    data = as_dict(report)
    if verdict is None and not data:
        return None
    return Judgement(
        verdict=as_bool(verdict) if verdict is not None else as_bool(data.get("verdict")),
        reasoning=as_text(data.get("reasoning")),
        failure_reason=as_text(data.get("failure_reason")),
        impossible_task=as_bool(data.get("impossible_task")),
        reached_captcha=as_bool(data.get("reached_captcha")),
    )


def evaluation_failed(evaluation: str | None) -> bool:
    """browser-use agents start their evaluation of the previous goal with Success/Failed/Unknown."""
    return bool(evaluation) and evaluation.strip().lower().startswith(("fail", "failure", "error"))  # type: ignore[union-attr]


def mark_judged_failures(steps: list[Step]) -> None:
    """The one failing-step rule, for every source whose steps carry browser-use's evaluations: a step
    fails when its actions reported an error, or when the next step's evaluation of it says it failed
    (the agent's own verdict: a refused coupon is an error on the page, not in the action's result)."""
    for current, following in itertools.pairwise(steps):
        if evaluation_failed(following.evaluation_previous_goal):
            current.errors.append(f"Step {following.number} judged it: {following.evaluation_previous_goal}")


def clean_id(value: Any, validate: Callable[[str], str]) -> str | None:
    """An id the API sent, if `validate` accepts it: it is shown to the model and used in paths."""
    try:
        return validate(value) if isinstance(value, str) else None
    except InvalidInputError:
        return None
