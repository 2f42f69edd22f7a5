"""The fetch stage against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import ipaddress
import time
from http.server import BaseHTTPRequestHandler

import brotli
import pytest

from conftest import LoopbackServer, Route
from feedd.config import FetchConfig
from feedd.errors import (
    BlockedAddressError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from feedd.http import Fetcher, FetchResult, parse_retry_after
from feedd.http.guard import _is_public

LOOPBACK = FetchConfig(
    allow_private_networks=True, host_gap=0, timeout=3.0, read_timeout=1.0, max_bytes=64 * 1024
)


def _get(url: str, config: FetchConfig = LOOPBACK, **options: str | int) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(config, "feedd-test/1.0") as fetcher:
            return await fetcher.get(url, **options)

    return asyncio.run(go())


def test_plain_get_sends_user_agent(server: LoopbackServer) -> None:
    result = _get(server.add("/a", "hello"))
    assert (result.status_code, result.content) == (200, b"hello")
    assert server.requests[0][1]["user-agent"] == "feedd-test/1.0"


def test_conditional_get_gives_not_modified(server: LoopbackServer) -> None:
    url = server.add(
        "/feed", "<rss/>", etag='"abc"', headers={"Last-Modified": "Wed, 01 May 2024 10:00:00 GMT"}
    )
    first = _get(url)
    assert first.etag == '"abc"' and first.last_modified == "Wed, 01 May 2024 10:00:00 GMT"
    second = _get(url, etag=first.etag, last_modified=first.last_modified)
    assert second.not_modified and second.content == b""
    assert server.requests[1][1]["if-modified-since"] == "Wed, 01 May 2024 10:00:00 GMT"


def test_gzip_and_brotli_bodies_are_decoded(server: LoopbackServer) -> None:
    text = b"<p>compressed body</p>" * 50
    gz = server.add("/gz", gzip.compress(text), headers={"Content-Encoding": "gzip"})
    br = server.add("/br", brotli.compress(text), headers={"Content-Encoding": "br"})
    assert _get(gz).content == text and _get(br).content == text


def test_redirects_are_followed_and_limited(server: LoopbackServer) -> None:
    final = server.add("/final", "arrived")
    server.add("/r1", status=301, headers={"Location": "/r2"})
    server.add("/r2", status=302, headers={"Location": final})
    result = _get(server.url("/r1"))
    assert result.content == b"arrived" and result.final_url == final
    server.add("/loop", status=302, headers={"Location": "/loop2"})
    server.add("/loop2", status=302, headers={"Location": "/loop"})
    with pytest.raises(TooManyRedirectsError, match="loop"):
        _get(server.url("/loop"))
    for n in range(10):
        server.add(f"/chain{n}", status=302, headers={"Location": f"/chain{n + 1}"})
    with pytest.raises(TooManyRedirectsError, match="more than 5"):
        _get(server.url("/chain0"))


@pytest.mark.parametrize(("status", "transient"), [(404, False), (410, False), (500, True), (503, True)])
def test_http_errors(server: LoopbackServer, status: int, transient: bool) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        _get(server.add("/x", "error page", status=status))
    assert caught.value.status_code == status and caught.value.transient is transient
    assert caught.value.reason == f"HTTP {status}"


def test_retry_after_is_read(server: LoopbackServer) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        _get(server.add("/busy", status=429, headers={"Retry-After": "120"}))
    assert caught.value.retry_after == 120.0
    assert parse_retry_after("garbage") is None


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:30:30 GMT", now=now) == 150.0
    assert parse_retry_after("Thu, 22 Oct 2015 07:28:00 GMT", now=now) == 86400.0
    # A date already past asks for no wait at all, never a negative one.
    assert parse_retry_after("Wed, 21 Oct 2015 07:20:00 GMT", now=now) == 0.0
    assert parse_retry_after("Tue, 20 Oct 2015 07:28:00 GMT", now=now) == 0.0


def test_retry_after_as_an_http_date_on_the_wire(server: LoopbackServer) -> None:
    an_hour_on = email.utils.formatdate(time.time() + 3600, usegmt=True)
    with pytest.raises(HTTPStatusError) as caught:
        _get(server.add("/busy", status=503, headers={"Retry-After": an_hour_on}))
    # Whole seconds on the wire, and the seconds the request took since: a generous window.
    assert caught.value.retry_after is not None and 3500 <= caught.value.retry_after <= 3600


def test_body_cap_by_declared_length_and_while_streaming(server: LoopbackServer) -> None:
    with pytest.raises(ResponseTooLargeError):
        _get(server.add("/big", b"x" * (65 * 1024)))

    def chunked(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"y" * 8192
        for _ in range(100):
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        handler.wfile.write(b"0\r\n\r\n")

    server.routes["/stream"] = Route(handler=chunked)
    with pytest.raises(ResponseTooLargeError):
        _get(server.url("/stream"))


def test_keep_first_cuts_a_long_body_instead_of_refusing_it(server: LoopbackServer) -> None:
    text = bytes(range(256)) * 400  # 100 KiB, over the 64 KiB cap: its declared length says so
    long = _get(server.add("/long", text), keep_first=1000)
    assert (long.content, long.truncated) == (text[:1000], True)
    zipped = _get(
        server.add("/long.gz", gzip.compress(text), headers={"Content-Encoding": "gzip"}), keep_first=70_000
    )
    assert (zipped.content, zipped.truncated) == (text[: 64 * 1024], True)  # never past max_bytes
    exact = _get(server.add("/exact", text[:1000]), keep_first=1000)
    assert (exact.content, exact.truncated) == (text[:1000], False)
    short = _get(server.add("/short", text[:10]), keep_first=1000)
    assert (short.content, short.truncated) == (text[:10], False)


def test_gzip_bomb_stops_at_the_cap(server: LoopbackServer) -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # ~50 KB that inflates to 50 MB
    assert len(bomb) < 100 * 1024
    assert len(bomb) < LOOPBACK.max_bytes  # so its declared length passes: only the streamed bytes count
    with pytest.raises(ResponseTooLargeError, match=f"body exceeds the {LOOPBACK.max_bytes}-byte cap"):
        _get(server.add("/bomb", bomb, headers={"Content-Encoding": "gzip"}))


def test_stall_after_headers_times_out(server: LoopbackServer) -> None:
    def stall(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b"partial")
        handler.wfile.flush()
        time.sleep(5)

    server.routes["/stall"] = Route(handler=stall)
    with pytest.raises(FetchTimeoutError):
        _get(server.url("/stall"))


def test_slow_trickle_hits_the_total_timeout(server: LoopbackServer) -> None:
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100")
        handler.end_headers()
        try:
            for _ in range(100):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.5)  # each read is quick enough; the whole is not
        except OSError:
            pass

    server.routes["/trickle"] = Route(handler=trickle)
    config = FetchConfig(allow_private_networks=True, host_gap=0, timeout=2.0, read_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError, match="within 2s"):
        _get(server.url("/trickle"), config)
    # The whole trickle takes 50 s; giving up anywhere near the 2 s timeout is what matters.
    assert time.monotonic() - started < 30


def test_private_addresses_are_refused_by_default(server: LoopbackServer) -> None:
    url = server.add("/secret", "internal")
    with pytest.raises(BlockedAddressError, match="non-public address 127.0.0.1"):
        _get(url, FetchConfig())
    with pytest.raises(BlockedAddressError, match="localhost resolves to non-public"):
        _get(url.replace("127.0.0.1", "localhost"), FetchConfig())
    assert server.requests == []


ONLY_FIRST_LOOPBACK = FetchConfig(
    allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), host_gap=0, timeout=3.0, read_timeout=1.0
)


def test_allowed_networks_let_only_their_addresses_through(
    server: LoopbackServer, other_host: LoopbackServer
) -> None:
    assert _get(server.add("/feed", "public"), ONLY_FIRST_LOOPBACK).content == b"public"
    with pytest.raises(BlockedAddressError, match="non-public address 127.0.0.2"):
        _get(other_host.add("/secret", "internal"), ONLY_FIRST_LOOPBACK)
    assert other_host.requests == []


@pytest.mark.parametrize(
    "spelling",
    [
        "127.0.0.2",
        "2130706434",  # the same address as one decimal number: resolved, not read as a name
        "0x7f000002",
        "[::ffff:127.0.0.2]",
    ],
)
def test_a_redirect_into_the_private_network_is_refused(
    server: LoopbackServer, other_host: LoopbackServer, spelling: str
) -> None:
    other_host.add("/secret", "internal")
    port = other_host.url("/").split(":")[2].rstrip("/")
    location = f"http://{spelling}:{port}/secret"
    url = server.add("/hop", status=302, headers={"Location": location})
    with pytest.raises(BlockedAddressError, match="non-public address"):
        _get(url, ONLY_FIRST_LOOPBACK)
    assert server.hits("/hop") == 1
    assert other_host.requests == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2a00:1450:4001:80b::200e", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert _is_public(ipaddress.ip_address(address)) is public


def test_per_host_concurrency_limit(server: LoopbackServer) -> None:
    for n in range(6):
        server.add(f"/slow{n}", "ok", delay=0.3)
    config = FetchConfig(allow_private_networks=True, max_per_host=2, host_gap=0)

    async def go() -> None:
        async with Fetcher(config, "t") as fetcher:
            await asyncio.gather(*(fetcher.get(server.url(f"/slow{n}")) for n in range(6)))

    asyncio.run(go())
    assert server.max_active == 2


def test_requests_to_one_host_are_spaced_by_host_gap(server: LoopbackServer) -> None:
    for n in range(4):
        server.add(f"/p{n}", "ok")
    config = FetchConfig(allow_private_networks=True, max_per_host=4, host_gap=0.3)

    async def go() -> list[float]:
        async with Fetcher(config, "t") as fetcher:
            started = time.monotonic()
            await asyncio.gather(*(fetcher.get(server.url(f"/p{n}")) for n in range(4)))
            return [time.monotonic() - started]

    [elapsed] = asyncio.run(go())
    assert elapsed >= 0.9  # four starts, 0.3 s apart


def test_retry_after_pauses_the_whole_host(server: LoopbackServer) -> None:
    server.add("/busy", status=503, headers={"Retry-After": "1"})
    server.add("/other", "ok")
    config = FetchConfig(allow_private_networks=True, host_gap=0, timeout=5.0)

    async def go() -> float:
        async with Fetcher(config, "t") as fetcher:
            with pytest.raises(HTTPStatusError):
                await fetcher.get(server.url("/busy"))
            started = time.monotonic()
            await fetcher.get(server.url("/other"))
            return time.monotonic() - started

    assert asyncio.run(go()) >= 0.9


def test_a_pause_longer_than_the_timeout_defers_instead_of_waiting(server: LoopbackServer) -> None:
    server.add("/busy", status=429, headers={"Retry-After": "3600"})
    server.add("/other", "ok")
    config = FetchConfig(allow_private_networks=True, host_gap=0, timeout=2.0)

    async def go() -> None:
        async with Fetcher(config, "t") as fetcher:
            with pytest.raises(HTTPStatusError):
                await fetcher.get(server.url("/busy"))
            with pytest.raises(FetchError, match="asked to wait .* deferred"):
                await fetcher.get(server.url("/other"))

    asyncio.run(go())
    assert server.hits("/other") == 0
