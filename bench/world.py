"""A world of news outlets on loopback, each its own address, served by a child process that
records every request.

Linux routes all of 127.0.0.0/8 to lo. Every outlet gets its own address (127.0.0.2, 127.0.0.3,
...) and its own listening socket on one shared port: the address a request came in on names its
outlet, whatever the Host header says, and nothing listens beyond loopback. Each socket is a
ThreadingHTTPServer (a thread per connection, HTTP/1.1 keep-alive) in one server process apart
from the client's, so the server shares neither its event loop nor its GIL.

An outlet serves /robots.txt (allow all, or 404), one RSS feed of its pages, and the pages: real
article pages from ../shared/data, reused under distinct URLs when the world needs more. Some
outlets link their items through a /go/N redirect (301) to the page. Every request is logged
with its outlet, path, status, arrival time and end time (time.monotonic(), one clock for every
process on the machine).
"""

from __future__ import annotations

import csv
import errno
import multiprocessing
import random
import socketserver
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from time import monotonic
from typing import Literal

from corpus import real_pages

RequestKind = Literal["robots", "feed", "redirect", "page", "other"]
_ALLOW_ALL = b"User-agent: *\nAllow: /\n"


@dataclass(frozen=True)
class Outlet:
    index: int
    address: str
    pages: int
    #: False: /robots.txt answers 404 (everything allowed).
    has_robots: bool
    #: The feed's items link to /go/N, which redirects to the page.
    redirects: bool

    def page_path(self, number: int) -> str:
        return f"/news/{self.index}/story-{number}.html"

    def link_path(self, number: int) -> str:
        return f"/go/{number}" if self.redirects else self.page_path(number)


@dataclass(frozen=True)
class World:
    outlets: tuple[Outlet, ...]
    port: int

    @property
    def pages(self) -> int:
        return sum(outlet.pages for outlet in self.outlets)

    def url(self, outlet: Outlet, path: str) -> str:
        return f"http://{outlet.address}:{self.port}{path}"

    def feed_urls(self) -> list[str]:
        return [self.url(outlet, "/feed.xml") for outlet in self.outlets]

    def page_urls(self) -> list[str]:
        """Every page's final URL, outlet by outlet."""
        return [self.url(o, o.page_path(n)) for o in self.outlets for n in range(o.pages)]


@dataclass(frozen=True)
class Request:
    """One request as the server saw it: in progress from its headers read to its last byte
    written."""

    outlet: int
    path: str
    status: int
    #: When the client connected, for a connection's first request; else as `arrived`.
    began: float
    arrived: float
    ended: float

    @property
    def opened(self) -> bool:
        """Whether the request came on a new connection."""
        return self.began < self.arrived

    @property
    def kind(self) -> RequestKind:
        if self.path == "/robots.txt":
            return "robots"
        if self.path == "/feed.xml":
            return "feed"
        if self.path.startswith("/go/"):
            return "redirect"
        return "page" if self.path.startswith("/news/") else "other"


def skewed_sizes(hosts: int, large: tuple[int, ...], pages: int, seed: int = 15) -> list[int]:
    """Pages per host: the `large` ones, the rest 2-8 each, `pages` in all, in a shuffled order."""
    rng = random.Random(seed)
    small = [rng.randint(2, 8) for _ in range(hosts - len(large))]
    target = pages - sum(large)
    if not 2 * len(small) <= target <= 8 * len(small):
        raise ValueError(f"{len(small)} small hosts cannot carry {target} pages at 2-8 each")
    while (excess := sum(small) - target) != 0:
        step = 1 if excess < 0 else -1
        candidates = [i for i, n in enumerate(small) if 2 <= n + step <= 8]
        small[rng.choice(candidates)] += step
    sizes = list(large) + small
    rng.shuffle(sizes)
    return sizes


def plan_world(sizes: list[int]) -> list[Outlet]:
    """Outlets on 127.0.0.2, 127.0.0.3, ...: every third without robots.txt, every seventh small
    one (8 pages or fewer) linking through redirects."""
    if len(sizes) > 250:
        raise ValueError("at most 250 outlets (127.0.0.2 to 127.0.0.251)")
    return [
        Outlet(
            index=i,
            address=f"127.0.0.{2 + i}",
            pages=n,
            has_robots=i % 3 != 2,
            redirects=n <= 8 and i % 7 == 3,
        )
        for i, n in enumerate(sizes)
    ]


def _routes(outlets: list[Outlet], port: int) -> list[dict[str, tuple[int, str, bytes]]]:
    """Per outlet, {path: (status, Content-Type or Location, body)}."""
    real = real_pages()
    routes: list[dict[str, tuple[int, str, bytes]]] = []
    served = 0
    for outlet in outlets:
        base = f"http://{outlet.address}:{port}"
        table: dict[str, tuple[int, str, bytes]] = {}
        if outlet.has_robots:
            table["/robots.txt"] = (200, "text/plain", _ALLOW_ALL)
        items = []
        for number in range(outlet.pages):
            page = outlet.page_path(number)
            table[page] = (200, "text/html; charset=utf-8", real[served % len(real)])
            if outlet.redirects:
                table[outlet.link_path(number)] = (301, base + page, b"")
            link = escape(base + outlet.link_path(number))
            items.append(
                f"<item><title>Story {number} of outlet {outlet.index}</title><link>{link}</link>"
                f"<guid>{link}</guid><pubDate>{formatdate(1_700_000_000 - served * 60, usegmt=True)}"
                f"</pubDate><description>Teaser of story {number}.</description></item>"
            )
            served += 1
        table["/feed.xml"] = (
            200,
            "application/rss+xml; charset=utf-8",
            (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Outlet {outlet.index}</title><link>{base}/</link><description>news"
                f"</description>{''.join(items)}</channel></rss>"
            ).encode(),
        )
        routes.append(table)
    return routes


