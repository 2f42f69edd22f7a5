"""Benchmark: `feedd run-once` as shipped on a skewed world of news outlets (issue 15).

    python bench/skewed_world.py [--quick]

186 outlets on their own loopback addresses, 1,159 real article pages, most of them on a few
hosts (76, 58, 51, 49, 26 pages; the rest 2-8 each); bench/world.py serves them from a child
process and logs every request. In one invocation, on the same world:

  a. feedd run-once with the shipped defaults; only [fetch] allowed_networks admits loopback;
  b. the same with host_gap = "0s" (the CPU floor), fresh state and output;
  c. the naive sequential loop: feedparser + httpx + trafilatura, one page at a time;
  d. plain trafilatura.extract over the same pages, in memory, on every core.

Prints the wall times, the issue's targets (a within 1.25x of max(polite floor, b); b at least
3x faster than c; b's pages/s at least 80% of d's), peak memory, CPU (the machine is shared: other
processes' CPU is shown), and what the server saw: requests at once per host, gaps between one
host's requests, hosts asked per second. --quick: 24 outlets, 150 pages, a smoke test.
--requests-log: every request as CSV. Needs ../shared/data beside the checkout.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import feedparser
import httpx
import psutil
import trafilatura

sys.path.insert(0, str(Path(__file__).parent))
import measure  # noqa: E402
from run_once import naive_page  # noqa: E402
from world import (
    Request,
    World,
    WorldServer,
    host_gaps,
    hosts_per_second,
    peak_per_host,
    skewed_sizes,
    write_log,
)  # noqa: E402

from corpus import real_pages  # noqa: E402


@dataclass(frozen=True)
class Shape:
    hosts: int
    large: tuple[int, ...]
    pages: int


FULL = Shape(hosts=186, large=(76, 58, 51, 49, 26), pages=1159)
QUICK = Shape(hosts=24, large=(20, 15, 12), pages=150)
SHIPPED_GAP = 0.5
SHIPPED_PER_HOST = 2
_SUMMARY = re.compile(r"(\d+) new, (\d+) saved, (\d+) duplicate, (\d+) failed")


@dataclass(frozen=True)
class FeeddRun:
    label: str
    measured: measure.Measured
    requests: list[Request]
    #: Monotonic time just before feedd started.
    started: float
    #: CPU seconds (user + system) of feedd with its workers, and of the world's server.
    cpu: float
    server_cpu: float
    #: CPU seconds the whole machine was busy, all processes (others' too: a shared machine).
    machine_cpu: float


@dataclass(frozen=True)
class NaiveRun:
    pages: int
    seconds: float
    fetch_seconds: float


def run_feedd(server: WorldServer, folder: Path, label: str, host_gap: str | None) -> FeeddRun:
    """`feedd run-once` on the world with fresh state: shipped settings, bar loopback (and the
    gap, when given)."""
    folder.mkdir()
    gap = f'host_gap = "{host_gap}"\n' if host_gap is not None else ""
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in server.world.feed_urls())
    config = folder / "feedd.toml"
    config.write_text(
        '[storage]\noutput_dir = "out"\ndatabase = "state.sqlite3"\n'
        f'[fetch]\nallowed_networks = ["127.0.0.0/8"]\n{gap}{feeds}',
        encoding="utf-8",
    )
    server.take_log()
    server_before, machine_before = _cpu(server), machine_busy()
    sampler = _TreeCpu(exclude=server.process.pid or 0)
    started = time.monotonic()
    measured = measure.run_once(config)
    return FeeddRun(
        label,
        measured,
        server.take_log(),
        started,
        sampler.stop(),
        _cpu(server) - server_before,
        machine_busy() - machine_before,
    )


def machine_busy() -> float:
    """CPU seconds every core of the machine has been busy (not idle nor waiting on I/O)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class _TreeCpu(threading.Thread):
    """CPU seconds of this process's descendants but one, sampled every 0.2 s (the workers run
    under feedd's forkserver, which is not waited for, so getrusage would miss them); each
    process's last 0.2 s before it exits go uncounted."""

    def __init__(self, exclude: int) -> None:
        super().__init__(daemon=True)
        self._exclude = exclude
        self._seen: dict[int, float] = {}
        self._done = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._done.wait(0.2):
            for process in psutil.Process().children(recursive=True):
                if process.pid != self._exclude:
                    try:
                        times = process.cpu_times()
                    except psutil.Error:
                        continue
                    self._seen[process.pid] = times.user + times.system

    def stop(self) -> float:
        self._done.set()
        self.join()
        return sum(self._seen.values())


