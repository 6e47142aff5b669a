"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator import Emulator, run_emulator

# ======================================================================================
# Browser Use Cloud emulator fixtures (owned by tests/emulator; see its __init__ docstring)
# --------------------------------------------------------------------------------------
# `emulator`: one emulator (v2 + v1 + media) on a free loopback port for the whole session.
# `fresh_emulator`: the same emulator with faults and the request log cleared before and
# after the test. Use it whenever a test adds faults or counts requests.
# ======================================================================================


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with run_emulator() as emu:
        yield emu


@pytest.fixture
def fresh_emulator(emulator: Emulator) -> Iterator[Emulator]:
    emulator.reset()
    yield emulator
    emulator.reset()


# ======================================================================================
# End of emulator fixtures
# ======================================================================================
