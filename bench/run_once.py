"""Benchmark: `feedd run-once` against a plain sequential loop on the same loopback corpus.

    python bench/run_once.py [--feeds 24] [--copies 3] [--latency-ms 0]

Prints pages/s for both, their ratio, and peak memory (RSS of feedd's main process, PSS of its
whole process tree, sampled every 50 ms). Needs ../shared/data beside the checkout.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tempfile
import time
from pathlib import Path

import feedparser
import httpx
import trafilatura
from datasketch import MinHash

sys.path.insert(0, str(Path(__file__).parent))
import measure  # noqa: E402

from corpus import serve_corpus  # noqa: E402


def sequential_loop(feed_urls: list[str], output: Path) -> int:
    """The naive baseline: one feed, then one page after another, nothing concurrent."""
    output.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    pages = 0
    with httpx.Client(timeout=30) as client:
        for feed_url in feed_urls:
            parsed = feedparser.parse(client.get(feed_url).content)
            for entry in parsed.entries:
                html = client.get(entry.link).text
                pages += 1
                naive_page(html, entry.link, pages, seen, output)
    return pages


def naive_page(html: str, link: str, number: int, seen: set[str], output: Path) -> None:
    """What the naive loop does with one page: extract, sketch, drop exact copies, save."""
    text = trafilatura.extract(html, url=link) or ""
    words = re.findall(r"\w+", text.lower())
    signature = MinHash(num_perm=128)
    signature.update_batch(" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4)))
    digest = hashlib.sha256(text.encode()).hexdigest()
    if digest not in seen:
        seen.add(digest)
        (output / f"{number:05d}.txt").write_text(text, encoding="utf-8")


def run_feedd(feed_urls: list[str], folder: Path) -> tuple[float, int, int, str]:
    """Run the real CLI; return seconds, peak RSS of the main process, peak PSS of the tree."""
    config = folder / "feedd.toml"
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n' for url in feed_urls)
    config.write_text(
        f'[storage]\noutput_dir = "out"\ndatabase = "state.sqlite3"\n'
        # One loopback host serves every page: politeness (host_gap) would measure only itself.
        f'[fetch]\nallow_private_networks = true\nmax_per_host = 8\nhost_gap = "0s"\n{feeds}',
        encoding="utf-8",
    )
    measured = measure.run_once(config)
    return measured.seconds, measured.peak_main, measured.peak_tree, measured.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=24)
    parser.add_argument("--copies", type=int, default=3, help="URLs per real page (>= 1000 pages in all)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="server delay per response")
    args = parser.parse_args()
    server, feed_urls, pages = serve_corpus(args.feeds, args.copies, args.latency_ms / 1000)
    print(f"corpus: {pages} pages behind {len(feed_urls)} feeds, latency {args.latency_ms:g} ms per response")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            seconds, peak_main, peak_tree, summary = run_feedd(feed_urls, Path(tmp))
            print(f"feedd run-once: {summary}")
            started = time.perf_counter()
            baseline_pages = sequential_loop(feed_urls, Path(tmp) / "baseline")
            baseline_seconds = time.perf_counter() - started
    finally:
        server.terminate()
    feedd_rate = pages / seconds
    baseline_rate = baseline_pages / baseline_seconds
    print(
        f"sequential loop : {baseline_rate:7.1f} pages/s ({baseline_pages} pages in {baseline_seconds:.1f}s)"
    )
    print(f"feedd run-once  : {feedd_rate:7.1f} pages/s ({pages} pages in {seconds:.1f}s)")
    print(f"ratio           : {feedd_rate / baseline_rate:7.2f}x")
    print(
        f"peak memory     : main process RSS {peak_main / 2**20:.0f} MB, "
        f"process tree PSS {peak_tree / 2**20:.0f} MB"
    )


if __name__ == "__main__":
    main()
