"""The safe fetcher: the only way the server downloads media.

Links come from the Browser Use API (presigned S3 URLs) or from task output, so they
are treated as untrusted. Before any connection is made a link must be https (plain
http only for configured loopback hosts such as a local emulator), carry no
credentials, and resolve only to public addresses. The connection then goes to the
address that was checked (the name is kept for the Host header and TLS), so a DNS
answer that changes between check and connect cannot redirect us to an internal
service. Redirects are followed by hand, only within the same scheme, host and port,
and each hop is checked again. Bodies are streamed under a byte cap, the whole fetch is
under one deadline, and the type is sniffed from the bytes, never taken from the URL or
Content-Type.

Refusals raise `FetchRefusedError` with a message for the model. Messages name the link
only through `redact_url` (no query string: that is where signatures live) and never
include a response body.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx2

from . import __version__
from .errors import FetchRefusedError
from .media import sniff_mime
from .untrusted import code

logger = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_CHARS = 8192
_DEFAULT_PORTS = {"https": 443, "http": 80}
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_ERROR_BODY_SAMPLE = 4096
# Phrases object stores use for a signed link past its lifetime (S3/GCS, Azure).
_EXPIRY_PHRASES = (b"expired", b"not valid in the specified time frame")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class Fetched:
    data: bytes
    mime_type: str | None  # sniffed from the bytes by media.sniff_mime
    url: str  # final URL after any allowed redirect; log it only through redact_url()


def redact_url(url: str) -> str:
    """scheme://host[:port]/path: drops credentials, query string and fragment (signatures)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<unparseable link>"
    if ":" in host:
        host = f"[{host}]"
    redacted = urlunsplit((parts.scheme, host + port, parts.path, "", ""))
    return redacted if len(redacted) <= 300 else redacted[:299] + "…"


