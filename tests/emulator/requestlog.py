"""Every request the emulator saw, for assertions on what a client did."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: Headers never recorded (they carry the API key).
SECRET_HEADERS = frozenset({"authorization", "x-browser-use-api-key"})


@dataclass
class RequestRecord:
    id: int
    method: str
    path: str
    query: str
    headers: dict[str, str]
    timestamp: float  # time.time() when the request arrived
    auth_header: str | None = None  # name of the header that carried a key, never its value
    status: int | None = None  # status sent, None if no response started
    completed: bool = False  # the whole response was handed to the server
    client_disconnected: bool = False  # the client went away before the response finished
    reset_by_server: bool = False  # a `reset_mid_body` fault dropped the connection
    fault: str | None = None  # kind of the fault that answered ("429" for a status fault), if any
    duration: float | None = None  # seconds until the handler returned
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._next_id = 1

    def start(
        self, method: str, path: str, query: str, raw_headers: list[tuple[bytes, bytes]]
    ) -> RequestRecord:
        headers: dict[str, str] = {}
        auth_header = None
        for key, value in raw_headers:
            name = key.decode("latin-1").lower()
            if name in SECRET_HEADERS:
                auth_header = name
                continue
            text = value.decode("latin-1")
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
        with self._lock:
            record = RequestRecord(
                id=self._next_id,
                method=method,
                path=path,
                query=query,
                headers=headers,
                timestamp=time.time(),
                auth_header=auth_header,
            )
            self._next_id += 1
            self._records.append(record)
        return record

    def records(self, path_prefix: str | None = None, method: str | None = None) -> list[RequestRecord]:
        with self._lock:
            items = list(self._records)
        if path_prefix is not None:
            items = [r for r in items if r.path.startswith(path_prefix)]
        if method is not None:
            items = [r for r in items if r.method == method.upper()]
        return items

    def count(self, path: str | None = None, *, prefix: str | None = None, method: str | None = None) -> int:
        """Requests to exactly `path`, or under `prefix`, or all of them."""
        items = self.records(prefix, method)
        if path is not None:
            items = [r for r in items if r.path == path]
        return len(items)

    def counts(self) -> dict[str, int]:
        """Number of requests per path."""
        return dict(Counter(r.path for r in self.records()))

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def wait_for(
        self, predicate: Callable[[RequestRecord], bool], timeout: float = 5.0, interval: float = 0.01
    ) -> RequestRecord | None:
        """The first record matching `predicate`, polling until `timeout`; None if none appears."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.records():
                if predicate(record):
                    return record
            if time.monotonic() >= deadline:
                return None
            time.sleep(interval)
