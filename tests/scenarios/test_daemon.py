"""`feedd run` as a real process under a test NOTIFY_SOCKET: polling on schedule, conditional
requests, metrics, status, SIGHUP reloads (applied, or refused and the old config kept), SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from conftest import LoopbackServer, article_page, rss, story, write_config


def _wait(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _titles(out: Path) -> list[str]:
    """The first line (the title) of every document saved, in seq order."""
    return [path.read_text().split("\n", 1)[0] for path in sorted(out.glob("*.txt"))]


def test_daemon_polls_reloads_and_stops_cleanly(server: LoopbackServer, tmp_path: Path) -> None:
    first = server.add("/a/1", article_page("First story", story(1)))
    feed_one = server.add("/one.xml", rss([{"title": "First", "link": first, "guid": "1"}]), etag='"v1"')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    extra = (
        '[schedule]\ninterval = "1s"\nmin_interval = "1s"\nmax_interval = "2s"\njitter = 0.0\n'
        f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n'
    )
    config = write_config(tmp_path, [{"url": feed_one, "name": "One"}], extra=extra)
    notify_path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    listener.settimeout(0.2)
    messages: list[str] = []

    def received(text: str) -> bool:
        # Read whatever is waiting: notify() drops messages a reader leaves unread.
        try:
            while True:
                messages.append(listener.recv(4096).decode())
        except TimeoutError:
            pass
        return any(text in m for m in messages)

    env = {**os.environ, "NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "1000000"}
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "feedd", "--log-format", "json", "-vv", "run", "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait(lambda: received("READY=1"))
        out = tmp_path / "out"
        _wait(lambda: len(list(out.glob("*.txt"))) == 1)
        # A new entry is picked up by a later poll, on the feed's own schedule.
        second = server.add("/a/2", article_page("Second story", story(2)))
        server.add(
            "/one.xml",
            rss(
                [
                    {"title": "Second", "link": second, "guid": "2"},
                    {"title": "First", "link": first, "guid": "1"},
                ]
            ),
            etag='"v2"',
        )
        _wait(lambda: len(list(out.glob("*.txt"))) == 2)
        assert received("WATCHDOG=1") and received("STATUS=1 feeds, 0 failing")
        # Unchanged since: the next polls are conditional and answered 304 (logged at debug level).
        _wait(lambda: "feed One: not_modified" in log_path.read_text())
        assert any(
            headers.get("if-none-match") == '"v2"' for path, headers in server.requests if path == "/one.xml"
        )
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        _wait(lambda: "feedd_documents_saved_total 2.0" in httpx.get(metrics_url).text)
        assert 'feedd_polls_total{result="ok"}' in httpx.get(metrics_url).text

        status = subprocess.run(
            [sys.executable, "-m", "feedd", "status", "-c", str(config), "--json"],
            capture_output=True,
            text=True,
        )
        [row] = [json.loads(line) for line in status.stdout.splitlines()]
        assert row["name"] == "One" and row["saved"] == 2 and row["next_poll"] and row["interval"] >= 1

        # SIGHUP with a second feed: picked up without a restart.
        third = server.add("/b/3", article_page("Third story", story(3)))
        feed_two = server.add("/two.xml", rss([{"title": "Third", "link": third, "guid": "3"}]))
        # ... and a disabled one, which is never polled.
        disabled = server.add("/off.xml", rss([{"title": "Off", "link": server.url("/off"), "guid": "x"}]))
        config.write_text(
            config.read_text()
            + f'[[feeds]]\nurl = "{feed_two}"\n[[feeds]]\nurl = "{disabled}"\nenabled = false\n'
        )
        reloaded = time.monotonic()
        daemon.send_signal(signal.SIGHUP)
        _wait(lambda: len(list(out.glob("*.txt"))) == 3)
        # A feed added by a reload is polled at once, not a second per feed after the others ...
        first_poll = next(
            at
            for (path, _), at in zip(server.requests, server.request_times, strict=False)
            if path == "/two.xml"
        )
        assert first_poll - reloaded < 1.0
        # ... and feed two polls every second: by its third poll a wrongly scheduled disabled feed
        # would have been polled too.
        _wait(lambda: received("") and server.hits("/two.xml") >= 3)
        assert server.hits("/off.xml") == 0

        # An invalid config (a feed with an interval that is no duration) is refused whole: the
        # daemon keeps polling and saving the old feeds, and never polls the refused one.
        refused_page = server.add("/r/1", article_page("Refused story", story(9)))
        refused = server.add("/refused.xml", rss([{"title": "R", "link": refused_page, "guid": "r"}]))
        config.write_text(config.read_text() + f'[[feeds]]\nurl = "{refused}"\ninterval = "often"\n')
        daemon.send_signal(signal.SIGHUP)
        _wait(lambda: "reload refused" in log_path.read_text())
        _wait(lambda: received("STATUS=reload refused"))
        fourth = server.add("/a/4", article_page("Fourth story", story(4)))
        server.add(
            "/one.xml",
            rss(
                [
                    {"title": "Fourth", "link": fourth, "guid": "4"},
                    {"title": "First", "link": first, "guid": "1"},
                ]
            ),
            etag='"v3"',
        )
        fifth = server.add("/b/5", article_page("Fifth story", story(5)))
        server.add(
            "/two.xml",
            rss(
                [
                    {"title": "Fifth", "link": fifth, "guid": "5"},
                    {"title": "Third", "link": third, "guid": "3"},
                ]
            ),
        )
        _wait(lambda: len(list(out.glob("*.txt"))) == 5)
        # A document's manifest line is appended just after its file lands.
        _wait(lambda: len((out / "manifest.jsonl").read_text().splitlines()) == 5)
        assert daemon.poll() is None
        assert _titles(out)[:3] == ["First story", "Second story", "Third story"]
        assert sorted(_titles(out)[3:]) == ["Fifth story", "Fourth story"]
        manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
        assert {line["url"]: line["feed"] for line in manifest} == {
            first: feed_one,
            second: feed_one,
            third: feed_two,
            fourth: feed_one,
            fifth: feed_two,
        }
        assert server.hits("/refused.xml") == 0 and server.hits("/r/1") == 0

        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        assert received("STOPPING=1")
    finally:
        if daemon.poll() is None:
            daemon.kill()
        listener.close()
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any("next poll in" in line["message"] for line in lines)


# `feedd run` with one fault put in: once the file $FEEDD_TEST_WEDGE exists, every poll hangs and
# swallows its cancellation, so poll_timeout cannot end it (the kind of wedge a cancellation bug
# makes). The event loop keeps running: only what the watchdog ping stands for can tell.
WEDGEABLE_FEEDD = """
import asyncio, os, sys
from feedd.pipeline import Session
from feedd.__main__ import main

run_feed = Session.run_feed

async def wedgeable_run_feed(self, feed, *, timeout=None):
    if not os.path.exists(os.environ["FEEDD_TEST_WEDGE"]):
        return await run_feed(self, feed, timeout=timeout)
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass

Session.run_feed = wedgeable_run_feed
sys.argv[0] = "feedd"
main()
"""


def test_watchdog_pings_stop_when_polls_stop_completing(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add("/a/1", article_page("A story", story(1)))
    feed = server.add("/one.xml", rss([{"title": "A", "link": page, "guid": "1"}]), etag='"v1"')
    # poll_timeout 1 s: a stall limit of 1 s + 5 s.
    extra = '[schedule]\ninterval = "1s"\nmin_interval = "1s"\njitter = 0.0\npoll_timeout = "1s"\n'
    config = write_config(tmp_path, [{"url": feed, "name": "One"}], extra=extra)
    notify_path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    listener.settimeout(0.1)
    messages: list[tuple[float, str]] = []

    def read() -> list[str]:
        try:
            while True:
                messages.append((time.monotonic(), listener.recv(4096).decode()))
        except TimeoutError:
            pass
        return [text for _, text in messages]

    wedge = tmp_path / "wedge"
    env = {
        **os.environ,
        "NOTIFY_SOCKET": notify_path,
        "WATCHDOG_USEC": "1000000",  # a ping every 0.5 s
        "FEEDD_TEST_WEDGE": str(wedge),
    }
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-c", WEDGEABLE_FEEDD, "--log-format", "json", "run", "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait(lambda: "READY=1" in read())
        # Healthy: polls complete every second and the pings keep coming, well past the limit.
        time.sleep(7)
        assert server.hits("/one.xml") >= 5
        assert read().count("WATCHDOG=1") >= 12
        assert not any(text.startswith("STATUS=stalled") for text in read())

        wedge.touch()
        wedged = time.monotonic()
        _wait(lambda: any(text.startswith("STATUS=stalled") for text in read()), timeout=20)
        stalled = next(at for at, text in messages if text.startswith("STATUS=stalled"))
        last_ping = max(at for at, text in messages if text == "WATCHDOG=1")
        # The first wedged poll starts within a second or so of the wedge (one poll a second); the
        # pings stop once it has been in progress for the limit (6 s) with nothing completing.
        assert 4.0 < last_ping - wedged < 8.5 and stalled >= last_ping
        time.sleep(2)  # four ping periods: none comes
        read()
        assert max(at for at, text in messages if text == "WATCHDOG=1") == last_ping
        assert daemon.poll() is None  # the loop still runs: systemd's watchdog ends it
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
        errors = [line["message"] for line in lines if line["level"] == "error"]
        assert len(errors) == 1 and errors[0].startswith("polling stalled"), errors
    finally:
        daemon.kill()
        daemon.wait()
        listener.close()
