"""[metrics] listen: IPv4, bracketed IPv6 and host names are taken as the server binds them; what no
server can listen on is refused when the config is read, not when the daemon starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedd.config import load_config
from feedd.errors import ConfigError


def _metrics(tmp_path: Path, listen: str) -> Path:
    path = tmp_path / "feedd.toml"
    path.write_text(
        f'[metrics]\nlisten = "{listen}"\n[[feeds]]\nurl = "https://example.org/feed"\n', encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("listen", "host", "port", "shown"),
    [
        ("127.0.0.1:9464", "127.0.0.1", 9464, "127.0.0.1:9464"),
        ("[::1]:9464", "::1", 9464, "[::1]:9464"),
        ("[::]:1", "::", 1, "[::]:1"),
        ("0.0.0.0:65535", "0.0.0.0", 65535, "0.0.0.0:65535"),
        ("localhost:9464", "localhost", 9464, "localhost:9464"),
        ("metrics-1.example.org:9464", "metrics-1.example.org", 9464, "metrics-1.example.org:9464"),
        # No host: loopback, never every interface.
        (":9464", "127.0.0.1", 9464, "127.0.0.1:9464"),
    ],
)
def test_listen_addresses_are_read_as_the_server_binds_them(
    tmp_path: Path, listen: str, host: str, port: int, shown: str
) -> None:
    address = load_config(_metrics(tmp_path, listen)).metrics.address
    assert address is not None
    assert (address.host, address.port, str(address)) == (host, port, shown)


def test_no_listen_no_address(tmp_path: Path) -> None:
    path = tmp_path / "feedd.toml"
    path.write_text('[[feeds]]\nurl = "https://example.org/feed"\n', encoding="utf-8")
    assert load_config(path).metrics.address is None


@pytest.mark.parametrize(
    ("listen", "problem"),
    [
        ("::1:9464", "an IPv6 address goes in brackets"),
        ("[::1]", "expected host:port"),
        ("[::1]9464", "expected host:port"),
        ("[localhost]:9464", "is not an IPv6 address"),
        ("[127.0.0.1]:9464", "is not an IPv6 address"),
        ("127.0.0.256:9464", "neither an IP address nor a host name"),
        ("feeds_host:9464", "neither an IP address nor a host name"),
        ("http://127.0.0.1:9464", "not a URL"),
        ("224.0.0.1:9464", "multicast"),
        ("[ff02::1]:9464", "multicast"),
        ("127.0.0.1:0", "expected host:port"),
        ("127.0.0.1:65536", "expected host:port"),
        ("127.0.0.1:\uff19\uff14\uff16\uff14", "expected host:port"),  # fullwidth digits
        ("127.0.0.1", "expected host:port"),
    ],
)
def test_what_no_server_can_listen_on_is_refused_with_its_line(
    tmp_path: Path, listen: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match="feedd.toml:2: metrics.listen") as raised:
        load_config(_metrics(tmp_path, listen))
    assert problem in str(raised.value)
