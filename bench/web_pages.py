"""Benchmark: the web view of a 100,000-document state, page by page, through a real server.

    python bench/web_pages.py [--documents 100000] [--feeds 1000] [--drops 10000] [--repeat 20]
                              [--keep FOLDER]

Builds the state the way feedd leaves it, in bulk: the state opened through its own API (schema,
meta), then rows written in large transactions without the per-save fsyncs: one document per
entry, its file in the output folder (the text as feedd renders it: title, link, paragraphs),
its manifest line (ManifestEntry.line) in the table and in manifest.jsonl, its dedup text kept
with the fingerprints; --drops entries dropped as copies of saved documents, each with the
evidence feedd.dedup.compare finds between the two texts; failed entries; feeds with their last
poll, schedule and errors (a tenth failing); a host snapshot. Saves spread over the last 30 days.
Then `feedd web` serves it on loopback and httpx asks each page --repeat times (after one
request that is not counted: the first opens files the system has not cached yet); printed:
median, 95th percentile and worst, in milliseconds (target: every page under 200 ms).
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx

from feedd.dedup import Words, compare
from feedd.output import ManifestEntry
from feedd.state import State

VOCABULARY = (
    "council harbour minister tram budget river school police storm election court bank train museum "
    "hospital farmers festival bridge airport union strike mayor village factory market report rain "
    "flood fire vote law price energy water road coast forest island city north south east west old "
    "new big small early late first last many few said told asked agreed refused opened closed began "
    "ended rose fell grew cut raised lowered built moved found lost"
).split()
TAGS = ("politics", "economy", "sport", "culture", "local", "world", "science", "wire")


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(words)).capitalize() + "."


def feed_url(number: int) -> str:
    return f"https://site-{number % 400}.example/feed-{number}.xml"


def write_config(folder: Path, feeds: int) -> Path:
    lines = ["[storage]", 'output_dir = "out"', 'database = "state.sqlite3"']
    for number in range(feeds):
        tags = ", ".join(f'"{tag}"' for tag in (TAGS[number % len(TAGS)], TAGS[(number // 8) % len(TAGS)]))
        lines += ["[[feeds]]", f'url = "{feed_url(number)}"', f'name = "Feed {number}"', f"tags = [{tags}]"]
    path = folder / "feedd.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_state(folder: Path, documents: int, feeds: int, drops: int) -> dict[str, str]:
    """Fill the state; returns the ids the timed pages name."""
    rng = random.Random(20)
    now = datetime.now(UTC).replace(microsecond=0)
    out = folder / "out"
    state = State(folder / "state.sqlite3", out, "{seq:03d}_{id}.txt").open()
    db = state.db.connection
    texts: dict[int, str] = {}
    doc_rows, entry_rows, fingerprint_rows, manifest_lines = [], [], [], []
    for seq in range(documents):
        feed = rng.randrange(feeds)
        doc_id = f"{seq:016x}"
        saved_at = now - timedelta(seconds=(documents - seq) * 30 * 86400 / documents)
        title = f"{paragraph(rng, 7)[:-1]} {seq}"
        body = "\n\n".join(paragraph(rng, rng.randint(30, 60)) for _ in range(rng.randint(4, 9)))
        url = f"https://site-{feed % 400}.example/story/{seq}"
        text = f"{title}\n\n{url}\n\n{body}"
        relative = f"{seq:03d}_{doc_id}.txt"
        (out / relative).write_text(text, encoding="utf-8")
        manifest = ManifestEntry(
            url=url,
            canonical_url=url,
            title=title,
            published=saved_at - timedelta(minutes=30),
            fetched=saved_at,
            feed=feed_url(feed),
            feed_name=f"Feed {feed}",
            tags=(TAGS[feed % len(TAGS)], TAGS[(feed // 8) % len(TAGS)]),
            guid=f"g{seq}",
            entry_link=url,
            language="en",
            source="page",
            fallback_reason=None,
            body_sha256=f"{seq:064x}",
        )
        line = manifest.line(seq=seq, doc_id=doc_id, file=relative)
        manifest_lines.append(line)
        stamp = saved_at.isoformat(timespec="seconds")
        doc_rows.append((seq, doc_id, url, f"{seq:064x}", relative, feed_url(feed), f"g{seq}", stamp, line))
        entry_rows.append((feed_url(feed), f"g{seq}", url, "saved", doc_id, None, 1, stamp, stamp))
        dedup_text = f"{title}\n{body}"
        if seq >= documents - drops * 3:  # the documents copies are made of: their text is kept
            texts[seq] = dedup_text
            fingerprint_rows.append((seq, stamp, zlib.compress(dedup_text.encode(), 6), b"", b""))
        if len(doc_rows) == 5000 or seq == documents - 1:
            with state.db.transaction():
                db.executemany(
                    "INSERT INTO documents (seq, id, canonical_url, body_hash, path, feed_url, entry_key,"
                    " saved_at, state, manifest_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'saved', ?)",
                    doc_rows,
                )
                db.executemany(
                    "INSERT INTO entries (feed_url, entry_key, link, status, document_id, reason, attempts,"
                    " first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    entry_rows,
                )
                db.executemany("INSERT INTO fingerprints VALUES (?, ?, ?, ?, ?)", fingerprint_rows)
            doc_rows, entry_rows, fingerprint_rows = [], [], []
    with open(out / "manifest.jsonl", "w", encoding="utf-8") as handle:
        handle.write("\n".join(manifest_lines) + "\n")
    with state.db.transaction():
        db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (str(documents),))
    kept_seqs = sorted(texts)
    drop_rows = []
    for number in range(drops):
        kept = rng.choice(kept_seqs)
        paragraphs = texts[kept].split("\n")
        copy = "\n".join([paragraph(rng, 6), *paragraphs[1 : max(2, len(paragraphs) - 2)]])
        evidence = compare(Words.of(copy), Words.of(texts[kept]))
        feed = rng.randrange(feeds)
        seen = (now - timedelta(seconds=(drops - number) * 30 * 86400 / drops)).isoformat(timespec="seconds")
        drop_rows.append(
            (
                feed_url(feed),
                f"d{number}",
                f"https://copy-{feed}.example/{number}",
                "duplicate",
                f"{kept:016x}",
                "near duplicate",
                1,
                seen,
                seen,
                copy.split("\n")[0],
                f"https://copy-{feed}.example/{number}",
                0.6,
                0.9,
                evidence.to_json(),
            )
        )
    failed_rows = [
        (
            feed_url(n % feeds),
            f"f{n}",
            f"https://site.example/failed/{n}",
            "failed",
            None,
            "HTTP 503",
            1 + n % 3,
            (now - timedelta(hours=n % 700)).isoformat(timespec="seconds"),
            (now - timedelta(hours=n % 700)).isoformat(timespec="seconds"),
            None,
            None,
            None,
            None,
            None,
        )
        for n in range(2000)
    ]
    feed_rows, failure_rows = [], []
    for number in range(feeds):
        failing = number % 10 == 3
        polled = (now - timedelta(minutes=number % 15)).isoformat(timespec="seconds")
        feed_rows.append(
            (
                feed_url(number),
                None,
                None,
                polled,
                "failed" if failing else "ok",
                "HTTP 503 Service Unavailable" if failing else None,
                3 if failing else 0,
                (now + timedelta(minutes=number % 15)).isoformat(timespec="seconds"),
                900.0,
                "backing off after 3 consecutive error(s)" if failing else "rhythm: 12.0 new entries/day",
            )
        )
        if failing:
            failure_rows.append((feed_url(number), (now - timedelta(hours=5)).isoformat(timespec="seconds")))
    with state.db.transaction():
        db.executemany(
            "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", drop_rows + failed_rows
        )
        db.executemany("INSERT INTO feeds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", feed_rows)
        db.executemany("INSERT INTO feed_failures VALUES (?, ?)", failure_rows)
    state.hosts.record([], now)
    pair = drop_rows[-1]
    state.close()
    return {"kept": pair[4], "feed": pair[0], "link": pair[2], "middle": f"{documents // 2:016x}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=1_000)
    parser.add_argument("--drops", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build the state here and keep it (default: a temp folder)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="feedd-web-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    config = write_config(folder, args.feeds)
    ids = build_state(folder, args.documents, args.feeds, args.drops)
    print(
        f"built a state of {args.documents:,} documents, {args.drops:,} drops, 2,000 failed entries and "
        f"{args.feeds:,} feeds in {time.perf_counter() - started:.0f} s ({folder})"
    )
    pair = urlencode({"of": ids["kept"], "feed": ids["feed"], "link": ids["link"]})
    pages = [
        "/",
        "/?days=14",
        "/feeds",
        "/feeds?sort=saved&order=desc",
        "/feeds?state=failing",
        "/feeds?tag=wire&page=2",
        "/documents",
        "/documents?page=1000",
        "/documents?title=harbour+bridge",
        # Searches that match nothing read every row: the worst case.
        "/documents?title=no+such+words",
        "/documents?tag=nosuchtag",
        "/documents?tag=science",
        f"/documents?feed={feed_url(7)}",
        "/documents?since=" + (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        # A range of many days: every document in it, read in seq order up to the page's end.
        "/documents?since=2020-01-01&until=2026-12-31",
        "/documents?tag=a&title=b",
        "/documents?tag=science&title=harbour+bridge",
        "/documents?title=e&page=1999",
        f"/documents/{ids['middle']}",
        f"/documents/{ids['kept']}",
        "/duplicates",
        "/duplicates?page=150",
        f"/duplicates/pair?{pair}",
        "/api/overview",
        "/api/feeds",
        "/api/documents?title=storm",
        "/api/duplicates",
        f"/api/duplicates/pair?{pair}",
    ]
    port = free_port()
    web = subprocess.Popen(
        [sys.executable, "-m", "feedd", "web", "-c", str(config), "-l", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    client.get("/static/style.css")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"{'page':<58} {'median':>7} {'p95':>7} {'worst':>7}  (ms, {args.repeat} requests each)")
            slowest = 0.0
            for page in pages:
                client.get(page).raise_for_status()
                times = []
                for _ in range(args.repeat):
                    begun = time.perf_counter()
                    response = client.get(page)
                    times.append((time.perf_counter() - begun) * 1000)
                    response.raise_for_status()
                times.sort()
                p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
                slowest = max(slowest, times[-1])
                shown = page if len(page) <= 58 else page[:55] + "..."
                print(f"{shown:<58} {statistics.median(times):7.1f} {p95:7.1f} {times[-1]:7.1f}")
            disk = client.get("/api/overview").json()["disk"]
            print(f"slowest request: {slowest:.0f} ms (target: every page under 200 ms); disk figure: {disk}")
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(timeout=30)
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
