"""How the fetcher reaches servers: directly, over connections pinned to addresses the SSRF guard
checked, or through the [fetch] proxy, and never through a proxy named in the environment.

Pinning: a new connection resolves its host once, has every address checked, and connects to one
that passed, so no second lookup can swap in another (DNS rebinding). Only the socket is pinned:
TLS still sends the host name as SNI and verifies the certificate for it, and the Host header
still names it."""

from __future__ import annotations

import socket
from collections.abc import Iterable

import httpcore
import httpx

from feedd.config import FetchConfig
from feedd.http.guard import AddressGuard


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting to addresses the guard vetted."""

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if not self._guard.enabled:
            return await self._network.connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            addresses = await self._guard.vetted_addresses(host, port)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
        *others, last = addresses
        for address in others:
            try:
                return await self._network.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue  # the next address may answer
        return await self._network.connect_tcp(str(last), port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.UnsupportedProtocol("feedd connects over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, its connections opened by PinnedBackend."""

    def __init__(self, guard: AddressGuard, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx takes no network backend of its own: its pool is replaced by one that has ours,
        # with the settings httpx gave it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(guard),
        )


def transport_for(config: FetchConfig, guard: AddressGuard) -> httpx.AsyncHTTPTransport:
    """Through [fetch] proxy when set (the proxy is trusted: the guard checks each destination
    name before the request goes to it, and the proxy resolves it again itself), else pinned."""
    limits = httpx.Limits(
        max_connections=config.max_connections,
        max_keepalive_connections=config.max_connections,
    )
    if config.proxy is not None:
        return httpx.AsyncHTTPTransport(proxy=config.proxy, limits=limits)
    return PinnedTransport(guard, limits)