def _cpu(server: WorldServer) -> float:
    times = psutil.Process(server.process.pid).cpu_times()
    return times.user + times.system


def naive_loop(feed_urls: list[str], output: Path) -> NaiveRun:
    """bench/run_once.py's sequential loop, following redirects, its fetches timed apart."""
    output.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    pages = 0
    fetching = 0.0
    started = time.perf_counter()
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        for feed_url in feed_urls:
            asked = time.perf_counter()
            feed = client.get(feed_url).content
            fetching += time.perf_counter() - asked
            for entry in feedparser.parse(feed).entries:
                asked = time.perf_counter()
                html = client.get(entry.link).text
                fetching += time.perf_counter() - asked
                pages += 1
                naive_page(html, entry.link, pages, seen, output)
    return NaiveRun(pages, time.perf_counter() - started, fetching)


_PAGES: list[tuple[str, str]] = []


def _extract(index: int) -> int:
    url, html = _PAGES[index]
    return len(trafilatura.extract(html, url=url) or "")


def _ready(_: int) -> int:
    return os.getpid()


def extraction_rate(world: World) -> tuple[int, float, int]:
    """Plain trafilatura.extract over the world's pages (decoded in memory before the clock
    starts, inherited by forked workers) on every core: pages, seconds, workers."""
    real = real_pages()
    _PAGES[:] = [(url, real[i % len(real)].decode("utf-8")) for i, url in enumerate(world.page_urls())]
    workers = os.cpu_count() or 1
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        list(pool.map(_ready, range(workers * 4)))
        started = time.perf_counter()
        list(pool.map(_extract, range(len(_PAGES)), chunksize=4))
        seconds = time.perf_counter() - started
    return len(_PAGES), seconds, workers


