"""SafeFetcher: one test per refusal rule, against a loopback server or a mock transport.

No test sends traffic to a non-loopback address: refusals for private, link-local and
metadata addresses use an injected resolver and a transport that fails if it is ever
asked to connect, and the one public-address test uses httpx2.MockTransport.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import anyio.lowlevel
import httpx2
import pytest
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from browser_use_tasks_mcp.errors import FetchRefusedError
from browser_use_tasks_mcp.fetch import Resolver, SafeFetcher, redact_url

pytestmark = pytest.mark.anyio


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buf, "PNG")
    return buf.getvalue()


PNG = _png()
SECRET_BODY = "internal-trace-id-7f3a"
EXPIRED_S3 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    "<Message>Request has expired</Message><Expires>2020-01-01T00:00:00Z</Expires></Error>"
)


# --------------------------------------------------------------------------- loopback server


async def _endless() -> AsyncIterator[bytes]:
    for _ in range(100_000):  # ~1.6 GB if nobody stopped reading
        yield b"x" * 16384
        await anyio.lowlevel.checkpoint()


async def _slow() -> AsyncIterator[bytes]:
    yield PNG[:10]
    await anyio.sleep(3)
    yield PNG[10:]


async def _hop(request: Request) -> Response:
    n = int(request.path_params["n"])
    return RedirectResponse(f"/hop/{n + 1}", status_code=302)


ROUTES = [
    Route("/shot.png", lambda r: Response(PNG, media_type="image/png")),
    Route(
        "/page.html",
        lambda r: Response("<!DOCTYPE html><html><body>login</body></html>", media_type="text/html"),
    ),
    Route("/notes.txt", lambda r: Response("step 1 ok\nstep 2 ok\n", media_type="text/plain")),
    # Claims to be text, but is a PNG: the type comes from the bytes, not the header.
    Route("/binary.txt", lambda r: Response(PNG, media_type="text/plain")),
    Route("/redirect-same", lambda r: RedirectResponse("/shot.png", status_code=302)),
    Route("/redirect-other", lambda r: RedirectResponse(r.query_params["to"], status_code=302)),
    Route("/loop", lambda r: RedirectResponse("/loop", status_code=301)),
    Route("/hop/{n}", _hop),
    Route("/expired", lambda r: Response(EXPIRED_S3, status_code=403, media_type="application/xml")),
    Route("/forbidden", lambda r: Response(SECRET_BODY, status_code=403)),
    Route("/error", lambda r: Response(SECRET_BODY, status_code=500)),
    Route("/endless", lambda r: StreamingResponse(_endless(), media_type="application/octet-stream")),
    Route("/slow", lambda r: StreamingResponse(_slow(), media_type="image/png")),
    # Declares 50 MB but sends 4 bytes: refused on the header alone.
    Route("/lie", lambda r: Response(b"tiny", headers={"content-length": str(50 * 1024 * 1024)})),
]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    config = uvicorn.Config(
        Starlette(routes=ROUTES),
        host="127.0.0.1",
        port=0,
        log_level="critical",
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.01)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Real loopback transport that remembers every URL it was asked to connect to."""

    def __init__(self) -> None:
        self.inner = httpx2.AsyncHTTPTransport(trust_env=False)
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.urls.append(str(request.url))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class NoConnectTransport(httpx2.AsyncBaseTransport):
    """Fails the test if the fetcher ever tries to connect."""

    def __init__(self) -> None:
        self.calls = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.calls += 1
        raise AssertionError(f"connection attempted to {request.url}")


@pytest.fixture
async def transport() -> AsyncIterator[RecordingTransport]:
    recording = RecordingTransport()
    yield recording
    await recording.aclose()


def _loopback_fetcher(
    server: str,
    transport: httpx2.AsyncBaseTransport,
    *,
    max_bytes: int = 25 * 1024 * 1024,
    timeout_s: float = 5.0,
    max_redirects: int = 3,
    resolver: Resolver | None = None,
) -> SafeFetcher:
    client = httpx2.AsyncClient(transport=transport, trust_env=False)
    return SafeFetcher(
        client,
        allowed_http_hosts=[server],
        max_bytes=max_bytes,
        timeout_s=timeout_s,
        max_redirects=max_redirects,
        resolver=resolver,
    )


