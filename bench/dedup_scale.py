"""Benchmark: near-duplicate detection at 100,000 indexed documents.

    python bench/dedup_scale.py [--documents 100000]

Fills a real feedd state database with N fingerprints of synthetic documents (words drawn from
the ECB+ vocabulary at their real frequencies, 150-700 words each), then measures:
- rebuilding the MinHashLSH index from the stored signatures (feedd.dedup.load_index),
- the index's memory (RSS growth of this process while loading),
- per document, for the 982 real ECB+ articles: fingerprint, LSH query, verification against the
  stored shingles in SQLite, and insertion, i.e. what the pipeline does for each new article.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psutil

from feedd.config import DedupConfig
from feedd.dedup import (
    MIN_CONTAINMENT_TO_VERIFY,
    Candidate,
    Fingerprint,
    FingerprintRecord,
    NearDuplicateDetector,
    NearParams,
    Thresholds,
    load_index,
    normalise_text,
    overlap,
)
from feedd.extract import Article, Block
from feedd.state import State

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dedup" / "ecbplus" / "articles.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=100_000)
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"{DATA} not found: the benchmark needs ../shared/data beside the checkout")
    articles = [json.loads(line) for line in DATA.open(encoding="utf-8")]
    counts = Counter(word for a in articles for word in normalise_text(a["text"]).split())
    vocabulary = np.array(list(counts))
    weights = np.array(list(counts.values()), dtype=float)
    weights /= weights.sum()
    rng = np.random.default_rng(7)
    params = NearParams()
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = State(folder / "state.sqlite3", folder / "out", "{seq:03d}_{id}.txt").open()
        fingerprinter = load_index(store.fingerprints, params, EPOCH).fingerprinter
        started = time.perf_counter()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        batch_documents, batch_fingerprints = [], []
        for seq in range(args.documents):
            words = vocabulary[rng.choice(len(vocabulary), size=int(rng.integers(150, 700)), p=weights)]
            record = FingerprintRecord.of(fingerprinter.fingerprint(" ".join(words)))
            doc_id = f"{seq:016x}"
            batch_documents.append(
                (
                    seq,
                    doc_id,
                    f"https://synthetic.example/{seq}",
                    f"h{seq}",
                    "x",
                    "f",
                    str(seq),
                    now,
                    "saved",
                    "{}",
                )
            )
            batch_fingerprints.append((seq, now, record.text, record.shingles, record.minhash))
            if len(batch_documents) == 5000 or seq == args.documents - 1:
                store.db.connection.execute("BEGIN")
                store.db.connection.executemany(
                    "INSERT INTO documents (seq, id, canonical_url, body_hash, path, feed_url, entry_key, saved_at,"
                    " state, manifest_line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    batch_documents,
                )
                store.db.connection.executemany(
                    "INSERT INTO fingerprints VALUES (?, ?, ?, ?, ?)", batch_fingerprints
                )
                store.db.connection.execute("COMMIT")
                batch_documents, batch_fingerprints = [], []
        print(
            f"filled the state with {args.documents} synthetic fingerprints in {time.perf_counter() - started:.0f}s"
        )

        rss_before = process.memory_info().rss
        started = time.perf_counter()
        index = load_index(store.fingerprints, params, EPOCH)
        rebuild = time.perf_counter() - started
        memory = process.memory_info().rss - rss_before
        print(f"rebuild from {len(index)} stored signatures: {rebuild:.1f}s (target <= 10s)")
        print(f"index memory (RSS growth while loading): {memory / 2**20:.0f} MB (target <= 300 MB)")

        defaults = DedupConfig()
        detector = NearDuplicateDetector(index, store.fingerprints, Thresholds.of(defaults))
        articles_as_read = [
            Article(a["title"] or "", None, None, "", "", (Block("paragraph", text=a["text"]),))
            for a in articles
        ]
        started = time.perf_counter()
        found = 0
        for seq, article in enumerate(articles_as_read, start=args.documents):
            candidate = Candidate.from_article(article, fingerprinter)
            if detector.find(candidate).duplicate_of is not None:
                found += 1
                continue
            # What save_document records, without its fsyncs.
            doc_id = f"{seq:016x}"
            store.db.connection.execute(
                "INSERT INTO documents (seq, id, canonical_url, body_hash, path, feed_url, entry_key, saved_at,"
                " state, manifest_line) VALUES (?, ?, ?, ?, 'x', 'f', ?, ?, 'saved', '{}')",
                (seq, doc_id, f"https://ecb.example/{seq}", candidate.body_hash, str(seq), now),
            )
            store.db.connection.execute(
                "INSERT INTO fingerprints VALUES (?, ?, ?, ?, ?)",
                (seq, now, *_columns(candidate.fingerprint)),
            )
            detector.remember(candidate, doc_id, seq)
        per_document = (time.perf_counter() - started) / len(articles) * 1000
        print(
            f"per document with {len(index)} indexed: {per_document:.2f} ms "
            f"(fingerprint + LSH query + verification + insert; target <= 2 ms); {found} ECB+ duplicates found"
        )
        # Untimed: how many candidates the LSH proposed, and how many of them were read as text.
        proposed = read = 0
        for article in articles_as_read:
            fingerprint = Candidate.from_article(article, fingerprinter).fingerprint
            assert fingerprint is not None
            seqs = index.candidates(fingerprint)
            proposed += len(seqs)
            for saved in store.fingerprints.of_documents(seqs):
                share = overlap(fingerprint.shingles, saved.record.shingle_set()).containment
                read += share >= MIN_CONTAINMENT_TO_VERIFY
        print(
            f"LSH candidates per document: {proposed / len(articles):.2f}, of which read as text "
            f"(containment >= {MIN_CONTAINMENT_TO_VERIFY}): {read / len(articles):.2f}"
        )
        store.close()


def _columns(fingerprint: Fingerprint) -> tuple[bytes, bytes, bytes]:
    record = FingerprintRecord.of(fingerprint)
    return record.text, record.shingles, record.minhash


if __name__ == "__main__":
    main()
