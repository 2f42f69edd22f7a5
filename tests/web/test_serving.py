"""The web view served as people run it: by `feedd run` ([web] listen), from the daemon's own
event loop while it polls, and by `feedd web` over a state while no daemon runs or while one
holds the state's lock."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from webcorpus import polled_corpus

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd.state import State


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(
    check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out; log:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_feedd_run_serves_the_view_while_it_polls(server: LoopbackServer, tmp_path: Path) -> None:
    items = []
    for number in range(3):
        link = server.add(f"/story/{number}", article_page(f"Story number {number}", story(number + 100)))
        items.append({"title": f"Story number {number}", "link": link, "guid": f"s{number}"})
    server.add("/feed.xml", rss(items[:1]))
    port = _free_port()
    config = write_config(
        tmp_path,
        [{"url": server.url("/feed.xml"), "name": "Loop"}],
        extra=f'[web]\nlisten = "127.0.0.1:{port}"\n[schedule]\ninterval = "1s"\nmin_interval = "1s"\n',
    )
    log = tmp_path / "daemon.log"
    with open(log, "wb") as output:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "feedd", "run", "-c", str(config)], stdout=output, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def titles() -> list[str]:
            return [d["title"] for d in httpx.get(f"{base}/api/documents", timeout=5).json()["documents"]]

        _wait(lambda: titles() == ["Story number 0"], daemon, log)
        # The feed grows; the daemon's next polls save the new stories and the view shows them.
        server.add("/feed.xml", rss(items))
        _wait(lambda: len(titles()) == 3, daemon, log)
        feeds = httpx.get(f"{base}/feeds").text
        assert "Loop" in feeds and ">ok<" in feeds
        assert httpx.get(f"{base}/").status_code == 200
        assert f"web view on http://127.0.0.1:{port}/" in log.read_text()
        assert _stop(daemon) == 0, log.read_text()
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert "Traceback" not in log.read_text()


def test_feedd_web_serves_a_state_with_or_without_a_daemon(server: LoopbackServer, tmp_path: Path) -> None:
    corpus = polled_corpus(server, tmp_path)
    port = _free_port()
    log = tmp_path / "web.log"
    command = [
        sys.executable,
        "-m",
        "feedd",
        "web",
        "-c",
        str(corpus.config_path),
        "--listen",
        f"127.0.0.1:{port}",
    ]
    with open(log, "wb") as output:
        web = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{base}/api/duplicates").status_code == 200, web, log)
        # A writer holds the state's lock, as `feedd run` does: the view still answers.
        with State(corpus.config.database, corpus.config.output_dir, corpus.config.storage.filename):
            drops = httpx.get(f"{base}/api/duplicates").json()["drops"]
            assert [drop["link"] for drop in drops] == [corpus.copy_link]
            assert httpx.get(f"{base}/documents/{corpus.original_id}").status_code == 200
        assert "(read-only)" in log.read_text()
        assert _stop(web) == 0, log.read_text()
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()


def test_feedd_web_says_when_its_port_is_taken(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": "http://127.0.0.1:9/feed.xml"}])
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "feedd", "web", "-c", str(config), "-l", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 2
    assert (
        f"web.listen: cannot serve the web view on 127.0.0.1:{port}: Address already in use"
        in finished.stderr
    )


def test_feedd_run_ends_with_a_config_error_when_the_view_cannot_listen(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        config = write_config(
            tmp_path, [{"url": "http://127.0.0.1:9/feed.xml"}], extra=f'[web]\nlisten = "127.0.0.1:{port}"\n'
        )
        finished = subprocess.run(
            [sys.executable, "-m", "feedd", "run", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert finished.returncode == 2, finished.stderr
    assert (
        f"web.listen: cannot serve the web view on 127.0.0.1:{port}: Address already in use"
        in finished.stderr
    )
    assert "Traceback" not in finished.stderr


def test_the_view_stops_when_the_daemon_fails_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure between the view's start and the daemon's main loop (here the scheduler's) still
    stops the view: its port is closed when `run` gives up."""
    from feedd.config import load_config
    from feedd.service.daemon import Daemon

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("no scheduler")

    monkeypatch.setattr("feedd.service.daemon.AsyncIOScheduler", broken)
    port = _free_port()
    config = write_config(
        tmp_path, [{"url": "http://127.0.0.1:9/feed.xml"}], extra=f'[web]\nlisten = "127.0.0.1:{port}"\n'
    )

    async def main() -> None:
        daemon = Daemon(config, load_config(config))
        with pytest.raises(RuntimeError, match="no scheduler"):
            await daemon.run()
        assert daemon.web is not None
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()

    asyncio.run(main())
