"""Image work in worker processes (`BROWSER_USE_MCP_CPU_PROCESSES=N`), for a server under load.

In threads (the default), decoding, scaling and GIF assembly run beside the event loop but hold
its process's GIL between Pillow's C calls, so a GIF build slows every other call in the
worker. In processes they only share the machine's cores. Work that checks for cancellation
gets a `cancelled` that looks for a marker file the caller removes when it gives up, so an
abandoned GIF build stops at its next frame in the child too.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


class Abandoned(Exception):
    """Raised inside a child whose caller has gone; nobody sees it."""


class StillWanted:
    """A picklable `cancelled` check: raises once the caller has removed its marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self) -> None:
        if not os.path.exists(self.marker):
            raise Abandoned


class CpuPool:
    def __init__(self, processes: int) -> None:
        # forkserver: children start from a clean process, not a fork of one with threads and sockets.
        context = multiprocessing.get_context("forkserver")
        self._executor = ProcessPoolExecutor(max_workers=processes, mp_context=context)
        self._markers = Path(tempfile.mkdtemp(prefix="bu-tasks-mcp-cpu-"))
        self._limit = anyio.CapacityLimiter(processes)

    async def run(self, work: Callable[..., T], *args: Any, checked: bool = False) -> T:
        """`work(*args)` in a child process; with `checked`, it also gets `cancelled=`."""
        marker = self._new_marker() if checked else None
        kwargs: dict[str, Any] = {} if marker is None else {"cancelled": StillWanted(marker)}
        try:
            async with self._limit:
                return await _result(self._executor.submit(work, *args, **kwargs))
        finally:
            if marker is not None:
                _remove(marker)

    def _new_marker(self) -> str:
        """An empty file that exists as long as the caller still wants its work (a tiny local write)."""
        handle, name = tempfile.mkstemp(dir=self._markers)
        os.close(handle)
        return name

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        for marker in self._markers.glob("*"):
            marker.unlink(missing_ok=True)
        self._markers.rmdir()


def _remove(marker: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(marker)


async def _result(future: Future[T]) -> T:
    """The child's answer; a waiting thread holds no GIL. Cancellation returns at once."""
    try:
        return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)
    finally:
        future.cancel()  # no effect once it runs: the removed marker stops checked work instead
