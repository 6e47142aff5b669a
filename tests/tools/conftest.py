"""Fixtures of the per-tool tests: the source each test runs on.

`source` runs a test once per source: the bundled local runs, Cloud API v2 and legacy v1 on
the emulator. `make_source(name, **settings)` builds one source by name, for tests whose
cases differ per source. Cloud sources use `fresh_emulator`: no faults, an empty request log.

Each tool's file also snapshots what the tool answers (tests/snapshots/<tool>/); after an
intended change to the server's text, regenerate them all with
`UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/tools` (see tests/snapshot.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.emulator import Emulator
from tests.tools.common import SOURCES, Source, cloud_source, local_source


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_source(request: pytest.FixtureRequest) -> Callable[..., Source]:
    def make(name: str, **extra: Any) -> Source:
        if name == "local":
            return local_source(**extra)
        emu: Emulator = request.getfixturevalue("fresh_emulator")
        return cloud_source(emu, name, **extra)

    return make


@pytest.fixture(params=SOURCES)
def source(request: pytest.FixtureRequest, make_source: Callable[..., Source]) -> Source:
    return make_source(request.param)