def report_feedd(run: FeeddRun, world: World, host_gap: float) -> None:
    m = run.measured
    summary = m.stdout.splitlines()[0] if m.stdout else "(no output)"
    print(
        f"{run.label}: {m.seconds:.1f} s, exit {m.returncode}; CPU of feedd and its workers ~ {run.cpu:.1f} s "
        f"({run.cpu / m.seconds:.2f} cores)"
    )
    print(f"  feedd: {summary}")
    for line in m.stdout.splitlines()[1:12]:
        print(f"  | {line}")
    print(
        f"  peak memory: main process RSS {m.peak_main / 2**20:.0f} MB, process tree PSS {m.peak_tree / 2**20:.0f} MB"
    )
    requests = run.requests
    if not requests:
        print("  the server saw no requests")
        return
    kinds = Counter(r.kind for r in requests)
    statuses = Counter(r.status for r in requests)
    print(
        f"  requests: {len(requests)} ({', '.join(f'{n} {k}' for k, n in kinds.most_common())}); "
        f"statuses {dict(sorted(statuses.items()))}; {sum(r.opened for r in requests)} on a new connection"
    )
    print(
        f"  CPU: the server {run.server_cpu:.1f} s; other processes on the machine "
        f"~{max(0.0, run.machine_cpu - run.cpu - run.server_cpu):.1f} s"
    )
    peaks, above = peak_per_host(requests, SHIPPED_PER_HOST)
    worst = max(peaks.values())
    over = sorted(o for o, n in peaks.items() if n > SHIPPED_PER_HOST)
    print(
        f"  requests at once per host: largest {worst}; "
        + (
            f"{len(over)} host(s) above {SHIPPED_PER_HOST} ({', '.join(world.outlets[o].address for o in over[:8])}"
            f"{', ...' if len(over) > 8 else ''}), in progress then: "
            + "; ".join(f"{combo} (x{n})" for combo, n in above.most_common(6))
            if over
            else f"no host above {SHIPPED_PER_HOST}"
        )
    )
    gaps = host_gaps(requests)
    if host_gap and gaps:
        short = Counter(g.between for g in gaps if g.seconds < host_gap * 0.9)
        print(
            f"  gaps between the beginnings of one host's requests: smallest {min(g.seconds for g in gaps) * 1000:.0f} ms; "
            f"{short.total()} of {len(gaps)} under {host_gap * 900:.0f} ms"
            + (": " + ", ".join(f"{kinds} x{n}" for kinds, n in short.most_common()) if short else "")
        )
    first = min(r.arrived for r in requests)
    last = max(r.ended for r in requests)
    counts = hosts_per_second(requests)
    seconds = len(counts)
    tenths = [
        counts[seconds * k // 10 : max(seconds * (k + 1) // 10, seconds * k // 10 + 1)] for k in range(10)
    ]
    print(
        f"  timeline: first request {first - run.started:.1f} s after start, last answered at "
        f"{last - run.started:.1f} s; distinct hosts asked per second: median {statistics.median(counts):g}, "
        f"at most 2 in {sum(1 for c in counts if c <= 2)} of {seconds} s"
    )
    print(
        "  hosts asked per second, mean per tenth of the fetch span: "
        + " ".join(f"{statistics.mean(t):.1f}" for t in tenths)
    )
    largest = sorted(world.outlets, key=lambda o: -o.pages)[:5]
    spans = []
    for outlet in largest:
        own = [r.began - run.started for r in requests if r.outlet == outlet.index]
        if len(own) > 1:
            mean_gap = (max(own) - min(own)) / (len(own) - 1)
            spans.append(f"{outlet.pages} pages {min(own):.1f}-{max(own):.1f} s (mean gap {mean_gap:.2f} s)")
    print(f"  largest hosts, first to last request: {'; '.join(spans)}")


def counts(run: FeeddRun) -> str:
    found = _SUMMARY.search(run.measured.stdout)
    if not found:
        return f"{run.label}: no summary to read"
    new, saved, duplicate, failed = map(int, found.groups())
    verdict = (
        "every page saved or a duplicate"
        if failed == 0 and saved + duplicate == new
        else f"NOT every page saved or a duplicate ({new - saved - duplicate} neither)"
    )
    return f"{run.label}: {new} new, {saved} saved, {duplicate} duplicate, {failed} failed: {verdict}"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, cwd=Path(__file__).parents[1]
    ).stdout.strip()


