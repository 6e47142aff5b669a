"""`Emulator` (state + app) and `run_emulator` (serve it on loopback in a thread)."""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import uvicorn

from . import media
from .app import create_app
from .faults import EmulatedConnectionReset, FaultSet
from .requestlog import RequestLog, RequestRecord
from .seed import MANY_TASKS, SeedData, get_seed

DEFAULT_API_KEY = "bu-test-key-0123456789"


class _HideEmulatedResets(logging.Filter):
    """uvicorn logs the exception that makes it drop a connection; ours is on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, EmulatedConnectionReset)


logging.getLogger("uvicorn.error").addFilter(_HideEmulatedResets())


class Emulator:
    """One emulated Browser Use Cloud (v4 + v3 + v2 + v1 + media) with fault switches and a request log.

    Attributes: `api_key`, `seed` (the seeded data), `faults` (`FaultSet`), `log`
    (`RequestLog`), `app` (the ASGI app), and once started `base_url`, `v4_url`, `v3_url`, `v2_url`, `v1_url` (v3 and v4
    take the v2 headers).
    """

    def __init__(self, api_key: str = DEFAULT_API_KEY, *, url_expires: int | None = None) -> None:
        self.api_key = api_key
        self.seed: SeedData = get_seed()
        self.media = media.build_registry(self.seed)
        self.faults = FaultSet()
        self.log = RequestLog()
        self.url_expires = url_expires
        # Fresh presigned URLs are dated when the emulator was created, so they are stable
        # for the emulator's lifetime (the expired screenshot carries its own old date).
        self.issued_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        #: Task id -> the one generation ("v2", "v3", "v4") that serves it, as a real account's ids
        #: each live in one generation; an id not named here is served by every generation that has it.
        self.owners: dict[str, str] = {}
        #: More API keys (v2), each of an account that sees only the task ids named: two users of a
        #: shared server who must never see each other's tasks.
        self.guest_keys: dict[str, frozenset[str]] = {}
        self.app = create_app(self)
        self.base_url: str | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # ---- URLs and headers --------------------------------------------------------------

    @property
    def v2_url(self) -> str:
        return f"{self._require_base()}/api/v2"

    @property
    def v1_url(self) -> str:
        return f"{self._require_base()}/api/v1"

    @property
    def v3_url(self) -> str:
        return f"{self._require_base()}/api/v3"

    @property
    def v4_url(self) -> str:
        return f"{self._require_base()}/api/v4"

    @property
    def v2_headers(self) -> dict[str, str]:
        return {"X-Browser-Use-API-Key": self.api_key}

    @property
    def v1_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def _require_base(self) -> str:
        if not self.base_url:
            raise RuntimeError("the emulator is not running; use run_emulator() or Emulator.start()")
        return self.base_url

    def presign(self, base_url: str, path: str, *, kind: str = "default") -> str:
        expires = self.url_expires or media.EXPIRES.get(kind, media.EXPIRES["default"])
        return media.presign(base_url, path, issued=self.issued_at, expires=expires)

    def prewarm(self, task_ids: list[str] | tuple[str, ...] | None = None) -> int:
        """Render and cache screenshots ahead of a benchmark (default: MANY_TASKS, ~3 s)."""
        return media.prewarm_screenshots(self.seed, MANY_TASKS if task_ids is None else task_ids)

    # ---- state -------------------------------------------------------------------------

    def serves(self, generation: str, task_id: str) -> bool:
        owner = self.owners.get(task_id)
        return owner is None or owner == generation

    def sees(self, key: str | None, task_id: str) -> bool:
        """Whether the account of `key` has this task (the main key's account has every task)."""
        allowed = self.guest_keys.get(key or "")
        return allowed is None or task_id in allowed

    def reset(self) -> None:
        """Remove all faults, forget all recorded requests, and serve every id in every generation again."""
        self.faults.clear()
        self.log.clear()
        self.owners.clear()
        self.guest_keys.clear()

    def requests(self, path_prefix: str | None = None, method: str | None = None) -> list[RequestRecord]:
        return self.log.records(path_prefix, method)

    def count(self, path: str | None = None, *, prefix: str | None = None, method: str | None = None) -> int:
        return self.log.count(path, prefix=prefix, method=method)

    # ---- serving -----------------------------------------------------------------------

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            loop="asyncio",
            timeout_keep_alive=5,
            timeout_graceful_shutdown=2,
        )

    @staticmethod
    def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only
        # then; without it every keep-alive response waits ~40 ms on Nagle + delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
        sock.set_inheritable(True)
        return sock

    def serve_forever(self, host: str = "127.0.0.1", port: int = 0, *, announce: bool = True) -> None:
        """Serve in the calling thread until interrupted (SIGINT/SIGTERM)."""
        sock = self.bind(host, port)
        self.base_url = f"http://{host}:{sock.getsockname()[1]}"
        if announce:
            print(self.base_url, flush=True)
        server = uvicorn.Server(self._config())
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    def start(self, host: str = "127.0.0.1", port: int = 0, timeout: float = 10.0) -> str:
        """Serve in a daemon thread; return the base URL once it answers."""
        if self._thread is not None:
            raise RuntimeError("already started")
        sock = self.bind(host, port)
        self.base_url = f"http://{host}:{sock.getsockname()[1]}"
        server = uvicorn.Server(self._config())
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="browser-use-emulator", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + timeout
        while True:
            if server.started and self._healthy(host, sock.getsockname()[1]):
                return self.base_url
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)

    @staticmethod
    def _healthy(host: str, port: int) -> bool:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        try:
            conn.request("GET", "/_emulator/health")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self, timeout: float = 10.0) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout / 2)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout / 2)
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> Emulator:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def run_emulator(
    port: int = 0, *, api_key: str = DEFAULT_API_KEY, host: str = "127.0.0.1", url_expires: int | None = None
) -> Iterator[Emulator]:
    """Start an emulator on `host:port` (0 = a free port) in a daemon thread; stop it on exit."""
    emulator = Emulator(api_key, url_expires=url_expires)
    emulator.start(host, port)
    try:
        yield emulator
    finally:
        emulator.stop()
