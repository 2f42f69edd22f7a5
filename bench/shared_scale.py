"""Benchmark: 1, 2 and 3 feedd instances splitting one feed list over a shared Redis index.

    python bench/shared_scale.py [--feeds 24] [--copies 3] [--latency-ms 20]

The loopback corpus of bench/run_once.py (every real page of ../shared/data/extraction under
several URLs, so most entries are duplicates of another feed's) is polled by N `feedd run-once`
processes at once, each with `[cluster] shard = "K/N"`, its own state and output, and one
redis-server (started here, on a free port). Prints, for each N: wall time, pages/s, documents
saved in all (must be the same for every N: exactly one copy of each story), and Redis commands
per entry decided. Then, in-process: Redis round trips and milliseconds per claim, for a new story
and for a duplicate. Needs redis-server on the PATH and ../shared/data beside the checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).parent))
from corpus import real_pages, serve_corpus  # noqa: E402
from feedd.config import DedupConfig  # noqa: E402
from feedd.dedup import Candidate, SharedIndex, Thresholds  # noqa: E402
from feedd.extract import PageInput, try_extract  # noqa: E402
from feedd.feeds import Entry  # noqa: E402

THRESHOLDS = Thresholds.of(DedupConfig())


def _redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"


def _config(folder: Path, feed_urls: list[str], redis_url: str, namespace: str, shard: str) -> Path:
    folder.mkdir(parents=True)
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in feed_urls)
    config = folder / "feedd.toml"
    config.write_text(
        '[storage]\noutput_dir = "out"\ndatabase = "state.sqlite3"\n'
        '[fetch]\nallow_private_networks = true\nmax_per_host = 8\nhost_gap = "0s"\n'
        f'[dedup]\nbackend = "{redis_url}"\nnamespace = "{namespace}"\n'
        f'[cluster]\nshard = "{shard}"\n{feeds}',
        encoding="utf-8",
    )
    return config


def _cluster_pass(root: Path, feed_urls: list[str], redis_url: str, instances: int) -> tuple[float, int, int]:
    """(seconds, documents saved in all, Redis commands) for N instances polling at once."""
    client = redis.Redis.from_url(redis_url)
    before = int(client.info("stats")["total_commands_processed"])
    configs = [
        _config(
            root / f"n{instances}" / f"i{k}", feed_urls, redis_url, f"bench{instances}", f"{k}/{instances}"
        )
        for k in range(1, instances + 1)
    ]
    feedd = shutil.which("feedd") or str(Path(sys.executable).with_name("feedd"))
    started = time.perf_counter()
    processes = [
        subprocess.Popen([feedd, "run-once", "-c", str(c)], stdout=subprocess.DEVNULL) for c in configs
    ]
    for process in processes:
        process.wait()
    seconds = time.perf_counter() - started
    commands = int(client.info("stats")["total_commands_processed"]) - before
    saved = sum(len(list((c.parent / "out").glob("*.txt"))) for c in configs)
    return seconds, saved, commands


def _claim_costs(redis_url: str) -> None:
    index = SharedIndex(redis_url, THRESHOLDS, owner="bench", namespace="claims")
    entry = Entry("k", None, "https://x.example/a", None, "", None, "", "", None)
    candidates = []
    for n, html in enumerate(real_pages()[:200]):
        page = PageInput(entry, html, "text/html", f"https://x.example/{n}")
        article = try_extract(page)
        if hasattr(article, "blocks"):
            candidates.append(Candidate.from_article(article, index.fingerprinter))
    client = redis.Redis.from_url(redis_url)

    async def claim_all() -> None:
        for label, doc_prefix in (("new story", "a"), ("duplicate (same text again)", "b")):
            index.round_trips = 0
            commands = int(client.info("stats")["total_commands_processed"])
            started = time.perf_counter()
            for n, candidate in enumerate(candidates):
                await index.claim(candidate, f"{doc_prefix}{n}")
            elapsed = time.perf_counter() - started
            commands = int(client.info("stats")["total_commands_processed"]) - commands - 1
            print(
                f"  {label:<28} {index.round_trips / len(candidates):5.1f} round trips, "
                f"{commands / len(candidates):5.1f} commands, "
                f"{1000 * elapsed / len(candidates):5.2f} ms per claim ({len(candidates)} real articles)"
            )
        await index.close()

    asyncio.run(claim_all())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=24)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server not found (Debian: apt-get install redis-server)")
    server, feed_urls, pages = serve_corpus(args.feeds, args.copies, args.latency_ms / 1000)
    print(f"corpus: {pages} pages behind {len(feed_urls)} feeds, latency {args.latency_ms:g} ms per response")
    with tempfile.TemporaryDirectory() as tmp:
        redis_process, redis_url = _redis(Path(tmp))
        try:
            print(f"{'instances':>9} {'seconds':>8} {'pages/s':>8} {'saved':>6} {'Redis commands/entry':>21}")
            for instances in (1, 2, 3):
                seconds, saved, commands = _cluster_pass(Path(tmp), feed_urls, redis_url, instances)
                print(
                    f"{instances:9d} {seconds:8.1f} {pages / seconds:8.1f} {saved:6d} {commands / pages:21.1f}"
                )
            print("claims, in-process:")
            _claim_costs(redis_url)
        finally:
            redis_process.terminate()
            server.terminate()


if __name__ == "__main__":
    main()