def _code(commit: str) -> str:
    """The checkout's commit, daemon/'s last one, and which feedd package the CLI imports."""
    package = subprocess.run(
        [sys.executable, "-c", "import feedd; print(feedd.__path__[0])"], capture_output=True, text=True
    ).stdout.strip()
    dirty = " with uncommitted changes" if _git("status", "--porcelain", "--", "daemon") else ""
    return f"checkout {commit}, daemon/ last changed in {_git('log', '-1', '--format=%h', '--', 'daemon')}{dirty}; feedd from {package}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="24 outlets, 150 pages")
    parser.add_argument("--requests-log", type=Path, help="write every request of a, b and c here (CSV)")
    args = parser.parse_args()
    shape = QUICK if args.quick else FULL
    sizes = skewed_sizes(shape.hosts, shape.large, shape.pages)
    commit = _git("log", "-1", "--format=%h")
    # A wide terminal for feedd's summary, so that it reads as one line.
    os.environ["COLUMNS"] = "400"
    began = time.perf_counter()
    server = WorldServer(sizes)
    world = server.world
    print(
        f"world: {len(world.outlets)} outlets (127.0.0.2-{world.outlets[-1].address}, one socket each, "
        f"port {world.port}), {world.pages} pages ({len(real_pages())} distinct real pages reused); "
        f"largest hosts {', '.join(map(str, sorted(sizes, reverse=True)[:6]))}; "
        f"{sum(1 for o in world.outlets if not o.has_robots)} without robots.txt, "
        f"{sum(1 for o in world.outlets if o.redirects)} linking through redirects"
    )
    print(f"code: {_code(commit)}; {os.cpu_count()} CPUs")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            shipped = run_feedd(server, Path(tmp) / "a", "a. feedd run-once, shipped defaults", None)
            report_feedd(shipped, world, SHIPPED_GAP)
            floor = run_feedd(server, Path(tmp) / "b", 'b. feedd run-once, host_gap = "0s"', "0s")
            report_feedd(floor, world, 0.0)
            server.take_log()
            naive_started, busy = time.monotonic(), machine_busy()
            naive = naive_loop(world.feed_urls(), Path(tmp) / "c")
            naive_requests = server.take_log()
            busy = (machine_busy() - busy) / naive.seconds
            print(
                f"c. naive sequential loop: {naive.seconds:.1f} s, {naive.pages} pages; fetching took "
                f"{naive.fetch_seconds:.1f} s of it ({naive.fetch_seconds / max(1, len(naive_requests)) * 1000:.1f} ms "
                f"per request over {len(naive_requests)} requests); machine busy {busy:.2f} cores on average"
            )
            busy, began_d = machine_busy(), time.perf_counter()
            extracted, extract_seconds, workers = extraction_rate(world)
            busy = (machine_busy() - busy) / (time.perf_counter() - began_d)
            extract_rate = extracted / extract_seconds
            print(
                f"d. trafilatura.extract on {workers} processes: {extract_rate:.1f} pages/s "
                f"({extracted} pages in {extract_seconds:.1f} s); machine busy {busy:.2f} cores on average"
            )
    finally:
        server.stop()
    if args.requests_log:
        write_log(
            args.requests_log,
            [
                ("a", shipped.started, shipped.requests),
                ("b", floor.started, floor.requests),
                ("c", naive_started, naive_requests),
            ],
        )
    a, b = shipped.measured.seconds, floor.measured.seconds
    largest = max(sizes)
    polite = largest * SHIPPED_GAP
    target = max(polite, b)
    print()
    print(f"world                : {len(world.outlets)} hosts, {world.pages} pages (code {commit})")
    print(f"wall seconds         : a {a:.1f}   b {b:.1f}   c {naive.seconds:.1f}")
    print(f"polite floor         : {largest} pages x {SHIPPED_GAP:g} s = {polite:.1f} s")
    print(f"target               : max(polite floor, b) = {target:.1f} s")
    print(f"a / target           : {a / target:.2f}x (issue: <= 1.25x)")
    print(f"c / b                : {naive.seconds / b:.2f}x (issue: >= 3x)")
    print(
        f"extraction throughput: {world.pages / b:.1f} pages/s in b = {world.pages / b / extract_rate:.0%} of "
        f"d's {extract_rate:.1f} pages/s (issue: >= 80%)"
    )
    print(
        f"peak memory          : a RSS {shipped.measured.peak_main / 2**20:.0f} MB / PSS {shipped.measured.peak_tree / 2**20:.0f} MB; "
        f"b RSS {floor.measured.peak_main / 2**20:.0f} MB / PSS {floor.measured.peak_tree / 2**20:.0f} MB"
    )
    for run in (shipped, floor):
        peaks, _ = peak_per_host(run.requests, SHIPPED_PER_HOST)
        worst = max(peaks.values(), default=0)
        above = sum(1 for n in peaks.values() if n > SHIPPED_PER_HOST)
        print(
            f"per-host at once     : {run.label[:2]} largest {worst}; {above} host(s) above {SHIPPED_PER_HOST}"
        )
    print(f"outcome              : {counts(shipped)}")
    print(f"                       {counts(floor)}")
    print(f"benchmark            : {time.perf_counter() - began:.0f} s in all")


if __name__ == "__main__":
    main()