def _fake_resolver(table: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return table[host]

    return resolve


async def _refused(fetcher: SafeFetcher, url: str, *, max_bytes: int | None = None) -> str:
    with pytest.raises(FetchRefusedError) as info:
        await fetcher.fetch(url, max_bytes=max_bytes)
    return info.value.message


# --------------------------------------------------------------------------- happy paths


async def test_happy_path_loopback_allowed_http(server: str, transport: RecordingTransport) -> None:
    fetched = await _loopback_fetcher(server, transport).fetch(f"http://{server}/shot.png")
    assert fetched.data == PNG
    assert fetched.mime_type == "image/png"
    assert fetched.url == f"http://{server}/shot.png"


async def test_same_host_redirect_is_followed(server: str, transport: RecordingTransport) -> None:
    fetched = await _loopback_fetcher(server, transport).fetch(f"http://{server}/redirect-same")
    assert fetched.data == PNG
    assert fetched.url.endswith("/shot.png")
    assert len(transport.urls) == 2


async def test_text_is_sniffed_as_text(server: str, transport: RecordingTransport) -> None:
    fetched = await _loopback_fetcher(server, transport).fetch(f"http://{server}/notes.txt")
    assert fetched.mime_type == "text/plain"


async def test_public_host_is_pinned_and_gets_no_client_secrets() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, content=PNG)

    client = httpx2.AsyncClient(
        transport=httpx2.MockTransport(handler), headers={"X-Browser-Use-API-Key": "bu_secret"}
    )
    client.cookies.set("session", "cookie_secret")
    fetcher = SafeFetcher(client, resolver=_fake_resolver({"files.example.com": ["93.184.216.34"]}))
    fetched = await fetcher.fetch("https://files.example.com/shot.png?X-Amz-Signature=abc")
    assert fetched.url == "https://files.example.com/shot.png?X-Amz-Signature=abc"
    (request,) = seen
    # Connects to the address that was checked, while naming the host for HTTP and TLS.
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "files.example.com"
    assert request.extensions["sni_hostname"] == "files.example.com"
    assert "x-browser-use-api-key" not in request.headers
    assert "cookie" not in request.headers


# --------------------------------------------------------------------------- URL rules


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://files.example.com/shot.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "gopher://files.example.com:70/_x",
        "http://files.example.com/shot.png",  # plain http to a host that is not configured
    ],
)
async def test_refuses_non_https_schemes(url: str) -> None:
    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport), resolver=_fake_resolver({}))
    message = await _refused(fetcher, url)
    assert "Only https" in message
    assert transport.calls == 0


async def test_refuses_plain_http_to_unconfigured_loopback_port(server: str) -> None:
    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport), allowed_http_hosts=["127.0.0.1:1"])
    assert "Only https" in await _refused(fetcher, f"http://{server}/shot.png")
    assert transport.calls == 0


async def test_refuses_credentials_in_url() -> None:
    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport), resolver=_fake_resolver({}))
    message = await _refused(fetcher, "https://admin:hunter2@files.example.com/shot.png")
    assert "user name or password" in message
    assert "hunter2" not in message
    assert transport.calls == 0


async def test_refuses_overlong_url() -> None:
    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport), resolver=_fake_resolver({}))
    message = await _refused(fetcher, "https://files.example.com/" + "a" * 9000)
    assert "longer than 8 kB" in message
    assert transport.calls == 0


@pytest.mark.parametrize(
    ("url", "reason"), [("https:///shot.png", "has no host name"), ("https://[::1/x", "not a valid URL")]
)
async def test_refuses_malformed_url(url: str, reason: str) -> None:
    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport), resolver=_fake_resolver({}))
    assert reason in await _refused(fetcher, url)
    assert transport.calls == 0


# --------------------------------------------------------------------------- address rules

RESOLVES_TO = {
    "private.example.com": ["10.0.0.5"],
    "private172.example.com": ["172.16.3.4"],
    "private192.example.com": ["192.168.1.1"],
    "loopback.example.com": ["127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "linklocal6.example.com": ["fe80::1"],
    "uniquelocal.example.com": ["fd00::5"],
    "mapped.example.com": ["::ffff:10.0.0.5"],
    "multicast.example.com": ["224.0.0.1"],
    "unspecified.example.com": ["0.0.0.0"],
    "reserved.example.com": ["240.0.0.1"],
    "nat64.example.com": ["64:ff9b::a9fe:a9fe"],  # 169.254.169.254 through NAT64
    # One bad answer among good ones is enough to refuse (DNS rebinding picks either).
    "mixed.example.com": ["93.184.216.34", "10.0.0.5"],
}


@pytest.mark.parametrize("host", sorted(RESOLVES_TO))
async def test_refuses_non_public_address_after_dns(host: str) -> None:
    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport), resolver=_fake_resolver(RESOLVES_TO))
    message = await _refused(fetcher, f"https://{host}/latest/meta-data/?token=abc")
    assert "non-public address" in message
    assert "token=abc" not in message
    assert transport.calls == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1/",
        "https://10.1.2.3/",
        "https://[::1]/",
        "https://[::ffff:192.168.0.1]/",
        "https://[fe80::1]/",
    ],
)
async def test_refuses_non_public_ip_literal_without_dns(url: str) -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError("IP literals must not be resolved")

    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport), resolver=no_dns)
    assert "non-public address" in await _refused(fetcher, url)
    assert transport.calls == 0


