"""A "host:port" to listen on ([metrics] and [web] listen): an IPv4 address, an IPv6 address in brackets, or
a host name, checked before anything tries to bind it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Annotated

from pydantic import AfterValidator

#: ":9464" listens on loopback only, never on every interface.
DEFAULT_HOST = "127.0.0.1"

_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_EXAMPLE = '"127.0.0.1:9464", "[::1]:9464" or "localhost:9464"'


@dataclass(frozen=True)
class ListenAddress:
    """Where a server binds: `host` as the socket takes it (an IPv6 address without brackets)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(listen: str) -> ListenAddress:
    """The address `listen` names; ValueError saying what is wrong when it names none."""
    host, colon, port = listen.rpartition(":")
    if not colon or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port with a port from 1 to 65535, e.g. {_EXAMPLE}")
    if "/" in listen:
        raise ValueError(f"expected host:port, not a URL, e.g. {_EXAMPLE}")
    if host.startswith("[") and host.endswith("]"):
        return ListenAddress(_ipv6(host[1:-1]), int(port))
    if ":" in host or "[" in host or "]" in host:
        raise ValueError(f"an IPv6 address goes in brackets, e.g. {_EXAMPLE}")
    if not host:
        return ListenAddress(DEFAULT_HOST, int(port))
    try:
        address = IPv4Address(host)
    except ValueError:
        return ListenAddress(_host_name(host), int(port))
    if address.is_multicast:
        raise ValueError(f"{host} is a multicast address: a server cannot listen on it")
    return ListenAddress(host, int(port))


def _ipv6(text: str) -> str:
    try:
        address = IPv6Address(text)
    except ValueError:
        raise ValueError(f"{text!r} in brackets is not an IPv6 address, e.g. {_EXAMPLE}") from None
    if address.is_multicast:
        raise ValueError(f"{text} is a multicast address: a server cannot listen on it")
    return text


def _host_name(host: str) -> str:
    labels = host.removesuffix(".").split(".")
    # An all-digit last label is a mistyped IPv4 address ("127.0.0.256"), never a top-level domain.
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"{host!r} is neither an IP address nor a host name, e.g. {_EXAMPLE}")
    return host


def is_loopback(host: str) -> bool:
    """Whether `host` (as ListenAddress holds it) can only be reached from this machine."""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to any interface


def _checked(listen: str) -> str:
    parse_listen(listen)
    return listen


#: A config field that names a "host:port" to listen on, refused at load when it names none.
ListenText = Annotated[str, AfterValidator(_checked)]
