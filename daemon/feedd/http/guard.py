"""The SSRF guard: feedd connects to public addresses only, unless the config allows others.

Each hop is checked twice: the host's resolved addresses before connecting, and the address
actually connected to afterwards, which DNS rebinding cannot fake."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from urllib.parse import urlsplit

import httpx

from feedd.config import FetchConfig
from feedd.errors import BlockedAddressError, FetchError

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressGuard:
    """Refuses loopback, private, link-local and multicast destinations, bar [fetch]
    allowed_networks; [fetch] allow_private_networks turns it off."""

    def __init__(self, config: FetchConfig) -> None:
        self._config = config
        # Through a proxy the peer is the proxy, not the destination: only the DNS check counts.
        self._proxied = any(os.environ.get(name) for name in _PROXY_VARIABLES)

    async def check_destination(self, url: str) -> None:
        """Refuse hosts that resolve to non-public addresses, unless the config allows them."""
        if self._config.allow_private_networks:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise FetchError(url, f"cannot resolve {host}: {exc.strerror}") from None
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        for address in addresses:
            if not self._allowed(address):
                raise BlockedAddressError(
                    url,
                    f"{host} resolves to non-public address {address} "
                    "(list its network in [fetch] allowed_networks to allow it)",
                )

    def check_peer(self, response: httpx.Response, url: str) -> None:
        """Check the address actually connected to, which DNS rebinding cannot fake."""
        if self._config.allow_private_networks or self._proxied:
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer and not self._allowed(ipaddress.ip_address(str(peer[0]).split("%")[0])):
            raise BlockedAddressError(url, f"connected to non-public address {peer[0]}")

    def _allowed(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return _is_public(address) or any(address in network for network in self._config.allowed_networks)


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