async def test_refuses_https_to_loopback_not_configured(server: str) -> None:
    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport))
    assert "non-public address" in await _refused(fetcher, f"https://{server}/shot.png")
    assert transport.calls == 0


async def test_refuses_unresolvable_host() -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    transport = NoConnectTransport()
    fetcher = SafeFetcher(httpx2.AsyncClient(transport=transport), resolver=nxdomain)
    assert "does not resolve" in await _refused(fetcher, "https://nowhere.example.com/x.png")
    assert transport.calls == 0


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize(
    "target",
    ["https://evil.example.com/steal", "http://169.254.169.254/latest/meta-data/", "http://localhost:1/"],
)
async def test_refuses_cross_host_redirect(server: str, transport: RecordingTransport, target: str) -> None:
    fetcher = _loopback_fetcher(server, transport, resolver=_fake_resolver({}))
    message = await _refused(fetcher, f"http://{server}/redirect-other?to={target}")
    assert "only redirects within the same host" in message
    assert transport.urls == [f"http://{server}/redirect-other?to={target}"]  # never followed


async def test_refuses_redirect_loop(server: str, transport: RecordingTransport) -> None:
    message = await _refused(_loopback_fetcher(server, transport), f"http://{server}/loop")
    assert "redirects in a loop" in message
    assert len(transport.urls) == 1


async def test_refuses_too_many_redirects(server: str, transport: RecordingTransport) -> None:
    fetcher = _loopback_fetcher(server, transport, max_redirects=3)
    message = await _refused(fetcher, f"http://{server}/hop/0")
    assert "more than 3 times" in message
    assert len(transport.urls) == 4  # the original request plus three redirects


# --------------------------------------------------------------------------- body rules


async def test_refuses_declared_content_length_over_cap(server: str, transport: RecordingTransport) -> None:
    fetcher = _loopback_fetcher(server, transport, max_bytes=1024 * 1024)
    assert "larger than 1 MB" in await _refused(fetcher, f"http://{server}/lie")


async def test_refuses_streamed_body_over_cap(server: str, transport: RecordingTransport) -> None:
    fetcher = _loopback_fetcher(server, transport)
    started = time.monotonic()
    message = await _refused(fetcher, f"http://{server}/endless", max_bytes=64 * 1024)
    assert "larger than 64 kB" in message
    assert time.monotonic() - started < 5  # stopped early, not after the ~1.6 GB body


async def test_refuses_when_too_slow(server: str, transport: RecordingTransport) -> None:
    fetcher = _loopback_fetcher(server, transport, timeout_s=0.3)
    started = time.monotonic()
    assert "timed out after 0.3 s" in await _refused(fetcher, f"http://{server}/slow")
    assert time.monotonic() - started < 2.5  # the slow body takes 3 s


async def test_expired_s3_link_says_expired(server: str, transport: RecordingTransport) -> None:
    fetcher = _loopback_fetcher(server, transport)
    message = await _refused(fetcher, f"http://{server}/expired?X-Amz-Signature=deadbeef")
    assert "has expired" in message
    assert "Call the tool again" in message
    assert "deadbeef" not in message
    assert "AccessDenied" not in message


async def test_expired_signature_parameters_say_expired() -> None:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(lambda r: httpx2.Response(403, text="denied")))
    fetcher = SafeFetcher(client, resolver=_fake_resolver({"bucket.s3.amazonaws.com": ["52.216.1.1"]}))
    url = (
        "https://bucket.s3.amazonaws.com/t/shot.png?X-Amz-Date=20200101T000000Z"
        "&X-Amz-Expires=3600&X-Amz-Signature=deadbeef"
    )
    message = await _refused(fetcher, url)
    assert "has expired" in message
    assert "deadbeef" not in message


@pytest.mark.parametrize(("path", "status"), [("/error", 500), ("/forbidden", 403)])
async def test_http_error_gives_status_only(
    server: str, transport: RecordingTransport, path: str, status: int
) -> None:
    message = await _refused(_loopback_fetcher(server, transport), f"http://{server}{path}")
    assert f"HTTP {status}" in message
    assert SECRET_BODY not in message
    assert "expired" not in message


# --------------------------------------------------------------------------- redaction


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://bucket.s3.us-east-1.amazonaws.com/tasks/t1/shot.png"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=abc123#frag",
            "https://bucket.s3.us-east-1.amazonaws.com/tasks/t1/shot.png",
        ),
        ("https://user:pw@host.example.com:8443/a/b?sig=1", "https://host.example.com:8443/a/b"),
        ("http://[::1]:8123/files/x.txt?token=t", "http://[::1]:8123/files/x.txt"),
        ("http://[bad", "<unparseable link>"),
    ],
)
def test_redact_url_removes_signatures(url: str, expected: str) -> None:
    assert redact_url(url) == expected
