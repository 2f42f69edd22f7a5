"""Where a feed's headers and credentials go: its origin (scheme, host and port) only, checked
at every redirect hop, and never again once a redirect has left it."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator

import pytest

from conftest import LoopbackServer
from feedd.config import BasicCredentials, FetchConfig
from feedd.http import Fetcher, FetchResult, Origin, RequestOptions

CONFIG = FetchConfig(allow_private_networks=True, host_gap=0, timeout=3.0, read_timeout=1.0)
BASIC = "Basic " + base64.b64encode(b"reader:pa55-w0rd").decode()


def _options(feed_url: str) -> RequestOptions:
    return RequestOptions(
        origin=Origin.of(feed_url),
        headers={"X-Api-Key": "k3y"},
        credentials=BasicCredentials("reader", "pa55-w0rd"),
    )


def _get_all(urls: list[str], options: RequestOptions) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        async with Fetcher(CONFIG, "feedd-test/1.0") as fetcher:
            return [await fetcher.get(url, options=options) for url in urls]

    return asyncio.run(go())


def _secrets_by_path(server: LoopbackServer) -> dict[str, tuple[str | None, str | None]]:
    return {
        path: (headers.get("authorization"), headers.get("x-api-key")) for path, headers in server.requests
    }


@pytest.fixture
def second_port() -> Iterator[LoopbackServer]:
    """Another port of the feed's host (127.0.0.1): another origin."""
    loopback = LoopbackServer()
    loopback.start()
    yield loopback
    loopback.stop()


def test_secrets_reach_the_feed_s_origin_and_no_other_port_of_its_host(
    server: LoopbackServer, second_port: LoopbackServer
) -> None:
    feed = server.add("/feed", "feed")
    page = server.add("/page", "page")
    elsewhere = second_port.add("/page", "other port")
    moved = server.add("/moved", status=302, headers={"Location": second_port.url("/landed")})
    second_port.add("/landed", "landed")
    _get_all([feed, page, elsewhere, moved], _options(feed))

    assert _secrets_by_path(server) == {
        "/feed": (BASIC, "k3y"),
        "/page": (BASIC, "k3y"),
        "/moved": (BASIC, "k3y"),
    }
    assert _secrets_by_path(second_port) == {"/page": (None, None), "/landed": (None, None)}


def test_a_redirect_chain_that_leaves_the_origin_never_takes_them_back(
    server: LoopbackServer, second_port: LoopbackServer
) -> None:
    """Feed origin -> another port -> back to the feed's origin: the last hop goes without them
    (the hop elsewhere chose where the chain goes next)."""
    feed = server.add("/feed", "feed")
    server.add("/back", "back home")
    second_port.add("/bounce", status=302, headers={"Location": server.url("/back")})
    start = server.add("/start", status=302, headers={"Location": second_port.url("/bounce")})
    result = _get_all([start], _options(feed))[0]

    assert result.content == b"back home"
    assert _secrets_by_path(server) == {"/start": (BASIC, "k3y"), "/back": (None, None)}
    assert _secrets_by_path(second_port) == {"/bounce": (None, None)}


@pytest.mark.parametrize(
    ("feed", "url", "reached"),
    [
        ("https://news.example/feed", "https://news.example/story", True),
        ("https://news.example/feed", "https://NEWS.example:443/story", True),
        ("https://news.example/feed", "http://news.example/story", False),  # a downgrade
        ("https://news.example/feed", "https://news.example:8443/story", False),
        ("https://news.example/feed", "https://cdn.news.example/story", False),
        ("http://news.example/feed", "https://news.example/story", True),  # an upgrade
        ("http://news.example:8080/feed", "https://news.example/story", False),
        ("http://news.example/feed", "https://news.example:8443/story", False),
        ("https://news.example/feed", "ftp://news.example/story", False),
    ],
)
def test_the_origin_decides(feed: str, url: str, reached: bool) -> None:
    assert _options(feed).reaches(url) is reached