class _OutletServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self, address: str, port: int, index: int, routes: dict[str, tuple[int, str, bytes]], log: list
    ) -> None:
        self.index = index
        self.routes = routes
        self.log = log
        super().__init__((address, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer's own server_bind asks for the address's FQDN: a resolver call per outlet.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _OutletServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def setup(self) -> None:
        super().setup()
        self.connected: float | None = monotonic()

    def do_GET(self) -> None:  # noqa: N802
        arrived = monotonic()
        # A connection's first request began when the client connected.
        began, self.connected = self.connected or arrived, None
        status, header, body = self.server.routes.get(self.path, (404, "text/plain", b""))
        self.send_response(status)
        self.send_header("Location" if status == 301 else "Content-Type", header)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # list.append is atomic under the GIL: no lock needed between handler threads.
        self.server.log.append((self.server.index, self.path, status, began, arrived, monotonic()))


def _bind_all(outlets: list[Outlet], routes: list[dict], log: list) -> list[_OutletServer]:
    """One server per outlet, all on one port: the first outlet's free port, tried again with
    another when some address has it taken."""
    for _attempt in range(10):
        servers = [_OutletServer(outlets[0].address, 0, 0, routes[0], log)]
        port = servers[0].server_address[1]
        try:
            for outlet in outlets[1:]:
                servers.append(_OutletServer(outlet.address, port, outlet.index, routes[outlet.index], log))
            return servers
        except OSError as exc:
            for server in servers:
                server.server_close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, "no port free on every outlet's address")


def _serve(outlets: list[Outlet], control: Connection) -> None:
    log: list[tuple[int, str, int, float, float, float]] = []
    try:
        servers = _bind_all(outlets, [{}] * len(outlets), log)
    except OSError as exc:
        control.send(f"error: {exc}")
        return
    port = servers[0].server_address[1]
    for server, table in zip(servers, _routes(outlets, port), strict=True):
        server.routes = table
        threading.Thread(target=server.serve_forever, args=(0.5,), daemon=True).start()
    control.send(port)
    while (command := control.recv()) != "stop":
        if command == "log":
            control.send(log[:])
            del log[:]


class WorldServer:
    """The world served by a child process until stop()."""

    def __init__(self, sizes: list[int]) -> None:
        self._outlets = plan_world(sizes)
        context = multiprocessing.get_context("fork")
        self._control, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(self._outlets, child), daemon=True)
        self.process.start()
        answer = self._control.recv() if self._control.poll(120) else "error: no answer in 120 s"
        if isinstance(answer, str):
            self.stop()
            raise SystemExit(f"world server failed to start: {answer}")
        self.world = World(tuple(self._outlets), answer)

    def take_log(self) -> list[Request]:
        """The requests served since the last call, in the order they ended."""
        self._control.send("log")
        return [Request(*entry) for entry in self._control.recv()]

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self._control.send("stop")
            except OSError:
                pass
            self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def peak_per_host(requests: list[Request], cap: int) -> tuple[Counter[int], Counter[str]]:
    """The most requests in progress at once per outlet, and what was in progress (by kind)
    each time an outlet went above `cap`."""
    by_host: defaultdict[int, list[Request]] = defaultdict(list)
    for request in requests:
        by_host[request.outlet].append(request)
    peaks: Counter[int] = Counter()
    above: Counter[str] = Counter()
    for outlet, own in by_host.items():
        # Ends sort before starts at the same instant: back to back is not at once.
        events = sorted(
            [(r.arrived, 1, i) for i, r in enumerate(own)] + [(r.ended, -1, i) for i, r in enumerate(own)]
        )
        running: set[int] = set()
        for _, step, i in events:
            if step < 0:
                running.discard(i)
                continue
            running.add(i)
            peaks[outlet] = max(peaks[outlet], len(running))
            if len(running) > cap:
                above[" + ".join(sorted(own[j].kind for j in running))] += 1
    return peaks, above


@dataclass(frozen=True)
class Gap:
    seconds: float
    #: The two requests' kinds, "feed -> robots".
    between: str


def host_gaps(requests: list[Request]) -> list[Gap]:
    """The time between the beginnings of each outlet's consecutive requests, over all outlets."""
    by_host: defaultdict[int, list[Request]] = defaultdict(list)
    for request in requests:
        by_host[request.outlet].append(request)
    gaps: list[Gap] = []
    for own in by_host.values():
        own.sort(key=lambda r: r.began)
        gaps.extend(
            Gap(b.began - a.began, f"{a.kind} -> {b.kind}") for a, b in zip(own, own[1:], strict=False)
        )
    return gaps


def hosts_per_second(requests: list[Request]) -> list[int]:
    """How many distinct outlets were asked in each second from the first request to the last."""
    first = min(r.arrived for r in requests)
    seconds = int(max(r.ended for r in requests) - first) + 1
    hosts: list[set[int]] = [set() for _ in range(seconds)]
    for request in requests:
        hosts[int(request.arrived - first)].add(request.outlet)
    return [len(h) for h in hosts]


def write_log(path: Path, runs: list[tuple[str, float, list[Request]]]) -> None:
    """Every request as CSV, times in seconds from the run's start."""
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["run", "host", "path", "status", "began", "arrived", "ended"])
        for run, started, requests in runs:
            for r in sorted(requests, key=lambda r: r.began):
                out.writerow(
                    [run, f"127.0.0.{2 + r.outlet}", r.path, r.status]
                    + [f"{t - started:.4f}" for t in (r.began, r.arrived, r.ended)]
                )
