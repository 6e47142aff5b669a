"""Hypothesis strategies for JSON bodies an OpenAPI 3.1 document allows.

Enough of JSON Schema for the Browser Use documents: `$ref` to components, `type` (one or a
list), `anyOf`/`oneOf`, `enum`, `const`, objects with `properties`, `required` and
`additionalProperties`, arrays with `items`, numeric bounds, and the `uuid` and `date-time`
formats. Optional properties come and go; arrays and free-form values stay small, so one
example is a realistic body, not a megabyte.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

MAX_ITEMS = 4

json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=20), st.floats(allow_nan=False)
)
any_json = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
timestamps = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
)


class SchemaStrategies:
    """`for_ref("#/components/schemas/RunSummary")`: a strategy of bodies that schema allows."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._doc = document
        self._made: dict[str, st.SearchStrategy[Any]] = {}

    def for_ref(self, ref: str) -> st.SearchStrategy[Any]:
        if ref not in self._made:
            # Deferred: schemas may refer to themselves.
            self._made[ref] = st.deferred(lambda: self.of(self._resolve(ref)))
        return self._made[ref]

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self._doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node  # type: ignore[no-any-return]

    def of(self, schema: dict[str, Any] | bool) -> st.SearchStrategy[Any]:
        if schema is True or schema == {}:
            return any_json
        if schema is False:
            return st.nothing()
        assert isinstance(schema, dict)
        if "$ref" in schema:
            return self.for_ref(schema["$ref"])
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return st.one_of([self.of(option) for option in schema[key]])
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self._resolve(part["$ref"]) if "$ref" in part else part)
            return self.of(merged)
        kinds = schema.get("type")
        if isinstance(kinds, list):
            return st.one_of([self.of({**schema, "type": kind}) for kind in kinds])
        return self._typed(kinds, schema)

    def _typed(self, kind: str | None, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
        if kind == "number":
            return st.floats(
                schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
            )
        if kind == "string":
            return self._string(schema)
        if kind == "array":
            items = self.of(schema.get("items", True))
            return st.lists(items, min_size=schema.get("minItems", 0), max_size=MAX_ITEMS)
        if kind == "object" or "properties" in schema:
            return self._object(schema)
        return any_json

    def _string(self, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        form = schema.get("format")
        if form == "uuid":
            return st.uuids().map(str)
        if form == "date-time":
            return timestamps
        if form in ("uri", "url"):
            return st.sampled_from(
                ["https://example.com/a.png", "https://cdn.example.com/x?sig=1", "not a url"]
            )
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40))

    def _object(self, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        extra = schema.get("additionalProperties", not properties)
        fixed = st.fixed_dictionaries(
            {name: self.of(properties[name]) for name in properties if name in required},
            optional={name: self.of(properties[name]) for name in properties if name not in required},
        )
        if not extra:
            return fixed
        values = self.of(extra)
        more = st.dictionaries(st.text(min_size=1, max_size=8), values, max_size=2)
        return st.tuples(more, fixed).map(lambda pair: {**pair[0], **pair[1]})
