"""The SSRF guard against DNS rebinding and proxies: connections go to the address the guard
checked, a proxy is [fetch] proxy or none, and IPv6 forms that carry an IPv4 address are judged
by it. The DNS answers come from a resolver given to the fetcher; the servers are real."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from conftest import LoopbackServer
from feedd.config import FetchConfig
from feedd.errors import BlockedAddressError, FetchError
from feedd.http import Fetcher, FetchResult
from feedd.http.guard import AddressGuard, IPAddress, Resolver, _is_public

PUBLIC = ipaddress.ip_address("93.184.216.34")
LOOPBACK = ipaddress.ip_address("127.0.0.1")
ONLY_LOOPBACK = FetchConfig(
    allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),), host_gap=0, timeout=3.0, read_timeout=1.0
)


class ScriptedDNS:
    """Answers each lookup with the next answer of its script (the last one repeats)."""

    def __init__(self, *answers: IPAddress) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.lookups.append(host)
        return [self.answers[min(len(self.lookups), len(self.answers)) - 1]]


def _get(url: str, config: FetchConfig, resolver: Resolver) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(config, "feedd-test/1.0", resolver) as fetcher:
            return await fetcher.get(url)

    return asyncio.run(go())


def _port(server: LoopbackServer) -> int:
    return int(server.url("/").split(":")[2].rstrip("/"))


def test_a_name_that_rebinds_to_loopback_gets_no_request_through(server: LoopbackServer) -> None:
    """The name resolves to a public address when checked, then to 127.0.0.1: the connection is
    refused rather than made, so the internal server never sees the request."""
    server.add("/rebinding-hit", "internal")
    dns = ScriptedDNS(PUBLIC, LOOPBACK)
    url = f"http://rebind.test:{_port(server)}/rebinding-hit?token=x"
    with pytest.raises(
        BlockedAddressError, match=r"rebind\.test resolves to non-public address 127\.0\.0\.1"
    ):
        _get(url, FetchConfig(host_gap=0, timeout=3.0), dns)
    assert server.requests == []
    assert dns.lookups == ["rebind.test", "rebind.test"]


def test_the_connection_goes_to_the_address_the_guard_checked(server: LoopbackServer) -> None:
    """feed.test means nothing to the system's DNS: the request arrives only because the socket
    went to the address the guard's resolver gave, and the Host header still names the host."""
    server.add("/feed", "pinned")
    dns = ScriptedDNS(LOOPBACK)
    result = _get(f"http://feed.test:{_port(server)}/feed", ONLY_LOOPBACK, dns)
    assert result.content == b"pinned"
    assert server.requests[0][1]["host"] == f"feed.test:{_port(server)}"


def test_an_unresolvable_name_is_a_fetch_error() -> None:
    async def nothing(host: str, port: int) -> list[IPAddress]:
        return []

    with pytest.raises(FetchError, match="cannot resolve nowhere.test"):
        _get("http://nowhere.test/feed", FetchConfig(host_gap=0, timeout=3.0), nothing)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[str | None]]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for feed.test only; yields its
    port, the certificate (to trust) and the SNI names it was greeted with."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=feed.test"]
        + ["-addext", "subjectAltName=DNS:feed.test", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    greetings: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _socket, name, _context: greetings.append(name)  # type: ignore[assignment, func-returns-value]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = self.headers["Host"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd.server_address[1], cert, greetings
    httpd.shutdown()
    httpd.server_close()


def test_https_to_a_pinned_address_still_verifies_the_name(
    tls_server: tuple[int, Path, list[str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket goes to 127.0.0.1, the TLS handshake is for feed.test: SNI names it and the
    certificate is verified for it (another name with the same address fails verification)."""
    port, cert, greetings = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    result = _get(f"https://feed.test:{port}/feed", ONLY_LOOPBACK, ScriptedDNS(LOOPBACK))
    assert result.content == f"feed.test:{port}".encode()
    assert greetings == ["feed.test"]
    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        _get(f"https://other.test:{port}/feed", ONLY_LOOPBACK, ScriptedDNS(LOOPBACK))


def test_a_proxy_in_the_environment_is_ignored(
    server: LoopbackServer, other_host: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$HTTP_PROXY used to take over (and turn the address check off): only [fetch] proxy counts."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, other_host.url(""))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    url = server.add("/feed", "direct")
    assert _get(url, FetchConfig(allow_private_networks=True, host_gap=0), ScriptedDNS()).content == b"direct"
    assert other_host.requests == []
    with pytest.raises(BlockedAddressError):
        _get(url, FetchConfig(host_gap=0), ScriptedDNS())
    assert server.hits("/feed") == 1


def test_through_the_proxy_destinations_are_still_checked(server: LoopbackServer) -> None:
    """The proxy (here on loopback) is trusted; a destination that resolves to an internal address
    is refused before anything is sent to the proxy, and a public one goes through it."""
    proxied = FetchConfig(proxy=server.url(""), host_gap=0, timeout=3.0)
    with pytest.raises(BlockedAddressError, match=r"non-public address 127\.0\.0\.1"):
        _get("http://intranet.test/admin", proxied, ScriptedDNS(LOOPBACK))
    assert server.requests == []
    server.add("http://news.test/feed", "via the proxy")
    assert _get("http://news.test/feed", proxied, ScriptedDNS(PUBLIC)).content == b"via the proxy"
    assert server.requests[0][0] == "http://news.test/feed"


def test_a_peer_that_cannot_be_told_is_refused() -> None:
    guard = AddressGuard(FetchConfig())
    with pytest.raises(BlockedAddressError, match="cannot tell which address"):
        guard.check_peer(httpx.Response(200), "http://news.test/feed")


@pytest.mark.parametrize(
    "proxy", ["socks5://proxy.internal:1080", "proxy.internal:3128", "http://:3128", "http://p:x"]
)
def test_proxy_must_be_an_http_url(proxy: str) -> None:
    with pytest.raises(ValueError, match="expected an http"):
        FetchConfig(proxy=proxy)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("64:ff9b:1::808:808", False),  # local-use NAT64: wherever the operator put the IPv4
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::10.0.0.1", False),
        ("::8.8.8.8", True),
        ("::2", False),
        ("::ffff:169.254.169.254", False),  # IPv4-mapped
        ("::ffff:8.8.8.8", True),
    ],
)
def test_ipv6_forms_of_an_ipv4_address_are_judged_by_it(address: str, public: bool) -> None:
    assert _is_public(ipaddress.ip_address(address)) is public


def test_allowed_networks_cover_the_ipv4_inside_an_ipv6_form() -> None:
    guard = AddressGuard(ONLY_LOOPBACK)
    assert guard.allows(ipaddress.ip_address("64:ff9b::7f00:1"))
    assert not guard.allows(ipaddress.ip_address("64:ff9b::7f00:2"))
