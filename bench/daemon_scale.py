"""Benchmark: `feedd run` with 10,000 feeds on 1,000 loopback hosts that answer 304.

    python bench/daemon_scale.py [--feeds 10000] [--hosts 1000] [--interval 8] [--seconds 30]
                                 [--timeout 120] [--server-processes 1] [--fresh] [--pages]

Each feed is a small RSS document of one item (feedd fails a feed with no entries), served with
an ETag. One `feedd run-once` pass first stores every ETag and entry, as a restart finds them, so
every poll of the daemon is conditional and answered 304 Not Modified (--fresh starts on an empty
state instead: first polls are answered 200 and their entries saved). The feeds carry their own
text (`fetch_article = false`); --pages serves and fetches each item's page instead. A host's
feeds are next to each other in the config (a site's sections, as users list them). Otherwise
the config is the shipped defaults but for `[fetch] allowed_networks = ["127.0.0.0/8"]` and
`[schedule] interval = min_interval = --interval, jitter = 0` (8 s: 1,250 polls/s asked of
10,000 feeds). The daemon runs under a test NOTIFY_SOCKET; everything is measured from outside:
the server's record of each feed's first request gives the time from READY=1 until every feed
was polled once (target: within the first interval; after --timeout, how far it got); then the
polls per second over a window of --seconds (target: >= 1,000), feedd's CPU per poll (its
process and children, psutil) apart from the server's, peak RSS of feedd (target: < 400 MB,
sampled every 0.2 s), bytes written and logged per poll, the longest gap between WATCHDOG=1
pings. SIGTERM ends the daemon, which must exit 0.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from hosts_server import HostsServer, Route, Stats  # noqa: E402

FEED_PREFIX = "/feed/"
_RECORD = re.compile(r"^(?:\[[^\]]{17}\]| {19}) (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
#: How often feedd is asked to ping WATCHDOG=1: a longer gap between pings is a stalled event loop.
WATCHDOG_SECONDS = 1.0


_WORDS = (
    "council budget river bridge school harbour election market storm festival museum railway "
    "hospital library stadium farmers museum court ferry airport mayor teachers nurses police "
    "housing energy water tram park union strike exports rain summer winter village league"
).split()


def story_text(number: int, words: int = 80) -> str:
    """A short text of its own for feed `number` (no two feeds' texts are near-duplicates)."""
    chooser = random.Random(number)
    return " ".join(chooser.choice(_WORDS) for _ in range(words)).capitalize() + "."


def one_item_feed(number: int, link: str) -> bytes:
    """A feed of one item. feedd fails a feed with no entries, so the smallest valid one has one."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {number}</title><link>{link}</link><description>Bench feed</description>"
        f"<item><title>Story {number}</title><link>{link}</link><guid>{link}</guid>"
        "<pubDate>Tue, 01 Dec 2026 08:00:00 GMT</pubDate>"
        f"<description>{story_text(number)}</description></item></channel></rss>"
    ).encode()


def article_page(number: int) -> bytes:
    paragraphs = "".join(f"<p>{story_text(number * 7 + k, 60)}</p>" for k in range(4))
    return (
        f"<!doctype html><html><head><title>Story {number}</title></head><body><article>"
        f"<h1>Story {number}</h1>{paragraphs}</article></body></html>"
    ).encode()


class FeeddProcess:
    """`feedd run -c config` under a test NOTIFY_SOCKET, its messages and memory sampled."""

    def __init__(self, config: Path, folder: Path) -> None:
        notify_path = folder / "notify.sock"
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(notify_path))
        self._notify.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self.log_path = folder / "feedd.log"
        self.peak_rss = 0
        self.peak_tree_rss = 0
        self._done = threading.Event()
        env = {
            **os.environ,
            "NOTIFY_SOCKET": str(notify_path),
            "WATCHDOG_USEC": str(int(WATCHDOG_SECONDS * 2e6)),
        }
        feedd = Path(sys.executable).with_name("feedd")
        with open(self.log_path, "wb") as log:
            self.process = psutil.Popen(
                [str(feedd), "run", "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self._threads = [
            threading.Thread(target=self._listen, daemon=True),
            threading.Thread(target=self._sample, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _listen(self) -> None:
        while not self._done.is_set():
            try:
                text = self._notify.recv(65536).decode()
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), text))

    def _sample(self) -> None:
        while not self._done.is_set():
            try:
                rss = self.process.memory_info().rss
                children = sum(child.memory_info().rss for child in self.process.children(recursive=True))
            except psutil.Error:
                rss = children = 0
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_tree_rss = max(self.peak_tree_rss, rss + children)
            time.sleep(0.2)

    def wait_for(self, text: str, timeout: float) -> float:
        """The monotonic time the first message containing `text` arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for when, message in list(self.messages):
                if text in message:
                    return when
            if self.process.poll() is not None:
                raise SystemExit(f"feedd exited with {self.process.returncode}; see {self.log_path}")
            time.sleep(0.02)
        raise SystemExit(f"no {text} from feedd in {timeout:g} s; see {self.log_path}")

    def longest_watchdog_gap(self, since: float) -> float:
        """The longest time between two WATCHDOG=1 pings (or since the last one) after `since`."""
        pings = [when for when, message in list(self.messages) if "WATCHDOG=1" in message and when >= since]
        pings.append(time.monotonic())
        return max((b - a for a, b in zip(pings, pings[1:], strict=False)), default=0.0)

    def cpu_seconds(self) -> float:
        """User + system CPU of feedd, its waited-for children and its live children."""
        times = self.process.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in self.process.children(recursive=True):
            try:
                child_times = child.cpu_times()
            except psutil.Error:
                continue
            total += child_times.user + child_times.system
        return total

    def written(self) -> int:
        """Bytes feedd's main process passed to write() so far (log, SQLite, WAL)."""
        return self.process.io_counters().write_chars

    def log_records(self) -> Counter[str]:
        """Log records by level (feedd's text log wraps a record over several lines)."""
        with open(self.log_path, encoding="utf-8", errors="replace") as log:
            return Counter(match.group(1) for line in log if (match := _RECORD.match(line)))

    def log_bytes(self) -> int:
        return self.log_path.stat().st_size

    def terminate(self, timeout: float = 60.0) -> tuple[int | None, float]:
        """SIGTERM; the exit code (None if it did not exit in time) and the seconds it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.process.wait(timeout)
        except psutil.TimeoutExpired:
            code = None
            self.process.kill()
        self._done.set()
        return code, time.monotonic() - started


def revision() -> str:
    return subprocess.run(
        ["git", "log", "-1", "--format=%h"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent,
    ).stdout.strip()


def feed_polls(stats: Stats) -> int:
    return sum(n for path, n in stats.count.items() if path.startswith(FEED_PREFIX))


@dataclass(frozen=True)
class Window:
    seconds: float
    polls: int
    requests: int
    feedd_cpu: float
    server_cpu: float
    written: int
    log_bytes: int


def measure_window(daemon: FeeddProcess, server: HostsServer, seconds: float) -> Window:
    def snapshot() -> tuple[float, int, int, float, float, int, int]:
        stats = server.stats()
        return (
            time.monotonic(),
            feed_polls(stats),
            stats.total,
            daemon.cpu_seconds(),
            server.cpu_seconds(),
            daemon.written(),
            daemon.log_bytes(),
        )

    before = snapshot()
    time.sleep(seconds)
    after = snapshot()
    t, polls, requests, feedd_cpu, server_cpu, written, log_bytes = (
        b - a for a, b in zip(before, after, strict=True)
    )
    return Window(t, int(polls), int(requests), feedd_cpu, server_cpu, int(written), int(log_bytes))


def write_config(folder: Path, urls: list[str], interval: float, *, pages: bool) -> Path:
    config = folder / "feedd.toml"
    own = "" if pages else "fetch_article = false\n"
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n{own}' for url in urls)
    config.write_text(
        '[storage]\noutput_dir = "out"\ndatabase = "state.sqlite3"\n'
        '[fetch]\nallowed_networks = ["127.0.0.0/8"]\n'
        f'[schedule]\ninterval = "{interval:g}s"\nmin_interval = "{interval:g}s"\njitter = 0.0\n' + feeds,
        encoding="utf-8",
    )
    return config


def seed(config: Path) -> str:
    """One `feedd run-once` pass: the state then holds every feed's ETag and entry, as after a
    restart, so the daemon's first polls are conditional too. Its summary line and time."""
    feedd = Path(sys.executable).with_name("feedd")
    started = time.monotonic()
    done = subprocess.run([str(feedd), "run-once", "-c", str(config)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"feedd run-once failed ({done.returncode}): {done.stdout}{done.stderr}")
    summary = " ".join(done.stdout.split("\n", 2)[:2]).strip()
    return f"{summary}, {time.monotonic() - started:.1f} s in all"


def build_world(server: HostsServer, feeds: int, per_host: int, *, pages: bool) -> list[str]:
    """Serve `feeds` one-item feeds, `per_host` on each host in turn; their URLs."""
    routes: dict[str, Route] = {}
    urls = []
    for n in range(feeds):
        host = n // per_host
        routes[f"{FEED_PREFIX}{n}.xml"] = Route(
            "application/rss+xml", one_item_feed(n, server.url(host, f"/page/{n}.html")), f'"feed-{n}-v1"'
        )
        if pages:
            routes[f"/page/{n}.html"] = Route("text/html; charset=utf-8", article_page(n), f'"page-{n}"')
        urls.append(server.url(host, f"{FEED_PREFIX}{n}.xml"))
    server.start(routes)
    return urls


def wait_for_first_polls(
    server: HostsServer, feeds: int, ready: float, timeout: float
) -> tuple[Stats, list[float]]:
    """Until every feed was polled once or `timeout` s after READY: the server's stats and the
    first poll's time of each feed polled."""
    last_report = ready
    while True:
        stats = server.stats()
        started = [times[0] for path, times in stats.arrivals.items() if path.startswith(FEED_PREFIX)]
        now = time.monotonic()
        if len(started) == feeds or now - ready > timeout:
            return stats, started
        if now - last_report >= 10:
            print(f"  {now - ready:5.0f} s after READY: {len(started)} feeds polled", flush=True)
            last_report = now
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=1_000)
    parser.add_argument("--interval", type=float, default=8.0, help="seconds (interval = min_interval)")
    parser.add_argument("--seconds", type=float, default=30.0, help="the sustained-rate window")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="give up waiting for every first poll after this"
    )
    parser.add_argument("--server-processes", type=int, default=1)
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start on an empty state (first polls answered 200 and saved) instead of after run-once",
    )
    parser.add_argument(
        "--pages",
        action="store_true",
        help="fetch each item's article page (served too) instead of fetch_article = false",
    )
    args = parser.parse_args()
    per_host = -(-args.feeds // args.hosts)
    server = HostsServer(args.hosts, args.server_processes)
    urls = build_world(server, args.feeds, per_host, pages=args.pages)
    asked = args.feeds / args.interval
    print(
        f"feedd {revision()}: {args.feeds} feeds on {args.hosts} loopback hosts ({per_host} per host, "
        f"next to each other in the config), interval {args.interval:g} s: {asked:,.0f} polls/s asked; "
        f"server: {args.server_processes} process(es)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_config(folder, urls, args.interval, pages=args.pages)
        if not args.fresh:
            seeded = seed(config)
            print(f"seeded by feedd run-once: {seeded}")
            server.reset()
        launched = time.monotonic()
        daemon = FeeddProcess(config, folder)
        try:
            ready = daemon.wait_for("READY=1", timeout=300)
            print(f"READY=1 {ready - launched:.1f} s after launch (pid {daemon.process.pid})")
            stats, started = wait_for_first_polls(server, args.feeds, ready, args.timeout)
            elapsed = time.monotonic() - ready
            cpu_at_start = daemon.cpu_seconds()
            if len(started) == args.feeds:
                last_first = max(started) - ready
                verdict = "met" if last_first <= args.interval else "MISSED"
                print(
                    f"every feed polled once : {last_first:7.1f} s after READY "
                    f"[target <= {args.interval:g} s, the first interval: {verdict}]"
                )
            else:
                last = min(10.0, elapsed)
                recent = sum(1 for first in started if first >= ready + elapsed - last) / last
                print(
                    f"every feed polled once : NOT within {elapsed:.0f} s: {len(started)} of {args.feeds} "
                    f"feeds polled, {len(started) / elapsed:.2f} new feeds/s on average, {recent:.2f} in the "
                    f"last {last:.0f} s [target <= {args.interval:g} s: MISSED]"
                )
            polls_so_far = feed_polls(stats)
            print(
                f"  until then            : {polls_so_far} polls, feedd CPU {cpu_at_start:.1f} s since launch"
            )
            window = measure_window(daemon, server, args.seconds)
            answers = dict(sorted(server.stats().statuses.items()))
            gap = daemon.longest_watchdog_gap(ready)
            code, stop_seconds = daemon.terminate()
        finally:
            if daemon.process.poll() is None:
                daemon.terminate()
            server.stop()
        rate = window.polls / window.seconds
        polls = max(window.polls, 1)
        print(
            f"sustained poll rate    : {rate:7.0f} polls/s over {window.seconds:.0f} s "
            f"[target >= 1,000; asked {asked:,.0f}: {'met' if rate >= 1000 else 'MISSED'}]"
        )
        print(
            f"peak RSS feedd         : {daemon.peak_rss / 2**20:7.0f} MB main process, "
            f"{daemon.peak_tree_rss / 2**20:.0f} MB with its children "
            f"[target < 400 MB: {'met' if daemon.peak_rss < 400 * 2**20 else 'MISSED'}]"
        )
        print(
            f"feedd CPU per poll     : {1000 * window.feedd_cpu / polls:7.3f} ms "
            f"({window.feedd_cpu / window.seconds:.0%} of a core over the window)"
        )
        print(
            f"server CPU per request : {1000 * window.server_cpu / max(window.requests, 1):7.3f} ms "
            f"({window.server_cpu / window.seconds:.0%} of a core; {window.requests} requests)"
        )
        print(
            f"written per poll       : {window.written / polls:7.0f} bytes by feedd's main process, "
            f"of which {window.log_bytes / polls:.0f} bytes of log"
        )
        print(f"server answers so far  : {answers} by status")
        print(
            f"longest WATCHDOG gap   : {gap:7.1f} s after READY (asked every {WATCHDOG_SECONDS:g} s: "
            "a longer gap is a stalled event loop)"
        )
        records = daemon.log_records()
        print(
            f"log                    : {daemon.log_bytes() / 2**20:7.1f} MB, {sum(records.values())} records "
            f"({', '.join(f'{level} {n}' for level, n in records.most_common())})"
        )
        print(
            f"SIGTERM                : exit code {code} after {stop_seconds:.1f} s "
            f"[{'ok' if code == 0 else 'NOT 0'}]"
        )


if __name__ == "__main__":
    main()
