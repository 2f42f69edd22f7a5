"""The metrics endpoint on IPv6 loopback ("[::1]:port", which used to pass validation and crash
`feedd run` at start), and a port it cannot have: a config error naming metrics.listen, no
traceback."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import LoopbackServer, rss, write_config
from feedd.errors import ConfigError
from feedd.service.metrics import Metrics


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback (::1) here")


def _free_port(family: socket.AddressFamily, host: str) -> int:
    with socket.socket(family) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another server is listening on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _wait_for(url: str, daemon: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url)
        except httpx.TransportError:
            assert daemon.poll() is None, f"feedd run ended ({daemon.returncode}):\n{log.read_text()}"
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@needs_ipv6
def test_metrics_are_served_on_ipv6_loopback() -> None:
    port = _free_port(socket.AF_INET6, "::1")
    metrics = Metrics()
    metrics.serve("::1", port)
    try:
        metrics.saved.inc(3)
        response = httpx.get(f"http://[::1]:{port}/metrics")
        assert response.status_code == 200
        assert "feedd_documents_saved_total 3.0" in response.text
    finally:
        metrics.close()
    # Closed: the port is free for another server.
    again = Metrics()
    again.serve("::1", port)
    again.close()


@needs_ipv6
def test_feedd_run_serves_metrics_on_a_bracketed_ipv6_listen(server: LoopbackServer, tmp_path: Path) -> None:
    feed = server.add("/feed.xml", rss([]))
    port = _free_port(socket.AF_INET6, "::1")
    config = write_config(tmp_path, [{"url": feed}], extra=f'[metrics]\nlisten = "[::1]:{port}"\n')
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "feedd", "run", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        response = _wait_for(f"http://[::1]:{port}/metrics", daemon, log_path)
        assert response.status_code == 200 and "feedd_polls_total" in response.text
        assert f"metrics on http://[::1]:{port}/metrics" in log_path.read_text()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def test_a_port_already_taken_is_a_config_error(taken_port: int) -> None:
    with pytest.raises(
        ConfigError, match=rf"^metrics.listen: cannot serve metrics on 127.0.0.1:{taken_port}: "
    ):
        Metrics().serve("127.0.0.1", taken_port)


def test_feedd_run_ends_with_a_config_error_when_it_cannot_listen(taken_port: int, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        [{"url": "http://127.0.0.1:9/feed.xml"}],
        extra=f'[metrics]\nlisten = "127.0.0.1:{taken_port}"\n',
    )
    finished = subprocess.run(
        [sys.executable, "-m", "feedd", "run", "-c", str(config)], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 2
    assert f"config error: metrics.listen: cannot serve metrics on 127.0.0.1:{taken_port}" in finished.stderr
    assert "Traceback" not in finished.stderr
