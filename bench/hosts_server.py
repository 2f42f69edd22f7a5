"""Many loopback hosts served by one small asyncio HTTP/1.1 server in child processes.

Linux routes all of 127.0.0.0/8 to lo, so each host is its own address (127.0.x.y), bound on one
port by every server process (SO_REUSEPORT spreads connections among them). Any host serves any
path: paths are unique across the world. A route answers 200 with an ETag, then 304 to a request
that sends that ETag back; other paths (robots.txt) answer 404. Each process records, per path,
how many requests it saw and when the first few arrived (time.monotonic(), one clock for every
process on the machine), and answers GET /_stats as JSON on its own control address (GET /_reset forgets them).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import socket
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from time import monotonic

import psutil

#: Arrival times kept per path: enough to tell a feed's first, second and third poll.
KEPT_ARRIVALS = 3


@dataclass(frozen=True)
class Route:
    content_type: str
    body: bytes
    etag: str


def host_address(index: int) -> str:
    """The loopback address of host `index`: 127.0.1.1, 127.0.1.2, ... (127.0.0.1 stays free for
    the control endpoints, so only the daemon's requests are counted)."""
    if not 0 <= index < 250 * 255:
        raise ValueError(f"host index {index} out of range")
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


@dataclass
class _Record:
    count: Counter[str] = field(default_factory=Counter)
    arrivals: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    per_second: Counter[int] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)

    def clear(self) -> None:
        self.count.clear()
        self.arrivals.clear()
        self.per_second.clear()
        self.statuses.clear()

    def note(self, path: str, status: int) -> None:
        now = monotonic()
        self.count[path] += 1
        times = self.arrivals[path]
        if len(times) < KEPT_ARRIVALS:
            times.append(now)
        self.per_second[int(now)] += 1
        self.statuses[status] += 1


class _Requests(asyncio.Protocol):
    """HTTP/1.1 GET requests on a keep-alive connection, answered by `respond`."""

    #: Close the connection after each answer.
    closes = False

    def __init__(self) -> None:
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head, self._buffer = self._buffer[:end], self._buffer[end + 4 :]
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        assert self._transport is not None
        request_line, *header_lines = head.split(b"\r\n")
        target = request_line.split(b" ")[1].decode("latin-1")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        status, extra, body = self.respond(target, headers)
        close = headers.get(b"connection", b"").lower() == b"close" or self.closes
        self._transport.write(
            b"HTTP/1.1 %d %s\r\n%sContent-Length: %d\r\n%s\r\n"
            % (status, _REASONS[status], extra, len(body), b"Connection: close\r\n" if close else b"")
            + body
        )
        if close:
            self._transport.close()

    def respond(self, target: str, headers: dict[bytes, bytes]) -> tuple[int, bytes, bytes]:
        raise NotImplementedError


_REASONS = {200: b"OK", 304: b"Not Modified", 404: b"Not Found"}


class _Site(_Requests):
    """The hosts' routes, every request recorded."""

    def __init__(self, routes: dict[str, Route], record: _Record) -> None:
        super().__init__()
        self._routes = routes
        self._record = record

    def respond(self, target: str, headers: dict[bytes, bytes]) -> tuple[int, bytes, bytes]:
        status, extra, body = self._lookup(target, headers)
        self._record.note(target, status)
        return status, extra, body

    def _lookup(self, target: str, headers: dict[bytes, bytes]) -> tuple[int, bytes, bytes]:
        route = self._routes.get(target)
        if route is None:
            return 404, b"", b""
        etag = route.etag.encode()
        if headers.get(b"if-none-match") == etag:
            return 304, b"ETag: %s\r\n" % etag, b""
        return 200, b"Content-Type: %s\r\nETag: %s\r\n" % (route.content_type.encode(), etag), route.body


class _Control(_Requests):
    """The control address: /_reset clears the record, any other path answers it as JSON."""

    closes = True

    def __init__(self, record: _Record) -> None:
        super().__init__()
        self._record = record

    def respond(self, target: str, headers: dict[bytes, bytes]) -> tuple[int, bytes, bytes]:
        if target == "/_reset":
            self._record.clear()
            return 200, b"", b""
        record = self._record
        body = json.dumps(
            {
                "count": record.count,
                "arrivals": record.arrivals,
                "per_second": record.per_second,
                "statuses": record.statuses,
            }
        ).encode()
        return 200, b"Content-Type: application/json\r\n", body


def _serve(routes: dict[str, Route], addresses: list[str], port: int, ready: Connection) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        record = _Record()
        try:
            await loop.create_server(
                lambda: _Site(routes, record), host=addresses, port=port, reuse_port=True, backlog=1024
            )
            control = await loop.create_server(lambda: _Control(record), host="127.0.0.1", port=0)
        except OSError as exc:
            ready.send(f"error: {exc}")
            return
        ready.send(control.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


@dataclass(frozen=True)
class Stats:
    """What the server processes saw, merged."""

    count: Counter[str]
    #: The first KEPT_ARRIVALS arrival times (monotonic) of each path, in order.
    arrivals: dict[str, list[float]]
    per_second: Counter[int]
    statuses: Counter[int]

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


class HostsServer:
    """`hosts` loopback addresses on one port (known before start(), for the routes' links),
    served by child processes until stop()."""

    def __init__(self, hosts: int, processes: int = 1) -> None:
        self.addresses = [host_address(index) for index in range(hosts)]
        with socket.socket() as probe:
            probe.bind((self.addresses[0], 0))
            self.port = probe.getsockname()[1]
        self._count = processes
        self._processes: list[BaseProcess] = []
        self._control_ports: list[int] = []

    def start(self, routes: dict[str, Route]) -> None:
        """Serve `routes` (by path, on every host) until stop()."""
        context = multiprocessing.get_context("fork")
        for _ in range(self._count):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_serve, args=(routes, self.addresses, self.port, send), daemon=True
            )
            process.start()
            self._processes.append(process)
            answer = receive.recv() if receive.poll(60) else "error: no answer in 60 s"
            if isinstance(answer, str):
                self.stop()
                raise SystemExit(f"test server failed to start: {answer}")
            self._control_ports.append(answer)

    def url(self, host: int, path: str) -> str:
        return f"http://{self.addresses[host]}:{self.port}{path}"

    def stats(self) -> Stats:
        count: Counter[str] = Counter()
        arrivals: dict[str, list[float]] = {}
        per_second: Counter[int] = Counter()
        statuses: Counter[int] = Counter()
        for port in self._control_ports:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=30) as answer:
                part = json.load(answer)
            count.update(part["count"])
            for path, times in part["arrivals"].items():
                arrivals[path] = sorted(arrivals.get(path, []) + times)[:KEPT_ARRIVALS]
            per_second.update({int(second): n for second, n in part["per_second"].items()})
            statuses.update({int(status): n for status, n in part["statuses"].items()})
        return Stats(count, arrivals, per_second, statuses)

    def reset(self) -> None:
        """Forget every request seen so far."""
        for port in self._control_ports:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_reset", timeout=30):
                pass

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used by the server's processes so far."""
        total = 0.0
        for process in self._processes:
            if process.pid is not None:
                times = psutil.Process(process.pid).cpu_times()
                total += times.user + times.system
        return total

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.join(5)
