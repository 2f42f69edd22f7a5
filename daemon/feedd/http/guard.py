"""The SSRF guard: feedd connects to public addresses only, unless the config allows others.

A hop's host is resolved and checked before the request is queued, and again by the transport
(feedd.http.transport) when it opens a connection, which then connects to an address that passed:
a name that resolves to a public address first and to an internal one next (DNS rebinding) gets
no request through. The address connected to is checked once more on the response."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import httpx

from feedd.config import FetchConfig
from feedd.errors import BlockedAddressError, FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Resolves a host name and port to its addresses (raising socket.gaierror when it cannot).
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: Local-use NAT64 (RFC 8215): its IPv4 sits wherever the operator chose, so it is never public.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class AddressRefusedError(Exception):
    """A host resolves to an address the guard refuses; raised inside the transport, where the
    URL is unknown, and reported by the fetcher as a BlockedAddressError naming it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The host's addresses from the system resolver, in the order it prefers them."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class AddressGuard:
    """Refuses loopback, private, link-local and multicast destinations, bar [fetch]
    allowed_networks; [fetch] allow_private_networks turns it off."""

    def __init__(self, config: FetchConfig, resolver: Resolver = system_resolver) -> None:
        self._config = config
        self._resolver = resolver

    @property
    def enabled(self) -> bool:
        return not self._config.allow_private_networks

    async def check_destination(self, url: str) -> None:
        """Refuse hosts that resolve to non-public addresses, unless the config allows them."""
        if not self.enabled:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            await self.vetted_addresses(host, parts.port or (443 if parts.scheme == "https" else 80))
        except socket.gaierror as exc:
            raise FetchError(url, f"cannot resolve {host}: {exc.strerror}") from None
        except AddressRefusedError as exc:
            raise BlockedAddressError(url, exc.reason) from None

    async def vetted_addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses `host` resolves to, all of them allowed: AddressRefusedError if any is
        not (one internal address is enough to refuse a name), socket.gaierror if none."""
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            addresses = list(await self._resolver(host, port))
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "no address")
        for address in addresses:
            if not self.allows(address):
                raise AddressRefusedError(
                    f"{host} resolves to non-public address {address} "
                    "(list its network in [fetch] allowed_networks to allow it)"
                )
        return addresses

    def check_peer(self, response: httpx.Response, url: str) -> None:
        """Check the address actually connected to; one that cannot be told is refused. Through
        [fetch] proxy the peer is the proxy, which the config trusts."""
        if not self.enabled or self._config.proxy is not None:
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if not peer:
            raise BlockedAddressError(url, "cannot tell which address the connection went to")
        address = ipaddress.ip_address(str(peer[0]).split("%")[0])
        if not self.allows(address):
            raise BlockedAddressError(url, f"connected to non-public address {address}")

    def allows(self, address: IPAddress) -> bool:
        if not self.enabled or _is_public(address):
            return True
        forms = {address, _embedded_ipv4(address) or address}
        return any(form in network for form in forms for network in self._config.allowed_networks)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and leads to: IPv4-mapped, 6to4, NAT64 (64:ff9b::/96)
    and IPv4-compatible (::/96) forms."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def _is_public(address: IPAddress) -> bool:
    if address in _LOCAL_NAT64:
        return False
    target = _embedded_ipv4(address) or address
    return target.is_global and not target.is_multicast
