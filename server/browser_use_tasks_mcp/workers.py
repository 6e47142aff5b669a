"""`--workers N`: N server processes answering on one port, for a machine with several cores.

The parent binds the port, then forks the workers, which all accept on that one socket (the
kernel spreads connections over them). Each worker is a whole server with its own event loop,
pool and memory cache; with `BROWSER_USE_MCP_CACHE_URL` they share one Redis cache. Streamable
HTTP is stateless here (`Settings.stateless`), so it does not matter which worker a request
reaches. A worker that dies is replaced; SIGTERM or Ctrl+C stops them all, and the parent exits
when the last one has finished its requests.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

from .config import Settings

log = logging.getLogger(__name__)
Handler = Callable[[int, FrameType | None], Any] | int | None

#: A worker that dies sooner than this after starting is replaced only after a pause, so a worker
#: that cannot start does not make the supervisor spin.
STEADY_S = 5.0
RESTART_PAUSE_S = 2.0


def serve_workers(settings: Settings, sock: socket.socket) -> int:
    children: dict[int, float] = {}
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for _ in range(settings.workers):
            children[_fork_worker(settings, sock, previous)] = time.monotonic()
        while children:
            pid, status = os.wait()
            started = children.pop(pid, None)
            if started is None or stopping:
                continue
            log.warning(
                "worker %d exited (status %d); starting another", pid, os.waitstatus_to_exitcode(status)
            )
            if time.monotonic() - started < STEADY_S:
                time.sleep(RESTART_PAUSE_S)
            if not stopping:
                children[_fork_worker(settings, sock, previous)] = time.monotonic()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _fork_worker(settings: Settings, sock: socket.socket, handlers: Mapping[signal.Signals, Handler]) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        code = _run_worker(settings, sock)
    finally:
        os._exit(code)


def _run_worker(settings: Settings, sock: socket.socket) -> int:
    from .app import build_server, settle_heap
    from .transports import run

    server = build_server(settings)
    settle_heap()
    with contextlib.suppress(KeyboardInterrupt):
        run(server, settings, sock)
    return 0
