"""The duplicate index in Redis, shared by several feedd instances that split one feed list.

Every instance asks the same index before it saves: same canonical URL, same normalised body, or
a near duplicate (datasketch's MinHashLSH with Redis storage for candidates, then their
verification, feedd.dedup.near.Verifier, on the shingle sets and texts kept in Redis). Asking and
recording the answer is one step under a Redis lock (`claim`), so two instances given copies of
one story in the same instant save exactly one of them.

Keys, under the namespace (default "feedd"):
- `{ns}:url:<canonical URL>`, `{ns}:body:<body hash>`: the document id that claimed them;
- `{ns}:doc:<id>`: its shingles, its dedup text (compressed), who claimed it and when;
- `{ns}:claimed`: a sorted set of document ids by claim time: the time window is enforced by
  deleting what falls out of it (datasketch has no expiry of its own);
- `{ns}:lsh:docs`, `{ns}:lsh:leads`: the two MinHashLSH indexes (see feedd.dedup.lsh);
- `{ns}:params`: the fingerprint parameters every instance must share;
- `{ns}:lock`: the claim lock.

A claim is keyed by the document id, so an instance that claimed a story and crashed before
saving it finds its own claim on the next pass and saves it then.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast
from urllib.parse import urlsplit

import numpy as np
import redis
from datasketch import MinHashLSH
from redis.typing import EncodableT, FieldT

from feedd.dedup.exact import ExactDetector, SavedDocuments
from feedd.dedup.fingerprint import (
    Fingerprint,
    Fingerprinter,
    FingerprintRecord,
    NearParams,
    shingles_from_record,
)
from feedd.dedup.lsh import band_key, fingerprinter
from feedd.dedup.near import SavedFingerprint, Thresholds, decide
from feedd.dedup.records import MIN_WORDS_FOR_BODY_MATCH, Candidate, Verdict
from feedd.errors import SharedIndexError

#: How long one claim may hold the lock before Redis frees it (a crashed holder).
_LOCK_TIMEOUT = 10.0
#: How long a claim waits for the lock before it fails (and its entry waits for a later pass).
_LOCK_WAIT = 30.0
#: After Redis fails to answer, how long claims fail at once before it is asked again.
_RETRY_AFTER = 10.0


class SharedIndex:
    """Claims on documents, decided against every instance's documents within the window: the
    dedup backend (feedd.dedup.backend.DedupBackend) of instances that share one Redis."""

    def __init__(
        self,
        url: str,
        thresholds: Thresholds,
        *,
        owner: str,
        saved: SavedDocuments | None = None,
        namespace: str = "feedd",
        params: NearParams | None = None,
    ) -> None:
        #: This instance's identity (kept in its state): a claim of its own, left by a crash
        #: before the save, is its to finish; the same document id claimed by another instance
        #: (two feeds of one canonical URL) is a duplicate.
        self.owner = owner
        self.params = params or NearParams()
        self.fingerprinter: Fingerprinter = fingerprinter(self.params)
        # This instance's own saves answer first, sparing Redis the stories it saved itself.
        self._saved_here = ExactDetector(saved) if saved is not None else None
        self._thresholds = thresholds
        self._ns = namespace
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        location = urlsplit(url)
        storage = {
            "type": "redis",
            "redis": {
                "host": location.hostname or "localhost",
                "port": location.port or 6379,
                "db": int(location.path.strip("/") or 0),
                "password": location.password,
                "socket_timeout": 5,
                "socket_connect_timeout": 5,
            },
        }
        p = self.params
        try:
            # Keys are document ids as bytes, stored as they are (prepickle=False), so the
            # buckets this module reads directly hold plain ids.
            self.documents = MinHashLSH(
                num_perm=p.num_perm,
                params=(p.bands, p.rows),
                storage_config={**storage, "basename": f"{namespace}:lsh:docs".encode()},
                prepickle=False,
            )
            self.leads = MinHashLSH(
                num_perm=p.num_perm,
                params=(p.lead_bands, p.lead_rows),
                storage_config={**storage, "basename": f"{namespace}:lsh:leads".encode()},
                prepickle=False,
            )
        except redis.RedisError as exc:
            raise SharedIndexError(f"shared dedup index at {redacted(url)}: {exc}") from None
        #: Redis round trips made, for the benchmark.
        self.round_trips = 0
        self._params_checked = False
        #: After a failure, claims fail at once until then (monotonic time), instead of each
        #: waiting for its own connection timeout.
        self._down_until = 0.0
        self._down_reason = ""

    def _check_params(self) -> None:
        key = f"{self._ns}:params"
        recorded = self.params.recorded()
        self._redis.set(key, recorded, nx=True)
        stored = cast(bytes | None, self._redis.get(key))
        if stored is not None and stored.decode() != recorded:
            raise SharedIndexError(
                f"the shared dedup index {key} was built with other fingerprint parameters (another "
                f"feedd version?): upgrade every instance, and give [dedup] namespace a new name"
            )

    def check(self, candidate: Candidate, document_id: str) -> Verdict:
        """This instance's exact duplicates, then the claim across instances (which records the
        candidate as `document_id`'s when it is to be kept)."""
        if self._saved_here is not None:
            verdict = self._saved_here.find(candidate)
            if verdict.duplicate_of is not None:
                return verdict
        return self.claim(candidate, document_id)

    def commit(self, candidate: Candidate, document_id: str, seq: int) -> None:
        """Nothing to do: the claim recorded the document, and the state indexes what is saved here."""

    def claim(self, candidate: Candidate, document_id: str) -> Verdict:
        """The saved document `candidate` duplicates; else record it as `document_id`'s (the
        verdict then names the nearest independent write-up, if any). Atomic across instances.
        Raises SharedIndexError when Redis cannot answer."""
        if time.monotonic() < self._down_until:
            raise SharedIndexError(self._down_reason)
        try:
            if not self._params_checked:
                self._check_params()
                self._params_checked = True
            with self._redis.lock(f"{self._ns}:lock", timeout=_LOCK_TIMEOUT, blocking_timeout=_LOCK_WAIT):
                self.round_trips += 2  # taking and releasing the lock
                verdict = self._find(candidate, document_id)
                if verdict.duplicate_of is None:
                    self._record(candidate, document_id)
                return verdict
        except redis.exceptions.LockError as exc:
            raise SharedIndexError(f"shared dedup index: lock not obtained: {exc}") from None
        except redis.RedisError as exc:
            self._down_reason = f"shared dedup index unavailable: {exc}"
            self._down_until = time.monotonic() + _RETRY_AFTER
            raise SharedIndexError(self._down_reason) from None

    def _find(self, candidate: Candidate, document_id: str) -> Verdict:
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(self._url_key(candidate.canonical_url) if candidate.canonical_url else self._ns)
        pipe.get(self._body_key(candidate.body_hash))
        by_url, by_body = pipe.execute()
        self.round_trips += 1
        own = document_id.encode()
        mine = self._owned_by_me(own) if own in (by_url, by_body) else False
        # A claim of this instance's own under this id is a save a crash interrupted: not a duplicate.
        claims = _Claims(
            by_url=None if by_url is None or (by_url == own and mine) else by_url.decode(),
            by_body=None if by_body is None or (by_body == own and mine) else by_body.decode(),
        )
        exact = ExactDetector(claims).find(candidate)
        if exact.duplicate_of is not None:
            return exact
        fingerprint = candidate.fingerprint
        if fingerprint is None or len(fingerprint.shingles) == 0:
            return Verdict()
        found = self._candidates(fingerprint)
        if own in found and (mine or self._owned_by_me(own)):
            found.discard(own)
        if not found:
            return Verdict()
        ids = sorted(found)
        pipe = self._redis.pipeline(transaction=False)
        for doc in ids:
            pipe.hmget(self._doc_key(doc), ["shingles", "text"])
        rows = pipe.execute()
        self.round_trips += 1
        stored = (
            SavedFingerprint(doc.decode(), shingles_from_record(shingles), text)
            for doc, (shingles, text) in zip(ids, rows, strict=True)
            if shingles
        )
        return decide(fingerprint, stored, self._thresholds)

    def _owned_by_me(self, doc: bytes) -> bool:
        self.round_trips += 1
        return self._redis.hget(self._doc_key(doc), "owner") == self.owner.encode()

    def _candidates(self, fingerprint: Fingerprint) -> set[bytes]:
        """Document ids from both LSH indexes, in one pipelined round trip."""
        queries = [(self.documents, s) for s in (fingerprint.minhash, *fingerprint.window_minhashes)]
        queries.append((self.leads, fingerprint.minhash))
        pipe = self._redis.pipeline(transaction=False)
        for lsh, sketch in queries:
            # datasketch's own query asks Redis once per band; its band keys and storage names
            # are used here to ask for every band of every sketch at once.
            for (start, end), table in zip(lsh.hashranges, lsh.hashtables, strict=True):
                pipe.smembers(table.redis_key(band_key(sketch[start:end])))
        found: set[bytes] = set()
        for members in pipe.execute():
            found.update(members)
        self.round_trips += 1
        return found

    def _record(self, candidate: Candidate, document_id: str) -> None:
        now = time.time()
        pipe = self._redis.pipeline(transaction=True)
        if candidate.canonical_url:
            pipe.set(self._url_key(candidate.canonical_url), document_id)
        if candidate.body_words >= MIN_WORDS_FOR_BODY_MATCH:
            pipe.set(self._body_key(candidate.body_hash), document_id)
        fields: dict[FieldT, EncodableT] = {
            "claimed": now,
            "owner": self.owner,
            "url": candidate.canonical_url,
            "body": candidate.body_hash,
        }
        if candidate.fingerprint is not None:
            record = FingerprintRecord.of(candidate.fingerprint)
            fields["shingles"] = record.shingles
            fields["text"] = record.text
        key = document_id.encode()
        fingerprint = candidate.fingerprint
        if fingerprint is not None and not self.documents.keys.has_key(key):
            self._index(pipe, self.documents, key, fingerprint.minhash)
            self._index(pipe, self.leads, key, fingerprint.lead_minhash)
        pipe.hset(self._doc_key(key), mapping=fields)
        pipe.zadd(f"{self._ns}:claimed", {document_id: now})
        pipe.execute()
        self.round_trips += 2

    @staticmethod
    def _index(pipe: redis.client.Pipeline, lsh: MinHashLSH, key: bytes, hashvalues: np.ndarray) -> None:
        """MinHashLSH.insert, written into `pipe` in datasketch's own Redis layout (so its query
        and remove work on it). datasketch's insertion session would open a client per bucket
        table on every flush: 60 ms per document. tests/dedup/test_shared_index.py checks the layout."""
        bands = [band_key(hashvalues[start:end]) for start, end in lsh.hashranges]
        pipe.hset(_hash_name(lsh.keys), key, lsh.keys.redis_key(key))
        pipe.rpush(lsh.keys.redis_key(key), *bands)
        for band, table in zip(bands, lsh.hashtables, strict=True):
            pipe.hset(_hash_name(table), band, table.redis_key(band))
            pipe.sadd(table.redis_key(band), key)

    def evict(self, older_than: datetime) -> int:
        """Forget documents claimed before `older_than`: the dedup window."""
        try:
            with self._redis.lock(f"{self._ns}:lock", timeout=_LOCK_TIMEOUT, blocking_timeout=_LOCK_WAIT):
                expired = cast(
                    list[bytes],
                    self._redis.zrangebyscore(f"{self._ns}:claimed", "-inf", older_than.timestamp()),
                )
                self._forget(expired)
                return len(expired)
        except redis.RedisError as exc:
            raise SharedIndexError(f"shared dedup index unavailable: {exc}") from None

    def _forget(self, ids: Iterable[bytes]) -> None:
        for doc in ids:
            fields = cast(list[bytes | None], self._redis.hmget(self._doc_key(doc), ["url", "body"]))
            if self.documents.keys.has_key(doc):
                self.documents.remove(doc)
                self.leads.remove(doc)
            pipe = self._redis.pipeline(transaction=True)
            url, body = (value.decode() if value else "" for value in fields)
            if url:
                pipe.delete(self._url_key(url))
            if body:
                pipe.delete(self._body_key(body))
            pipe.delete(self._doc_key(doc))
            pipe.zrem(f"{self._ns}:claimed", doc)
            pipe.execute()

    def close(self) -> None:
        self._redis.close()

    def _url_key(self, url: str) -> str:
        return f"{self._ns}:url:{url}"

    def _body_key(self, body_hash: str) -> str:
        return f"{self._ns}:body:{body_hash}"

    def _doc_key(self, doc: bytes) -> bytes:
        return f"{self._ns}:doc:".encode() + doc


@dataclass(frozen=True, slots=True)
class _Claims:
    """The ids that claimed a candidate's URL and body in Redis, read in one round trip, as the
    lookups exact detection asks for (feedd.dedup.exact.SavedDocuments)."""

    by_url: str | None
    by_body: str | None

    def document_id_by_url(self, canonical_url: str) -> str | None:
        return self.by_url

    def document_id_by_body_hash(self, body_hash: str) -> str | None:
        return self.by_body


def _hash_name(storage: object) -> bytes:
    """The name of the Redis hash a datasketch Redis storage keeps its keys in: its redis_key of
    the empty key. This leans on datasketch's layout (a key is stored under the hash name followed
    by the key), as _index does; tests/dedup/test_shared_index.py checks the layout against
    datasketch's own query and remove, so a datasketch that changes it fails there."""
    return storage.redis_key(b"")  # type: ignore[attr-defined, no-any-return]


def check_reachable(url: str) -> str | None:
    """Why the Redis at `url` does not answer, or None when it does."""
    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    finally:
        client.close()
    return None


def redacted(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()
