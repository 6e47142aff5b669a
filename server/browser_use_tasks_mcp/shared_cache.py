"""The cache a team's workers share: Redis, when `BROWSER_USE_MCP_CACHE_URL` names one.

Values are compressed bytes under keys that hold no secret: a namespace, the *scope* (a keyed
hash of the API key that fetched the value, so one user's key never reads what only another's
may), and what the value is. Every value carries a time to live no longer than the links inside it.

Redis makes answers cheaper, never possible: when it cannot be reached, every call is served
from memory and the source, the outage is logged once, Redis is left alone for a moment, and
the first command that works again ends the outage (logged once too).

Coalescing across workers: the first worker to miss a key takes a short lock and loads it; the
others wait for its value (polling, no longer than the lock lives) instead of asking upstream.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import secrets
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio

log = logging.getLogger(__name__)

T = TypeVar("T")

NAMESPACE = "bu-tasks-mcp:1"
#: Larger values are not shared (a 500-step task is about 60 KB compressed).
MAX_STORED_BYTES = 4 * 1024 * 1024
#: A stored value never inflates past this, whatever is in Redis.
MAX_VALUE_BYTES = 64 * 1024 * 1024
#: A Redis command that takes longer than this counts as Redis being unreachable.
COMMAND_TIMEOUT_S = 0.5
#: After a failure, Redis is not asked again for this long (every call would wait otherwise).
RETRY_AFTER_S = 1.0
#: How long a loading worker holds its lock, and how long the others wait for its value.
LOCK_S = 10.0
POLL_S = 0.02
#: Without BROWSER_USE_MCP_CACHE_SECRET, scopes are keyed with this: still not the key, and the
#: same in every worker. A deployment that sets the secret makes scopes unguessable even to
#: someone who holds a candidate key and can read Redis.
DEFAULT_SCOPE_SECRET = b"browser-use-tasks-mcp/cache-scope/1"

# Compare-and-delete: a lock is released only by the worker that holds it.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class _Unavailable(Exception):
    """Redis did not answer; the caller goes on without it."""


def scope_of(api_key: str | None, secret: bytes = DEFAULT_SCOPE_SECRET) -> str:
    """What cached values are filed under for this key: a keyed hash, never the key itself."""
    if not api_key:
        return "nokey"
    return hmac.new(secret, api_key.encode(), hashlib.sha256).hexdigest()[:32]


def describe(url: str) -> str:
    """The cache's address for logs and `check`: host and database, never a password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path or ''}"


def pack(data: bytes) -> bytes:
    return zlib.compress(data, 1)


def unpack(stored: bytes) -> bytes | None:
    """The value, or None when it is not ours or would inflate past the cap."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(stored, MAX_VALUE_BYTES)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail or not inflater.eof else data


class SharedCache:
    """One Redis connection pool per process, used by every service in it."""

    def __init__(self, url: str, *, client: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.where = describe(url)
        self._client = client if client is not None else _connect(url)
        self._clock = clock
        self._down_until = 0.0
        self._down_since: float | None = None
        self.counts = {"hits": 0, "misses": 0, "coalesced": 0, "errors": 0}

    @property
    def reachable(self) -> bool:
        return self._down_since is None

    async def get(self, key: str) -> bytes | None:
        try:
            stored = await self._command(lambda c: c.get(_key(key)))
        except _Unavailable:
            return None
        value = unpack(stored) if isinstance(stored, bytes) else None
        self.counts["hits" if value is not None else "misses"] += 1
        return value

    async def put(self, key: str, value: bytes, ttl_s: float) -> None:
        stored = pack(value)
        if ttl_s < 1 or len(stored) > MAX_STORED_BYTES:
            return
        with contextlib.suppress(_Unavailable):
            await self._command(lambda c: c.set(_key(key), stored, px=int(ttl_s * 1000)))

    async def load_once(
        self,
        key: str,
        load: Callable[[], Awaitable[T]],
        *,
        encode: Callable[[T], tuple[bytes, float] | None],
        decode: Callable[[bytes], T | None],
    ) -> T:
        """The shared value under `key`, or `load()` run by one worker of all those asking at once.

        `encode` gives the bytes to share and their time to live (None: not to be shared);
        `decode` turns shared bytes back into a value (None: unusable, load afresh).
        """
        found = await self._decoded(key, decode)
        if found is not None:
            return found
        token = secrets.token_hex(8)
        if not await self._lock(key, token):
            waited = await self._wait_for(key, decode)
            if waited is not None:
                self.counts["coalesced"] += 1
                return waited
        try:
            value = await load()
            shared = encode(value)
            if shared is not None:
                await self.put(key, *shared)
            return value
        finally:
            await self._unlock(key, token)

    async def aclose(self) -> None:
        try:
            await self._client.aclose()
        except Exception:
            log.debug("closing the shared cache's connections failed", exc_info=True)

    # -- internals ------------------------------------------------------------------------

    async def _decoded(self, key: str, decode: Callable[[bytes], T | None]) -> T | None:
        data = await self.get(key)
        return None if data is None else decode(data)

    async def _lock(self, key: str, token: str) -> bool:
        """True when this worker should load the value (it holds the lock, or Redis is away)."""
        try:
            taken = await self._command(
                lambda c: c.set(_lock_key(key), token, nx=True, px=int(LOCK_S * 1000))
            )
        except _Unavailable:
            return True
        return bool(taken)

    async def _unlock(self, key: str, token: str) -> None:
        with contextlib.suppress(_Unavailable):  # else the lock expires by itself
            await self._command(lambda c: c.eval(_RELEASE, 1, _lock_key(key), token))

    async def _wait_for(self, key: str, decode: Callable[[bytes], T | None]) -> T | None:
        """The value another worker is loading, once it lands; None if it gives up or fails."""
        deadline = self._clock() + LOCK_S
        while self._clock() < deadline:
            await anyio.sleep(POLL_S)
            found = await self._decoded(key, decode)
            if found is not None:
                return found
            try:
                if not await self._command(lambda c: c.exists(_lock_key(key))):
                    return await self._decoded(key, decode)  # released: its value, or its failure
            except _Unavailable:
                return None
        return None

    async def _command(self, run: Callable[[Any], Awaitable[Any]]) -> Any:
        if self._clock() < self._down_until:
            raise _Unavailable
        try:
            with anyio.fail_after(COMMAND_TIMEOUT_S):
                result = await run(self._client)
        except Exception as exc:
            self._went_down(exc)
            raise _Unavailable from None
        if self._down_since is not None:
            log.warning(
                "shared cache %s is reachable again after %.0f s",
                self.where,
                self._clock() - self._down_since,
            )
            self._down_since = None
        return result

    def _went_down(self, exc: BaseException) -> None:
        self.counts["errors"] += 1
        self._down_until = self._clock() + RETRY_AFTER_S
        if self._down_since is None:
            self._down_since = self._clock()
            log.warning(
                "shared cache %s is unreachable (%s): serving from memory until it answers again",
                self.where,
                type(exc).__name__,
            )


def _key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


def _lock_key(key: str) -> str:
    return f"{NAMESPACE}:lock:{key}"


def _connect(url: str) -> Any:
    """A redis-py asyncio client that fails fast: no retries of its own, short timeouts."""
    try:
        import redis.asyncio as aioredis  # only a team deployment needs it
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError as exc:  # pragma: no cover - checked at start-up by `cli`
        raise RuntimeError(
            "BROWSER_USE_MCP_CACHE_URL needs the `team` extra: pip install -e '.[team]'"
        ) from exc
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=COMMAND_TIMEOUT_S,
        socket_timeout=COMMAND_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )
