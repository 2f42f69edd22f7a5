"""Misbehaving servers, one fault at a time, through whole passes: each pass ends in bounded
time, the failure is recorded with its reason, a transient fault heals on the next pass, and
nothing already saved is touched.

A well-behaved publisher lives on 127.0.0.1 and the misbehaving one on 127.0.0.2, so the
per-host limits (and Retry-After pauses) of one never slow the other."""

from __future__ import annotations

import hashlib
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import LoopbackServer, Route, article_page, rss, story, write_config
from feedd import load_config, run_once
from feedd.config import Config
from feedd.pipeline import PassSummary

CAP = 1024 * 1024
#: Generous against the 3 s per-request budget below: a pass that hangs fails, a slow one not.
PASS_BOUND = 20.0

Serve = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Fault:
    serve: Serve | Route
    #: What the recorded failure says (a regular expression).
    reason: str
    #: A fault that may pass: the entry is retried, not settled.
    transient: bool


def _promise(handler: BaseHTTPRequestHandler, length: int) -> None:
    """Headers that announce a body of `length` bytes (which the caller then fails to send)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(length))
    handler.end_headers()
    handler.wfile.flush()


def _stall(handler: BaseHTTPRequestHandler) -> None:
    _promise(handler, 5000)
    time.sleep(4)


def _trickle(handler: BaseHTTPRequestHandler) -> None:
    _promise(handler, 5000)
    for _ in range(40):  # a byte every 0.2 s: each read is quick, the whole is not
        handler.wfile.write(b"<")
        handler.wfile.flush()
        time.sleep(0.2)


def _truncated(handler: BaseHTTPRequestHandler) -> None:
    _promise(handler, 50000)
    handler.wfile.write(b"<html><body><p>The first part of the story and then nothing")
    handler.close_connection = True


def _endless(handler: BaseHTTPRequestHandler) -> None:
    """A body with no declared length that goes on far beyond the cap."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Connection", "close")
    handler.end_headers()
    chunk = b"<p>" + b"spam " * 13000 + b"</p>"
    for _ in range(4 * CAP // len(chunk)):
        handler.wfile.write(chunk)
    handler.close_connection = True


@cache
def _bomb() -> bytes:
    """256 MiB of zeros, gzipped to a few hundred KB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    return b"".join(packer.compress(block) for _ in range(256)) + packer.flush()


def _gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    body = _bomb()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def _xml(text: str) -> Route:
    return Route(text.encode(), headers={"Content-Type": "application/rss+xml"})


_BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
    + ']><rss version="2.0"><channel><title>&lol9;</title><item><title>x</title></item></channel></rss>'
)
_QUADRATIC = (
    f'<?xml version="1.0"?><!DOCTYPE kaboom [<!ENTITY a "{"a" * 50000}">]>'
    f'<rss version="2.0"><channel><title>t</title><item><title>{"&a;" * 5000}</title></item></channel></rss>'
)
_XXE = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<rss version="2.0"><channel><title>t</title><item><title>&xxe;</title>'
    "<link>http://127.0.0.2/x</link></item></channel></rss>"
)

RETRY_SOON = {"Retry-After": "1"}

#: Faults any response can have, feed or page.
HTTP_FAULTS = {
    "stall after headers": Fault(_stall, r"timed out|within 3s", transient=True),
    "slow trickle": Fault(_trickle, r"within 3s", transient=True),
    "truncated body": Fault(_truncated, r"incomplete|peer closed|RemoteProtocolError", transient=True),
    "body beyond the cap": Fault(_endless, r"exceeds the 1048576-byte cap", transient=False),
    "gzip bomb": Fault(_gzip_bomb, r"exceeds the 1048576-byte cap", transient=False),
    "429 Retry-After": Fault(
        Route(b"slow down", status=429, headers=RETRY_SOON), r"HTTP 429", transient=True
    ),
    "503 Retry-After": Fault(Route(b"busy", status=503, headers=RETRY_SOON), r"HTTP 503", transient=True),
    "500": Fault(Route(b"oops", status=500), r"HTTP 500", transient=True),
    "redirect loop": Fault(Route(status=302, headers={"Location": "/loop-back"}), r"redirect loop", False),
}
#: Faults only a feed document can have.
FEED_FAULTS = {
    "random bytes as XML": Fault(
        Route(bytes(range(256)) * 40, headers={"Content-Type": "application/xml"}), r"not a feed", False
    ),
    "HTML as a feed": Fault(Route(article_page("Home", ["Welcome."]).encode()), r"not a feed", False),
    "billion laughs": Fault(_xml(_BILLION_LAUGHS), r"declares XML entities", False),
    "quadratic blowup": Fault(_xml(_QUADRATIC), r"declares XML entities", False),
    "external entity (XXE)": Fault(_xml(_XXE), r"declares XML entities", False),
}


def _install(server: LoopbackServer, path: str, fault: Fault) -> None:
    server.routes[path] = fault.serve if isinstance(fault.serve, Route) else Route(handler=fault.serve)
    # The redirect loop's other half.
    server.routes["/loop-back"] = Route(status=302, headers={"Location": path})


def _config(folder: Path, feeds: list[dict[str, str]], **fetch: str) -> Config:
    path = write_config(folder, feeds)
    text = (
        path.read_text()
        .replace('timeout = "5s"', 'timeout = "3s"')
        .replace('read_timeout = "3s"', f'read_timeout = "1s"\nmax_bytes = {CAP}')
    )
    for key, value in fetch.items():
        text = text.replace("[fetch]\n", f"[fetch]\n{key} = {value}\n")
    path.write_text(text)
    return load_config(path)


def _timed_pass(config: Config) -> PassSummary:
    started = time.monotonic()
    summary = run_once(config)
    assert time.monotonic() - started < PASS_BOUND
    return summary


def _snapshot(output: Path) -> dict[str, tuple[str, int]]:
    """Every saved file: its digest and modification time."""
    return {
        path.name: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
        for path in output.glob("*.txt")
    }


def _assert_consistent(output: Path) -> list[dict]:
    lines = [json.loads(line) for line in (output / "manifest.jsonl").read_text().splitlines()]
    assert sorted(line["file"] for line in lines) == sorted(p.name for p in output.glob("*.txt"))
    assert not [p for p in output.iterdir() if p.name.startswith(".")], "temporary files left behind"
    return lines


def _by_title(lines: list[dict], title: str) -> dict:
    return next(line for line in lines if line["title"] == title)


def _well_behaved(server: LoopbackServer) -> dict[str, str]:
    page = server.add("/calm/story", article_page("Tram network to grow", story(1)))
    feed = server.add("/calm/feed", rss([{"title": "Tram network to grow", "link": page, "guid": "calm-1"}]))
    return {"url": feed, "name": "calm"}


@pytest.mark.parametrize("fault", [*HTTP_FAULTS, *FEED_FAULTS])
def test_a_feed_fault_is_recorded_and_the_next_pass_recovers(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path, fault: str
) -> None:
    _install(other_host, "/feed", (HTTP_FAULTS | FEED_FAULTS)[fault])
    config = _config(tmp_path, [_well_behaved(server), {"url": other_host.url("/feed"), "name": "chaos"}])

    first = _timed_pass(config)
    reports = {report.feed.name: report for report in first.feeds}
    assert reports["calm"].saved == 1
    assert reports["chaos"].result == "failed"
    assert reports["chaos"].error is not None
    assert re.search((HTTP_FAULTS | FEED_FAULTS)[fault].reason, reports["chaos"].error), reports[
        "chaos"
    ].error
    saved = _snapshot(tmp_path / "out")

    # The publisher fixes the feed: the next pass picks its story up, the rest stays as it was.
    page = other_host.add("/story", article_page("Harbour reopens", story(2)))
    other_host.add("/feed", rss([{"title": "Harbour reopens", "link": page, "guid": "chaos-1"}]))
    second = _timed_pass(config)
    assert {report.feed.name: report.saved for report in second.feeds} == {"calm": 0, "chaos": 1}
    after = _snapshot(tmp_path / "out")
    assert {name: after[name] for name in saved} == saved
    assert len(_assert_consistent(tmp_path / "out")) == 2


@pytest.mark.parametrize("fault", list(HTTP_FAULTS))
def test_a_page_fault_is_retried_when_it_may_pass_and_falls_back_when_it_cannot(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path, fault: str
) -> None:
    spec = HTTP_FAULTS[fault]
    calm_page = server.add("/calm/story", article_page("Tram network to grow", story(1)))
    teaser = "The harbour reopens after a month of repairs, the port authority said."
    items = [
        {"title": "Tram network to grow", "link": calm_page, "guid": "1"},
        {"title": "Harbour reopens", "link": other_host.url("/story"), "guid": "2", "description": teaser},
    ]
    feed = server.add("/feed", rss(items), headers={"Content-Type": "application/rss+xml"})
    _install(other_host, "/story", spec)
    config = _config(tmp_path, [{"url": feed, "name": "news"}])

    first = _timed_pass(config).feeds[0]
    if spec.transient:
        assert (first.saved, first.failed) == (1, 1)
        link, reason = first.failures[0]
        assert link == other_host.url("/story") and re.search(spec.reason, reason), reason
        assert reason.endswith("will retry")
    else:
        # Nothing better will come: the feed's own text is saved, and says why.
        assert (first.saved, first.failed) == (2, 0)
        harbour = _by_title(_assert_consistent(tmp_path / "out"), "Harbour reopens")
        assert harbour["source"] == "feed" and re.search(spec.reason, harbour["fallback_reason"])
    saved = _snapshot(tmp_path / "out")

    other_host.add("/story", article_page("Harbour reopens", [teaser, *story(2)]))
    second = _timed_pass(config).feeds[0]
    assert second.saved == (1 if spec.transient else 0) and second.failed == 0
    after = _snapshot(tmp_path / "out")
    assert {name: after[name] for name in saved} == saved
    lines = _assert_consistent(tmp_path / "out")
    assert len(lines) == 2
    harbour = _by_title(lines, "Harbour reopens")
    assert harbour["source"] == ("page" if spec.transient else "feed")


def test_the_per_host_limit_holds_while_a_busy_host_is_retried(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path
) -> None:
    """Every page of a busy host answers 503 with Retry-After once, then slowly: across both
    passes there are never more than max_per_host requests to it at once."""
    answered: set[str] = set()

    def busy_once(handler: BaseHTTPRequestHandler) -> None:
        first_time = handler.path not in answered
        answered.add(handler.path)
        body = (
            b"busy"
            if first_time
            else article_page("Story", story(len(handler.path) * 7 + ord(handler.path[-1]))).encode()
        )
        time.sleep(0.1)
        handler.send_response(503 if first_time else 200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        if first_time:
            handler.send_header("Retry-After", "1")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    items = []
    for n in range(8):
        other_host.routes[f"/busy/{n}"] = Route(handler=busy_once)
        items.append({"title": f"Story {n}", "link": other_host.url(f"/busy/{n}"), "guid": str(n)})
    feed = server.add("/feed", rss(items), headers={"Content-Type": "application/rss+xml"})
    config = _config(tmp_path, [{"url": feed}], max_per_host="2")

    saved = 0
    for _ in range(3):
        saved += _timed_pass(config).saved
    assert saved == 8
    assert other_host.max_active == 2
