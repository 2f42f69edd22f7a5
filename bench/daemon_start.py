"""Benchmark: `feedd run` starting 185 feeds with a 3 s interval, then a feed added by SIGHUP.

    python bench/daemon_start.py [--feeds 185] [--items 2] [--interval 3] [--within 25]
                                 [--reload-timeout 30]

Each feed is on a loopback host of its own (as 185 news outlets would be) and holds --items
items whose links are real article pages from ../shared/data (bench/corpus.py), served on the
same host; feeds and pages carry ETags, so later polls are answered 304. The config is the
shipped defaults (host_gap, max_per_host, jitter, extraction workers) but for
`[fetch] allowed_networks = ["127.0.0.0/8"]` and `[schedule] interval = min_interval = --interval`.
Measured from outside, by the server's record of each feed's requests: every feed polled at
least three times within --within seconds of READY=1 (target), the per-feed poll counts then
(min, median, max) and the time of the last first poll. Then one more feed (its own host, its
own pages) is appended to the config file and SIGHUP sent: the time until its first poll
(target: within 5 s). SIGTERM ends the daemon, which must exit 0.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from email.utils import formatdate
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from daemon_scale import FEED_PREFIX, WATCHDOG_SECONDS, FeeddProcess, revision  # noqa: E402
from hosts_server import HostsServer, Route  # noqa: E402

from corpus import real_pages  # noqa: E402

RELOAD_TARGET = 5.0
POLLS_TARGET = 3


def feed_document(number: int, links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Story {number}.{index}</title><link>{escape(link)}</link>"
        f"<guid>{escape(link)}</guid><pubDate>{formatdate(1_796_000_000 - index * 600, usegmt=True)}"
        f"</pubDate><description>Teaser of story {number}.{index}.</description></item>"
        for index, link in enumerate(links)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Outlet {number}</title><link>{escape(links[0] if links else 'http://example.org/')}"
        f"</link><description>Bench outlet</description>{items}</channel></rss>"
    ).encode()


def build_world(server: HostsServer, feeds: int, items: int) -> tuple[dict[str, Route], list[str]]:
    """Routes and feed URLs: feed n on host n, its items' pages on the same host."""
    pages = real_pages()
    if len(pages) < feeds * items:
        raise SystemExit(f"{len(pages)} real pages, {feeds * items} needed: lower --feeds or --items")
    routes: dict[str, Route] = {}
    urls = []
    for n in range(feeds):
        links = []
        for index in range(items):
            path = f"/page/{n}/{index}.html"
            routes[path] = Route("text/html; charset=utf-8", pages[n * items + index], f'"page-{n}-{index}"')
            links.append(server.url(n, path))
        routes[f"{FEED_PREFIX}{n}.xml"] = Route(
            "application/rss+xml", feed_document(n, links), f'"feed-{n}-v1"'
        )
        urls.append(server.url(n, f"{FEED_PREFIX}{n}.xml"))
    return routes, urls


def config_text(urls: list[str], interval: float) -> str:
    return (
        '[storage]\noutput_dir = "out"\ndatabase = "state.sqlite3"\n'
        '[fetch]\nallowed_networks = ["127.0.0.0/8"]\n'
        f'[schedule]\ninterval = "{interval:g}s"\nmin_interval = "{interval:g}s"\n'
        + "".join(f'[[feeds]]\nurl = "{url}"\n' for url in urls)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=185)
    parser.add_argument("--items", type=int, default=2, help="real article pages per feed")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds (interval = min_interval)")
    parser.add_argument("--within", type=float, default=25.0, help="seconds after READY for three polls")
    parser.add_argument("--reload-timeout", type=float, default=30.0)
    args = parser.parse_args()
    server = HostsServer(args.feeds + 1)
    routes, urls = build_world(server, args.feeds + 1, args.items)
    *urls, added = urls
    server.start(routes)
    print(
        f"feedd {revision()}: {args.feeds} feeds on {args.feeds} loopback hosts (one each), "
        f"{args.items} real article pages per feed, interval {args.interval:g} s"
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            config = folder / "feedd.toml"
            config.write_text(config_text(urls, args.interval), encoding="utf-8")
            launched = time.monotonic()
            daemon = FeeddProcess(config, folder)
            try:
                ready = daemon.wait_for("READY=1", timeout=120)
                print(f"READY=1 {ready - launched:.1f} s after launch")
                time.sleep(max(0.0, ready + args.within - time.monotonic()))
                stats = server.stats()
                saved = len(list((folder / "out").glob("*.txt")))
                feed_paths = [f"{FEED_PREFIX}{n}.xml" for n in range(args.feeds)]
                counts = [stats.count[path] for path in feed_paths]
                firsts = [stats.arrivals[path][0] - ready for path in feed_paths if stats.count[path]]
                thirds = [
                    times[POLLS_TARGET - 1] - ready
                    for path in feed_paths
                    if len(times := stats.arrivals.get(path, [])) >= POLLS_TARGET
                ]
                enough = len(thirds)
                verdict = "met" if enough == args.feeds else "MISSED"
                print(
                    f"feeds polled >= {POLLS_TARGET} times in {args.within:g} s: {enough} of {args.feeds} "
                    f"[target: all: {verdict}]"
                )
                print(
                    f"polls per feed then       : min {min(counts)}, median {statistics.median(counts):g}, "
                    f"max {max(counts)}"
                )
                if len(firsts) == args.feeds:
                    print(f"last first poll           : {max(firsts):.1f} s after READY")
                else:
                    print(f"last first poll           : {args.feeds - len(firsts)} feed(s) not yet polled")
                if enough == args.feeds:
                    print(f"last third poll           : {max(thirds):.1f} s after READY")
                pages = sum(n for path, n in stats.count.items() if path.startswith("/page/"))
                print(f"page requests, saved docs : {pages} page requests, {saved} documents saved")

                with open(config, "a", encoding="utf-8") as appended:
                    appended.write(f'[[feeds]]\nurl = "{added}"\n')
                sent = time.monotonic()
                daemon.process.send_signal(signal.SIGHUP)
                added_path = f"{FEED_PREFIX}{args.feeds}.xml"
                while time.monotonic() - sent < args.reload_timeout:
                    if arrivals := server.stats().arrivals.get(added_path):
                        latency = arrivals[0] - sent
                        verdict = "met" if latency <= RELOAD_TARGET else "MISSED"
                        print(
                            f"feed added by SIGHUP      : first poll {latency:.2f} s after the signal "
                            f"[target <= {RELOAD_TARGET:g} s: {verdict}]"
                        )
                        break
                    time.sleep(0.05)
                else:
                    print(
                        f"feed added by SIGHUP      : NOT polled within {args.reload_timeout:g} s "
                        f"[target <= {RELOAD_TARGET:g} s: MISSED]"
                    )
                gap = daemon.longest_watchdog_gap(ready)
                code, stop_seconds = daemon.terminate()
            finally:
                if daemon.process.poll() is None:
                    daemon.terminate()
            print(f"longest WATCHDOG gap      : {gap:.1f} s after READY (asked every {WATCHDOG_SECONDS:g} s)")
            records = daemon.log_records()
            print(
                f"log                       : {daemon.log_bytes() / 2**20:.1f} MB, {sum(records.values())} records "
                f"({', '.join(f'{level} {n}' for level, n in records.most_common())})"
            )
            print(
                f"SIGTERM                   : exit code {code} after {stop_seconds:.1f} s [{'ok' if code == 0 else 'NOT 0'}]"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
