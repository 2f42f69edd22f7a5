"""Benchmark: memory over a long run of extract + render, to show it stays flat.

    python bench/extraction_memory.py [--pages 10000]

Extracts and renders AEB's and Fundus's real pages over and over in one process, as a
long-running extraction worker does, and prints the process's RSS every 1,000 pages. Flat means
the RSS after the first round of distinct pages stops growing: caches are bounded and nothing is
kept per page. Needs ../shared/data beside the checkout.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time

import psutil
from extraction_aeb import AEB, page_alone

from feedd.config import load_site_rules
from feedd.extract import ExtractionFailure, try_extract
from feedd.output.format import render

FUNDUS = AEB.parent / "fundus"


def _pages() -> list[tuple[bytes, str]]:
    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    pages = [
        (gzip.decompress((AEB / "html" / f"{key}.html.gz").read_bytes()), item["url"])
        for key, item in truth.items()
    ]
    data = FUNDUS / "tests" / "resources" / "parser" / "test_data"
    for pair in json.loads((FUNDUS / "INDEX_pairs.json").read_text()):
        pages.append((gzip.decompress((data / pair["html"]).read_bytes()), pair["url"]))
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10_000)
    args = parser.parse_args()
    if not AEB.exists() or not FUNDUS.exists():
        raise SystemExit("../shared/data/extraction not found: the benchmark needs it beside the checkout")
    pages = _pages()
    rules = load_site_rules()
    process = psutil.Process()
    print(f"{len(pages)} distinct real pages, extracted and rendered {args.pages} times in one process")
    print(f"{'pages':>7} {'RSS MB':>8} {'pages/s':>8}")
    started = time.perf_counter()
    readings = []
    for done in range(1, args.pages + 1):
        html, url = pages[(done - 1) % len(pages)]
        article = try_extract(page_alone(html, url, "text/html; charset=utf-8", rules.for_url(url)))
        if not isinstance(article, ExtractionFailure):
            render(article)
        if done % 1000 == 0:
            rss = process.memory_info().rss / 2**20
            readings.append(rss)
            print(f"{done:7d} {rss:8.0f} {done / (time.perf_counter() - started):8.1f}")
    if len(readings) >= 3:
        print(f"growth from page 2,000 to page {args.pages:,}: {readings[-1] - readings[1]:+.0f} MB")


if __name__ == "__main__":
    main()
