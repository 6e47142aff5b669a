"""Snapshot files: the exact text and data a model and a program read from the server.

Each snapshot is a file under tests/snapshots/ compared byte for byte with what a test
produced. After an intended change to what the server says, regenerate them all with one
command and review the diff before committing:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/tools

A missing snapshot fails with a message saying so; it is written only when
UPDATE_SNAPSHOTS=1 is set, never silently (so CI cannot pass on a snapshot it just made).

What varies from run to run is replaced by a named placeholder before comparing, and only
that: the emulator's base URL (its port is free-picked), the date and signature of a
presigned URL (the emulator signs with the time it started), temporary directories and
where the bundled runs are installed, how long a call waited, and the installed pydantic's
version in the links of validation messages. Each rule matches only its own syntax
(`X-Amz-Signature=` followed by 64 hex digits, the literal base URL of the running
emulator, ...), so any other change to the text still fails.

Not normalised, on purpose: byte sizes of images the server encodes (previews, assembled
GIFs) come from the installed Pillow's encoders, so a Pillow upgrade can change them; that
is a regeneration, reviewed like any other. Updating rewrites only the snapshots the
selected tests produce; delete the files of a removed case by hand.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
import pytest

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE_ENV = "UPDATE_SNAPSHOTS"
REGENERATE = f"{UPDATE_ENV}=1 .venv/bin/python -m pytest tests/tools"

# (pattern, replacement): each one names what it hides.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"X-Amz-Date=\d{8}T\d{6}Z"), "X-Amz-Date=<AMZ_DATE>"),
    (re.compile(r"(X-Amz-Credential=[A-Z0-9]+%2F)\d{8}(%2F)"), r"\1<AMZ_DAY>\2"),
    (re.compile(r"X-Amz-Signature=[0-9a-f]{64}"), "X-Amz-Signature=<AMZ_SIGNATURE>"),
    (re.compile(r"\*\*Waited:\*\* \d+\.\d+s"), "**Waited:** <WAITED>s"),
    # The server's own validation messages link to a page of the installed pydantic's version
    # (only that version: a link recorded in a run's data keeps its own).
    (
        re.compile(re.escape(f"https://errors.pydantic.dev/{'.'.join(pydantic.VERSION.split('.')[:2])}/v/")),
        "https://errors.pydantic.dev/<PYDANTIC>/v/",
    ),
)
# Structured-content keys whose numeric value is a measured time.
TIMING_KEYS = frozenset({"waited_s"})


def update_requested() -> bool:
    return os.environ.get(UPDATE_ENV) == "1"


@dataclass
class Normaliser:
    """Replaces the run-specific parts of a text or a JSON value with named placeholders.

    `literals` maps an exact string (the emulator's base URL, a temp dir) to its placeholder;
    longer literals are replaced first so one that contains another wins.
    """

    literals: dict[str, str] = field(default_factory=dict)

    def with_literal(self, value: str, placeholder: str) -> Normaliser:
        return Normaliser({**self.literals, value: placeholder})

    def text(self, value: str) -> str:
        for literal in sorted(self.literals, key=len, reverse=True):
            value = value.replace(literal, self.literals[literal])
        for pattern, replacement in PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {
                k: (
                    "<TIMING>"
                    if k in TIMING_KEYS and isinstance(v, int | float) and not isinstance(v, bool)
                    else self.data(v)
                )
                for k, v in value.items()
            }
        return value


def dump_json(value: Any) -> str:
    """The stable JSON form snapshots use: sorted keys, one-space indent, real Unicode."""
    return json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _diff(expected: str, actual: str, name: str) -> str:
    lines = list(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"snapshots/{name} (stored)",
            tofile=f"snapshots/{name} (now)",
        )
    )
    shown = "".join(lines[:80])
    if len(lines) > 80:
        shown += f"... {len(lines) - 80} more diff lines\n"
    return shown


def assert_snapshot(name: str, actual: str) -> None:
    """Compare `actual` with tests/snapshots/`name` exactly (or rewrite it when updating)."""
    path = SNAPSHOTS / name
    if update_requested():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != actual:
            path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"snapshot tests/snapshots/{name} does not exist. Create it with `{REGENERATE}`, "
            "then review and commit it.",
            pytrace=False,
        )
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        pytest.fail(
            f"snapshot tests/snapshots/{name} differs from what the server returns now.\n"
            f"{_diff(expected, actual, name)}"
            f"If the change is intended, regenerate with `{REGENERATE}` and review the diff.",
            pytrace=False,
        )


def assert_json_snapshot(name: str, value: Any, normaliser: Normaliser | None = None) -> None:
    normalised = (normaliser or Normaliser()).data(value)
    assert_snapshot(name, dump_json(normalised))


def assert_text_snapshot(name: str, text: str, normaliser: Normaliser | None = None) -> None:
    assert_snapshot(name, (normaliser or Normaliser()).text(text))
