"""A byte-bounded LRU cache with expiry, and single-flight request coalescing."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio

from .metrics import METRICS

V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    size: int
    expires_at: float | None


class ByteLRU(Generic[V]):
    """Least-recently-used eviction once the summed sizes pass `max_bytes`.

    An entry may carry a time-to-live (running tasks, presigned URLs); it is never served
    after that. `on_drop(key, value)` is told of every entry that leaves (evicted, expired,
    replaced, popped), so what was kept beside it can go too.
    """

    def __init__(
        self,
        max_bytes: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_drop: Callable[[Hashable, V], None] | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self._clock = clock
        self._on_drop = on_drop
        self._entries: OrderedDict[Hashable, _Entry[V]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._size

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at is not None and self._clock() >= entry.expires_at:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    def peek(self, key: Hashable) -> V | None:
        """The live value under `key`, without making it recently used."""
        entry = self._entries.get(key)
        if entry is None or (entry.expires_at is not None and self._clock() >= entry.expires_at):
            return None
        return entry.value

    def grow(self, key: Hashable, extra: int) -> None:
        """Count `extra` more bytes for an entry (something now kept with it), evicting as needed."""
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.size += extra
        self._size += extra
        self._evict()

    def put(self, key: Hashable, value: V, *, size: int, ttl_s: float | None = None) -> None:
        if key in self._entries:
            self._drop(key)  # even when the new value is not kept: the old one is stale
        if size > self.max_bytes:
            return  # larger than the whole cache: not worth evicting everything for
        expires_at = None if ttl_s is None else self._clock() + ttl_s
        self._entries[key] = _Entry(value, size, expires_at)
        self._size += size
        self._evict()

    def _evict(self) -> None:
        while self._size > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def pop(self, key: Hashable) -> None:
        if key in self._entries:
            self._drop(key)

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        self._size -= entry.size
        if self._on_drop is not None:
            self._on_drop(key, entry.value)


class _Flight:
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.completed = False


class SingleFlight:
    """Concurrent calls with the same key share one execution of the work.

    If the caller doing the work is cancelled, the waiters do not inherit the
    cancellation: the next one in line runs the work itself.
    """

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight] = {}

    async def run(self, key: Hashable, work: Callable[[], Awaitable[V]]) -> V:
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, work)
            METRICS.coalesced += 1
            await flight.done.wait()
            if flight.completed:
                if flight.error is not None:
                    raise flight.error
                return flight.result  # type: ignore[no-any-return]
            # The leader was cancelled: loop and lead (or follow a new leader).

    async def _lead(self, key: Hashable, work: Callable[[], Awaitable[V]]) -> V:
        flight = _Flight()
        self._flights[key] = flight
        try:
            flight.result = await work()
            flight.completed = True
            return flight.result  # type: ignore[no-any-return]
        except Exception as exc:
            flight.error = exc
            flight.completed = True
            raise
        finally:
            del self._flights[key]
            flight.done.set()