def shown_url(url: str) -> str:
    """A link as a model may read it: redacted, in a code span it cannot break out of."""
    return code(redact_url(url), 300)


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _is_public(ip: IPAddress) -> bool:
    """True only for globally routable unicast addresses, looking inside IPv6 wrappers."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64:  # NAT64 reaches the embedded IPv4 address
            return _is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return _is_public(embedded)
        if ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
    )


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{round(n / (1024 * 1024), 1):g} MB"
    return f"{round(n / 1024, 1):g} kB" if n >= 1024 else f"{n} bytes"


def _origin(url: httpx2.URL) -> tuple[str, str, int]:
    return url.scheme, url.raw_host.decode("ascii").lower(), url.port or _DEFAULT_PORTS.get(url.scheme, 0)


def _host_key(entry: str) -> tuple[str, int]:
    """'127.0.0.1:8123', '[::1]:8123' or 'http://localhost:8123' → (host, port)."""
    netloc = urlsplit(entry).netloc if "://" in entry else entry.strip()
    parts = urlsplit("//" + netloc)
    if not parts.hostname or parts.port is None:
        raise ValueError(f"allowed_http_hosts entries must be host:port, got {entry!r}")
    return parts.hostname.lower(), parts.port


_EXPIRY_KEYS = frozenset({"expires", "x-amz-date", "x-amz-expires", "x-goog-date", "x-goog-expires"})


def link_ttl(url: str | None, *, now: float | None = None) -> float | None:
    """Seconds a presigned URL still lives, from its query (S3 v4 or `Expires`), if it says.

    A plain scan of the query, not `parse_qs`: this runs for every screenshot link of every
    task read, and the values it needs are digits that never need percent-decoding.
    """
    if not url or "?" not in url:
        return None
    wanted: dict[str, str] = {}
    for pair in url.partition("?")[2].partition("#")[0].split("&"):
        key, _, value = pair.partition("=")
        key = key.lower()
        if key in _EXPIRY_KEYS and key not in wanted:
            wanted[key] = value
    current = time.time() if now is None else now
    expires = wanted.get("expires", "")
    if expires.isdigit():
        return int(expires) - current
    for vendor in ("amz", "goog"):  # S3 SigV4 and Google Cloud Storage V4
        signed_at, lifetime = wanted.get(f"x-{vendor}-date", ""), wanted.get(f"x-{vendor}-expires", "")
        if signed_at and lifetime.isdigit():
            signed = _amz_timestamp(signed_at)
            return None if signed is None else signed + int(lifetime) - current
    return None


# The last parameter of a presigned link that differs between links signed together.
_SIGNATURE_NAMES = ("x-amz-signature=", "x-goog-signature=", "signature=")


def shortest_link_ttl(urls: Iterable[str], *, now: float | None = None) -> float | None:
    """The least time any of `urls` still lives by its own query, or None if none says.

    Links signed together (a task's screenshots) differ only in their path and their signature,
    the last parameter: each signing is read once, not each of a long task's hundreds of links.
    """
    current = time.time() if now is None else now
    signings: dict[str, float | None] = {}
    for url in urls:
        query = url.partition("?")[2].partition("#")[0]
        last = query.rfind("&")
        if last >= 0 and query[last + 1 : last + 18].lower().startswith(_SIGNATURE_NAMES):
            query = query[:last]
        if query not in signings:
            signings[query] = link_ttl("?" + query, now=current)
    known = [ttl for ttl in signings.values() if ttl is not None]
    return min(known) if known else None


@functools.lru_cache(maxsize=256)
def _amz_timestamp(value: str) -> float | None:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _signed_link_expired(url: httpx2.URL) -> bool:
    """Whether the link's own signature parameters say it has expired (S3, GCS, SigV2)."""
    ttl = link_ttl(str(url))
    return ttl is not None and ttl < 0


class SafeFetcher:
    """Downloads untrusted links under the rules in this module's docstring.

    Pass a client without default auth headers: requests are built here (no client
    headers, cookies or auth are sent), but the client's transport, TLS settings and
    proxies are used.
    """

    def __init__(
        self,
        client: httpx2.AsyncClient,
        *,
        allowed_http_hosts: Collection[str] = (),
        max_bytes: int = 25 * 1024 * 1024,
        timeout_s: float = 20.0,
        resolver: Resolver | None = None,
        max_redirects: int = 3,
    ) -> None:
        self._client = client
        self._trusted = frozenset(_host_key(entry) for entry in allowed_http_hosts)
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._resolve = resolver or _system_resolver
        self._max_redirects = max_redirects

    async def fetch(self, url: str, *, max_bytes: int | None = None) -> Fetched:
        cap = self._max_bytes if max_bytes is None else max_bytes
        try:
            with anyio.fail_after(self._timeout_s):
                data, final = await self._follow(url, cap)
        except (TimeoutError, httpx2.TimeoutException) as exc:
            raise self._refuse(
                f"Downloading {shown_url(url)} timed out after {self._timeout_s:g} s, so nothing was "
                "returned. The file server may be slow or unreachable; try again in a moment.",
                url,
            ) from exc
        except httpx2.HTTPError as exc:
            raise self._refuse(
                f"Could not download {shown_url(url)}: the connection failed ({type(exc).__name__}). "
                "Check that the host is reachable and try again.",
                url,
            ) from exc
        return Fetched(data=data, mime_type=sniff_mime(data), url=str(final))

    # ----------------------------------------------------------------- one hop at a time

    async def _follow(self, raw: str, cap: int) -> tuple[bytes, httpx2.URL]:
        url = self._check_url(raw)
        origin = _origin(url)
        seen = {str(url)}
        for _ in range(self._max_redirects + 1):
            pinned = await self._check_address(url)
            response = await self._send(url, pinned)
            try:
                if response.status_code not in _REDIRECT_STATUSES:
                    return await self._body(response, url, cap), url
                url = self._redirect_target(response, url, origin)
                if str(url) in seen:
                    raise self._refuse(
                        f"The link {shown_url(raw)} redirects in a loop, so nothing was downloaded. "
                        "Call the tool again for a fresh link; if it repeats, the file cannot be fetched.",
                        raw,
                    )
                seen.add(str(url))
            finally:
                await response.aclose()
        raise self._refuse(
            f"The link {shown_url(raw)} redirected more than {self._max_redirects} times, so nothing was "
            "downloaded. Call the tool again for a fresh link; if it repeats, the file cannot be fetched.",
            raw,
        )

    def _check_url(self, raw: str) -> httpx2.URL:
        """Every rule that needs no network: length, syntax, scheme, credentials."""
        if len(raw) > MAX_URL_CHARS:
            raise self._refuse(
                f"The link is longer than {MAX_URL_CHARS // 1024} kB, so it was not fetched. "
                "Pass the link exactly as the tool returned it.",
                raw[:200],
            )
        try:
            url = httpx2.URL(raw)
        except (httpx2.InvalidURL, ValueError, TypeError) as exc:
            raise self._refuse(
                "The link is not a valid URL, so it was not fetched. "
                "Pass the link exactly as the tool returned it.",
                raw[:200],
            ) from exc
        if url.userinfo:
            raise self._refuse(
                f"The link {shown_url(raw)} contains a user name or password, which is never sent. "
                "Use the link without credentials.",
                raw,
            )
        host = url.raw_host.decode("ascii").lower()
        trusted_http = url.scheme == "http" and (host, url.port or 80) in self._trusted
        if url.scheme != "https" and not trusted_http:
            raise self._refuse(
                f"Only https links can be downloaded; {shown_url(raw)} uses "
                f"'{url.scheme or 'no'}:' and was refused. Use the https link the tool returned.",
                raw,
            )
        if not host:
            raise self._refuse(
                f"The link {shown_url(raw)} has no host name, so it was not fetched. "
                "Pass the link exactly as the tool returned it.",
                raw,
            )
        return url

    async def _check_address(self, url: httpx2.URL) -> str | None:
        """Resolve the host and refuse non-public addresses; return the address to connect to.

        None means a configured loopback host: it is trusted and connected to by name.
        """
        _, host, port = _origin(url)
        if (host, port) in self._trusted:
            return None
        try:
            addresses = [str(ipaddress.ip_address(host))]  # an IP literal needs no DNS
        except ValueError:
            addresses = await self._lookup(url, host, port)
        for address in addresses:
            try:
                public = _is_public(ipaddress.ip_address(address.split("%", 1)[0]))
            except ValueError:
                public = False
            if not public:
                raise self._refuse(
                    f"Refused to download {shown_url(str(url))}: the host resolves to a private, "
                    "loopback, link-local or otherwise non-public address. Only links to public "
                    "servers (such as the presigned links the API returns) can be fetched.",
                    str(url),
                )
        return addresses[0]

    async def _lookup(self, url: httpx2.URL, host: str, port: int) -> list[str]:
        try:
            addresses = list(dict.fromkeys(await self._resolve(host, port)))
        except (OSError, ValueError):  # no such name, or a name the resolver cannot encode
            addresses = []
        if not addresses:
            raise self._refuse(
                f"Could not download {shown_url(str(url))}: the host name {code(host, 100)} does not resolve. "
                "Check the link, or try again if the network is flaky.",
                str(url),
            )
        return addresses

    async def _send(self, url: httpx2.URL, pinned: str | None) -> httpx2.Response:
        # Built by hand, not with client.build_request: no default headers, cookies or auth
        # of the shared client must reach a third-party host.
        headers = {
            "Host": url.netloc.decode("ascii"),
            "Accept": "*/*",
            # Identity keeps the byte cap honest: no gzip bomb inflating behind our count.
            "Accept-Encoding": "identity",
            "User-Agent": f"browser-use-tasks-mcp/{__version__}",
        }
        extensions: dict[str, object] = {"timeout": httpx2.Timeout(self._timeout_s).as_dict()}
        target = url
        if pinned is not None:
            target = url.copy_with(host=pinned)
            extensions["sni_hostname"] = url.raw_host.decode("ascii")  # TLS still verifies the name
        request = httpx2.Request("GET", target, headers=headers, extensions=extensions)
        return await self._client.send(request, stream=True, follow_redirects=False, auth=None)

    def _redirect_target(
        self, response: httpx2.Response, url: httpx2.URL, origin: tuple[str, str, int]
    ) -> httpx2.URL:
        location = response.headers.get("location", "")
        try:
            target: httpx2.URL | None = url.join(location) if location else None
        except (httpx2.InvalidURL, ValueError):
            target = None
        # Presigned links never redirect across hosts, so a redirect that leaves the original
        # scheme+host+port is refused outright rather than re-validated as a new link.
        if target is None or _origin(target) != origin:
            where = shown_url(str(target)) if target is not None else "an unusable location"
            raise self._refuse(
                f"The link {shown_url(str(url))} redirected to {where}; only redirects within the "
                "same host are followed, so nothing was downloaded.",
                str(url),
            )
        return self._check_url(str(target))

    async def _body(self, response: httpx2.Response, url: httpx2.URL, cap: int) -> bytes:
        status = response.status_code
        if status >= 300:
            raise await self._status_error(response, url)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise self._too_large(url, cap)
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > cap:  # stop reading at once; never buffer past the cap
                raise self._too_large(url, cap)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _status_error(self, response: httpx2.Response, url: httpx2.URL) -> FetchRefusedError:
        status = response.status_code
        if status in (403, 410):
            sample = b""
            async for chunk in response.aiter_bytes():
                sample += chunk
                if len(sample) >= _ERROR_BODY_SAMPLE:
                    break
            lowered = sample[:_ERROR_BODY_SAMPLE].lower()
            if any(phrase in lowered for phrase in _EXPIRY_PHRASES) or _signed_link_expired(url):
                return self._refuse(
                    f"The download link for {shown_url(str(url))} has expired (signed links only "
                    "work for a short time), so nothing was downloaded. Call the tool again to get "
                    "a fresh link and fetch it right away.",
                    str(url),
                    expired=True,
                )
        if status >= 500:
            hint = "The file server had a problem; try again in a moment."
        elif status == 404:
            hint = "The file does not exist at that link; check the task and file name."
        elif status < 400:
            hint = "That is not a download; call the tool again for a fresh link."
        else:
            hint = "The server refused the request; calling the tool again may give a working link."
        return self._refuse(
            f"The server answered HTTP {status} for {shown_url(str(url))}, so nothing was downloaded. "
            + hint,
            str(url),
        )

    def _too_large(self, url: httpx2.URL, cap: int) -> FetchRefusedError:
        return self._refuse(
            f"The file at {shown_url(str(url))} is larger than {_human_size(cap)}; it was not "
            "downloaded. Ask for a preview or a smaller file instead.",
            str(url),
        )

    @staticmethod
    def _refuse(message: str, url: str, *, expired: bool = False) -> FetchRefusedError:
        logger.info("fetch refused for %s: %s", redact_url(url), message)
        return FetchRefusedError(message, expired=expired)
