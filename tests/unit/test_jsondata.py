"""`jsondata.loads` reads through pydantic-core's parser when it can and the standard decoder otherwise:
whichever path a document takes, the value (or the refusal) is the standard decoder's."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from browser_use_tasks_mcp.jsondata import MAX_INT_DIGITS, loads


def _reference(raw: bytes | str) -> Any:
    """The rule as written: the standard decoder, integers over MAX_INT_DIGITS digits read as None."""

    def int_literal(text: str) -> int | None:
        return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else None

    return json.loads(raw, parse_int=int_literal)


def _outcome(read: Any, raw: bytes | str) -> tuple[str, Any]:
    try:
        value = read(raw)
    except (ValueError, RecursionError):
        return ("refused", None)
    return ("read", json.dumps(value, sort_keys=True))  # NaN compares unequal; its JSON text does not


EDGE_DOCUMENTS = [
    '{"a": -Infinity, "b": NaN, "c": 1e999}',
    '"\x01"',  # a raw control character: refused by both
    "[1, 2,]",
    '{"a":1,}',
    '{"a": 1} x',
    "",
    "{",
    '{"a": 01}',
    '{"a": .5}',
    "\ufeff{}",
    '{"a": "\\ud800 lone"}',  # an escaped lone surrogate: the standard decoder keeps it
    '{"a": "\\udc00\\ud800"}',
    "[" * 400 + "]" * 400,  # deeper than pydantic-core reads, not than the standard decoder
    '{"n": 1' + "0" * MAX_INT_DIGITS + "}",  # one digit too many: None
    '{"n": ' + "9" * MAX_INT_DIGITS + "}",  # just short enough: kept
    '{"n": ' + "9" * 5000 + "}",  # past what Python reads at all
    '{"s": "' + "1" * 40 + '", "n": 7}',  # a long digit run in a string: the careful path, same value
    '{"a":1,"a":2}',
    '{"f": 1.00000000000000011102230246251565, "g": 2.2250738585072014e-308, "h": -0.0}',
    '{"\\ud83d\\ude00": "\\u00e9\\u4e2d"}',
]


@pytest.mark.parametrize("text", EDGE_DOCUMENTS)
def test_edge_documents_read_as_the_standard_decoder_reads_them(text: str) -> None:
    assert _outcome(loads, text) == _outcome(_reference, text)
    try:
        encoded = text.encode("utf-8", "surrogatepass")
    except UnicodeEncodeError:  # pragma: no cover - every document above encodes
        return
    assert _outcome(loads, encoded) == _outcome(_reference, encoded)


def test_other_encodings_and_a_raw_lone_surrogate() -> None:
    assert loads('{"a": "é"}'.encode("utf-16")) == {"a": "é"}
    assert loads(b'\xef\xbb\xbf{"a": 1}') == {
        "a": 1
    }  # bytes may start with a UTF-8 BOM, as json.loads allows
    assert loads('{"a": "\ud800"}') == {"a": "\ud800"}  # a str holding a lone surrogate is not UTF-8
    with pytest.raises(TypeError):
        loads(3)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=8) | st.dictionaries(st.text(max_size=10), children, max_size=8)
    ),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.booleans())
def test_any_document_reads_as_the_standard_decoder_reads_it(value: Any, as_bytes: bool) -> None:
    text = json.dumps(value, ensure_ascii=False)
    raw: bytes | str = text.encode("utf-8", "surrogatepass") if as_bytes else text
    assert _outcome(loads, raw) == _outcome(_reference, raw)
    if isinstance(value, float) and math.isfinite(value):
        assert loads(raw) == value
