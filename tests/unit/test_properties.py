"""Property tests for the hardening round's new classes of input (hypothesis).

- Any JSON value fits the structured-content budget after `budget.fit`, and stays valid JSON text.
- Any name a run folder can hold is found again by its exact name and by the name a model reads.
- The tolerant readers turn any odd value (lone surrogates, digits of any script, huge numbers,
  deep nesting) into a bounded, encodable value, never an exception.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from browser_use_tasks_mcp import budget
from browser_use_tasks_mcp.ids import pick_name
from browser_use_tasks_mcp.sources.parse import MAX_TEXT_CHARS, as_data, as_int, as_str, params_of
from browser_use_tasks_mcp.untrusted import clean_line, code

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3000),
    lambda children: (
        st.lists(children, max_size=30) | st.dictionaries(st.text(max_size=20), children, max_size=30)
    ),
    max_leaves=400,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.integers(min_value=2_000, max_value=50_000))
def test_fit_always_fits_the_budget(value: Any, limit: int) -> None:
    fitted, cut = budget.fit(value, limit)
    size = budget.json_size(fitted)
    if not cut:
        assert fitted == value
    # Lists are never cut below MIN_LIST_ITEMS items; short scalars cannot be cut at all.
    assert size <= limit or _floor_size(fitted) > limit
    json.loads(json.dumps(fitted))


def _floor_size(value: Any) -> int:
    """What cannot be cut: containers of at most MIN_LIST_ITEMS items of minimal strings."""
    return budget.json_size(budget._cut_strings(value, len(budget.CUT_MARK) * 4))


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\\\x00"), min_size=1, max_size=60
).filter(lambda n: n.strip() not in ("", ".", ".."))


@settings(max_examples=300, deadline=None)
@given(st.lists(names, min_size=1, max_size=8, unique=True), st.data())
def test_every_listed_name_is_found_by_the_name_shown(listed: list[str], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(listed))
    assert listed[pick_name(listed, name)] == name  # type: ignore[index]
    shown = code(name, 300).strip("`").strip()  # what a model copies out of the code span
    found = pick_name(listed, shown if shown else name)
    assert found is not None
    assert clean_line(listed[found], 300) == clean_line(name, 300)


odd_scalars = (
    st.text(st.characters(), max_size=50)
    | st.sampled_from(["\ud800", "²", "٣", "1" * 5000, "-0", "  7 "])
    | st.integers()
    | st.floats()
)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        odd_scalars,
        lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=5), c, max_size=5),
        max_leaves=60,
    )
)
def test_tolerant_readers_never_raise_and_stay_encodable(value: Any) -> None:
    text = as_str(value)
    if text is not None:
        assert len(text) <= MAX_TEXT_CHARS + 10
        text.encode("utf-8")  # raises on a lone surrogate
    number = as_int(value)
    assert number is None or isinstance(number, int)
    data = as_data(value)
    json.dumps(data).encode("utf-8")
    params = params_of(value)
    assert len(json.dumps(params, ensure_ascii=False)) <= 8_000 + 200


def test_a_cut_of_parameters_full_of_escapes_still_fits_once_written_out() -> None:
    """Found by the property above: the cut keeps the start of the parameters' JSON, whose quotes,
    backslashes and control characters are escaped again when the cut is written out."""
    value = {f"k{n}": '\x1f"\\' * 40 for n in range(200)}
    params = params_of(value)
    assert "cut" in params
    assert len(json.dumps(params, ensure_ascii=False)) <= 8_000 + 200
    assert params["cut"].startswith('{"k0": "\\u001f')
