"""The state database's tables, and the statements that bring an older database up to date.

The schema is a promise to every existing state: tables and columns are only ever added, by a
migration that raises SCHEMA_VERSION.
"""

from __future__ import annotations

SCHEMA_VERSION = 9

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    last_polled TEXT,
    last_result TEXT,
    last_error TEXT,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    next_poll TEXT,
    interval REAL,
    interval_reason TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    canonical_url TEXT UNIQUE,
    body_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    feed_url TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'saved')),
    pending_text TEXT,
    manifest_line TEXT NOT NULL,
    nearest TEXT
);
CREATE INDEX IF NOT EXISTS documents_body_hash ON documents (body_hash);
CREATE INDEX IF NOT EXISTS documents_pending ON documents (state) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS documents_path ON documents (path);
CREATE INDEX IF NOT EXISTS documents_saved_at ON documents (saved_at);
CREATE TABLE IF NOT EXISTS entries (
    feed_url TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    link TEXT,
    status TEXT NOT NULL CHECK (status IN ('saved', 'duplicate', 'failed')),
    document_id TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    title TEXT,
    canonical_url TEXT,
    jaccard REAL,
    containment REAL,
    evidence TEXT,
    PRIMARY KEY (feed_url, entry_key)
);
CREATE INDEX IF NOT EXISTS entries_status_seen ON entries (status, last_seen);
CREATE INDEX IF NOT EXISTS entries_feed_status ON entries (feed_url, status);
CREATE INDEX IF NOT EXISTS entries_link ON entries (link);
CREATE TABLE IF NOT EXISTS fingerprints (
    seq INTEGER PRIMARY KEY,
    saved_at TEXT NOT NULL,
    text BLOB NOT NULL,
    shingles BLOB NOT NULL,
    minhash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS fingerprints_saved_at ON fingerprints (saved_at);
CREATE TABLE IF NOT EXISTS dropped_texts (
    feed_url TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    dropped_at TEXT NOT NULL,
    text BLOB NOT NULL,
    PRIMARY KEY (feed_url, entry_key)
);
CREATE INDEX IF NOT EXISTS dropped_texts_dropped_at ON dropped_texts (dropped_at);
CREATE TABLE IF NOT EXISTS waiting (
    feed_url TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    body_words INTEGER NOT NULL,
    document TEXT NOT NULL,
    fingerprint_text BLOB,
    fingerprint_shingles BLOB,
    fingerprint_minhash BLOB,
    PRIMARY KEY (feed_url, entry_key)
);
CREATE TABLE IF NOT EXISTS robots (
    origin TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS extensions (
    document_id TEXT NOT NULL,
    extends_id TEXT NOT NULL,
    jaccard REAL,
    containment REAL,
    evidence TEXT,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (document_id, extends_id)
);
CREATE INDEX IF NOT EXISTS extensions_extends ON extensions (extends_id);
CREATE TABLE IF NOT EXISTS feed_failures (
    url TEXT PRIMARY KEY,
    since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hosts (
    host TEXT PRIMARY KEY,
    queued INTEGER NOT NULL,
    in_flight INTEGER NOT NULL,
    next_allowed TEXT NOT NULL,
    gap REAL NOT NULL,
    started INTEGER NOT NULL,
    waited REAL NOT NULL,
    as_of TEXT NOT NULL
);
"""
# Statements that bring a database of schema version N-1 to N.
MIGRATIONS: dict[int, list[str]] = {
    2: [
        "ALTER TABLE entries ADD COLUMN title TEXT",
        "ALTER TABLE entries ADD COLUMN canonical_url TEXT",
        "ALTER TABLE entries ADD COLUMN jaccard REAL",
        "ALTER TABLE entries ADD COLUMN containment REAL",
    ],
    3: [
        "ALTER TABLE feeds ADD COLUMN next_poll TEXT",
        "ALTER TABLE feeds ADD COLUMN interval REAL",
        "ALTER TABLE feeds ADD COLUMN interval_reason TEXT",
    ],
    4: [
        "ALTER TABLE entries ADD COLUMN evidence TEXT",
        "ALTER TABLE documents ADD COLUMN nearest TEXT",
    ],
    # The hosts table is new in 5; SCHEMA, run before the migrations, created it.
    5: [],
    # The extensions table is new in 6 (likewise).
    6: [],
    # Feeds are named by their URL with its secrets masked (feedd.config.redaction): rows kept
    # under a URL as written move to that name, so that no secret stays in the state and a
    # feed's history follows it. Where a row already exists under the masked name (written by
    # a feedd that masked before this migration), it is the newer one and stays. The functions
    # feedd_redacted and feedd_redacted_json are registered on the connection (Database).
    7: [
        "DELETE FROM feeds WHERE url != feedd_redacted(url)"
        " AND EXISTS (SELECT 1 FROM feeds f WHERE f.url = feedd_redacted(feeds.url))",
        "UPDATE OR REPLACE feeds SET url = feedd_redacted(url) WHERE url != feedd_redacted(url)",
        "DELETE FROM entries WHERE feed_url != feedd_redacted(feed_url) AND EXISTS (SELECT 1 FROM"
        " entries e WHERE e.feed_url = feedd_redacted(entries.feed_url) AND e.entry_key = entries.entry_key)",
        "UPDATE OR REPLACE entries SET feed_url = feedd_redacted(feed_url)"
        " WHERE feed_url != feedd_redacted(feed_url)",
        "UPDATE entries SET link = feedd_redacted(link) WHERE link != feedd_redacted(link)",
        "UPDATE documents SET feed_url = feedd_redacted(feed_url) WHERE feed_url != feedd_redacted(feed_url)",
        "UPDATE documents SET manifest_line = feedd_redacted_json(manifest_line)"
        " WHERE manifest_line != feedd_redacted_json(manifest_line)",
        "DELETE FROM waiting WHERE feed_url != feedd_redacted(feed_url) AND EXISTS (SELECT 1 FROM"
        " waiting w WHERE w.feed_url = feedd_redacted(waiting.feed_url) AND w.entry_key = waiting.entry_key)",
        "UPDATE OR REPLACE waiting SET feed_url = feedd_redacted(feed_url)"
        " WHERE feed_url != feedd_redacted(feed_url)",
        "UPDATE waiting SET document = feedd_redacted_json(document)"
        " WHERE document != feedd_redacted_json(document)",
    ],
    # The feed_failures table (when each failing feed's current run of errors began, for the
    # web view's "failing since") is new in 8; SCHEMA created it, and the indexes that keep
    # `feedd status`, `explain` and the web view fast on 100,000 documents: entries counted per
    # feed without reading the rows (feed_url, status), a document found by its file or its
    # entry's link without a scan (documents.path, entries.link), the documents saved in the
    # last hours (documents.saved_at). A run's start is written at its first error only: a feed
    # failing at the upgrade has none ("failing since" unknown) until a poll succeeds.
    8: [],
    # The dropped_texts table (what an entry dropped as a near duplicate said, for the dedup
    # window) is new in 9; SCHEMA created it. Entries dropped before the upgrade have none.
    9: [],
}
