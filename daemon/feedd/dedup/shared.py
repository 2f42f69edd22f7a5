"""The duplicate index in Redis, shared by several feedd instances that split one feed list.

Every instance asks the same index before it saves: same canonical URL, same normalised body, or
a near duplicate (datasketch's MinHashLSH with Redis storage for candidates, then their
verification, feedd.dedup.near.Verifier, on the shingle sets and texts kept in Redis). Asking and
recording the answer is one step under a fenced Redis lock (`claim`, feedd.dedup.claim_lock), so
two instances given copies of one story in the same instant save exactly one of them, even when
one of them stalls past the lock's lifetime.

Every Redis call is made with redis.asyncio, so the event loop goes on polling and fetching while
a claim waits for Redis or for the lock; each call is still bounded (a socket timeout, no
retries, a bounded wait for the lock), so that a stalled Redis makes documents wait, not the
pass. datasketch's MinHashLSH objects only name the keys (its layout): its own client is never
used, as its calls block.

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
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import redis
from datasketch import MinHashLSH
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.typing import EncodableT

from feedd.config import redacted_url
from feedd.dedup.claim_lock import ClaimLock, FencedWrites
from feedd.dedup.exact import ExactDetector, SavedDocuments
from feedd.dedup.fingerprint import (
    Fingerprint,
    Fingerprinter,
    FingerprintRecord,
    NearParams,
    shingles_from_record,
    text_from_record,
)
from feedd.dedup.lsh import band_key, fingerprinter
from feedd.dedup.lsh_layout import hash_name, index, unindex
from feedd.dedup.near import SavedFingerprint, Thresholds, decide
from feedd.dedup.records import MIN_WORDS_FOR_BODY_MATCH, Candidate, Verdict
from feedd.errors import SharedIndexError

#: How long one claim may hold the lock before Redis frees it (a crashed or stalled holder).
_LOCK_TIMEOUT = 10.0
#: How long a claim waits for the lock before it fails (and its entry waits for a later pass):
#: long enough for a crashed holder's lock to run out.
_LOCK_WAIT = 10.0
#: How often a claim whose holder stalled past the lock's lifetime decides again before it fails.
_CLAIM_ATTEMPTS = 3
#: How long one Redis call, or connecting, may take.
_SOCKET_TIMEOUT = 5.0
#: How many LSH buckets one SUNION reads.
_BUCKETS_PER_UNION = 1000
#: How many documents one hold of the lock forgets (about 3 ms each on a local Redis).
_EVICT_BATCH = 200
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
        # Built by redis-py from the whole URL, so TLS (rediss://), a username and unix sockets
        # work. Connections are made on first use, on the loop that uses them.
        self._pool = _async_pool(url)
        self._redis = aioredis.Redis(connection_pool=self._pool)
        self._lock = ClaimLock(self._redis, f"{namespace}:lock", lifetime=_LOCK_TIMEOUT, wait=_LOCK_WAIT)
        # datasketch's storage wants a blocking client: given one on the same URL (so its own
        # query and remove see this index, as the tests check), which feedd never calls.
        self._datasketch_pool = _connection_pool(url)
        storage = {"type": "redis", "redis": {"connection_pool": self._datasketch_pool}}
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
            raise SharedIndexError(f"shared dedup index at {redacted_url(url)}: {exc}") from None
        #: Redis round trips made, for the benchmark.
        self.round_trips = 0
        self._params_checked = False
        #: After a failure, claims fail at once until then (monotonic time), instead of each
        #: waiting for its own connection timeout.
        self._down_until = 0.0
        self._down_reason = ""

    async def _check_params(self) -> None:
        key = f"{self._ns}:params"
        recorded = self.params.recorded()
        await self._redis.set(key, recorded, nx=True)
        stored = cast(bytes | None, await self._redis.get(key))
        if stored is not None and _text(stored, key) != recorded:
            raise SharedIndexError(
                f"the shared dedup index {key} was built with other fingerprint parameters (another "
                f"feedd version?): upgrade every instance, and give [dedup] namespace a new name"
            )

    async def check(self, candidate: Candidate, document_id: str) -> Verdict:
        """This instance's exact duplicates, then the claim across instances (which records the
        candidate as `document_id`'s when it is to be kept)."""
        if self._saved_here is not None:
            verdict = self._saved_here.find(candidate)
            if verdict.duplicate_of is not None:
                return verdict
        return await self.claim(candidate, document_id)

    async def commit(self, candidate: Candidate, document_id: str, seq: int) -> None:
        """Nothing to do: the claim recorded the document, and the state indexes what is saved here."""

    async def claim(self, candidate: Candidate, document_id: str) -> Verdict:
        """The saved document `candidate` duplicates; else record it as `document_id`'s (the
        verdict then names the nearest independent write-up, if any). Atomic across instances.
        Raises SharedIndexError when Redis cannot answer."""
        if time.monotonic() < self._down_until:
            raise SharedIndexError(self._down_reason)
        try:
            if not self._params_checked:
                await self._check_params()
                self._params_checked = True
            for _ in range(_CLAIM_ATTEMPTS):
                async with self._lock.held() as writes:
                    self.round_trips += 2  # taking and releasing the lock
                    verdict = await self._find(candidate, document_id)
                    if verdict.duplicate_of is not None:
                        return verdict
                    await self._record(writes, candidate, document_id)
                    if await writes.apply():
                        return verdict
                # The lock ran out before the claim was recorded: another instance may have
                # claimed the story meanwhile, so nothing was written and the claim starts over.
            raise SharedIndexError(
                f"shared dedup index: the claim lock ran out {_CLAIM_ATTEMPTS} times before "
                f"the claim was recorded (each claim may hold it {_LOCK_TIMEOUT:g} s)"
            )
        except redis.RedisError as exc:
            self._down_reason = f"shared dedup index unavailable: {exc}"
            self._down_until = time.monotonic() + _RETRY_AFTER
            raise SharedIndexError(self._down_reason) from None

    async def _find(self, candidate: Candidate, document_id: str) -> Verdict:
        url_key = self._url_key(candidate.canonical_url) if candidate.canonical_url else self._ns
        body_key = self._body_key(candidate.body_hash)
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(url_key)
        pipe.get(body_key)
        by_url, by_body = await pipe.execute()
        self.round_trips += 1
        own = document_id.encode()
        mine = await self._owned_by_me(own) if own in (by_url, by_body) else False
        # A claim of this instance's own under this id is a save a crash interrupted: not a duplicate.
        claims = _Claims(
            by_url=None if by_url is None or (by_url == own and mine) else _text(by_url, url_key),
            by_body=None if by_body is None or (by_body == own and mine) else _text(by_body, body_key),
        )
        exact = ExactDetector(claims).find(candidate)
        if exact.duplicate_of is not None:
            return exact
        fingerprint = candidate.fingerprint
        if fingerprint is None or len(fingerprint.shingles) == 0:
            return Verdict()
        found = await self._candidates(fingerprint)
        if own in found and (mine or await self._owned_by_me(own)):
            found.discard(own)
        if not found:
            return Verdict()
        ids = sorted(found)
        pipe = self._redis.pipeline(transaction=False)
        for doc in ids:
            pipe.hmget(self._doc_key(doc), ["shingles", "text"])
        rows = await pipe.execute()
        self.round_trips += 1
        stored = [
            self._saved(doc, shingles, text)
            for doc, (shingles, text) in zip(ids, rows, strict=True)
            if shingles
        ]
        return decide(fingerprint, stored, self._thresholds)

    def _saved(self, doc: bytes, shingles: bytes, text: bytes | None) -> SavedFingerprint:
        """A claimed document's fingerprint as read from Redis; SharedIndexError naming its key
        when the bytes there are not what this module wrote."""
        key = self._doc_key(doc)
        try:
            if text is not None:
                text_from_record(text)
            return SavedFingerprint(_text(doc, key), shingles_from_record(shingles), text)
        except (ValueError, zlib.error) as exc:  # UnicodeDecodeError is a ValueError
            raise _corrupt(key, f"its shingles or text do not decode ({exc})") from None

    async def _owned_by_me(self, doc: bytes) -> bool:
        self.round_trips += 1
        return cast(bytes | None, await self._redis.hget(self._doc_key(doc), "owner")) == self.owner.encode()

    async def _candidates(self, fingerprint: Fingerprint) -> set[bytes]:
        """Document ids from both LSH indexes, in one round trip: unions of every band's bucket of
        every sketch (datasketch's own query asks Redis once per band), a bounded number of keys
        per command so that a long text does not hold Redis up for the other instances."""
        queries = [(self.documents, s) for s in (fingerprint.minhash, *fingerprint.window_minhashes)]
        queries.append((self.leads, fingerprint.minhash))
        buckets = sorted(
            {
                table.redis_key(band_key(sketch[start:end]))
                for lsh, sketch in queries
                for (start, end), table in zip(lsh.hashranges, lsh.hashtables, strict=True)
            }
        )
        pipe = self._redis.pipeline(transaction=False)
        for start in range(0, len(buckets), _BUCKETS_PER_UNION):
            pipe.sunion(buckets[start : start + _BUCKETS_PER_UNION])
        self.round_trips += 1
        return set().union(*cast(list[set[bytes]], await pipe.execute()))

    async def _record(self, writes: FencedWrites, candidate: Candidate, document_id: str) -> None:
        now = time.time()
        if candidate.canonical_url:
            writes.set(self._url_key(candidate.canonical_url), document_id)
        if candidate.body_words >= MIN_WORDS_FOR_BODY_MATCH:
            writes.set(self._body_key(candidate.body_hash), document_id)
        fields: dict[str, EncodableT] = {
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
        if fingerprint is not None and not await self._redis.hexists(hash_name(self.documents.keys), key):
            index(writes, self.documents, key, fingerprint.minhash)
            index(writes, self.leads, key, fingerprint.lead_minhash)
        writes.hset_all(self._doc_key(key), fields)
        writes.zadd(f"{self._ns}:claimed", document_id, now)
        self.round_trips += 2

    async def evict(self, older_than: datetime) -> int:
        """Forget documents claimed before `older_than`: the dedup window. The lock is taken for
        a batch at a time, so that claims (of every instance) wait for one batch, not the whole
        eviction; stops early, the rest left to the next eviction, if the lock runs out."""
        forgotten = 0
        try:
            while True:
                async with self._lock.held() as writes:
                    expired = cast(
                        list[bytes],
                        await self._redis.zrangebyscore(
                            f"{self._ns}:claimed", "-inf", older_than.timestamp(), start=0, num=_EVICT_BATCH
                        ),
                    )
                    for doc in expired:
                        await self._forget(writes, doc)
                        if not await writes.apply():
                            return forgotten
                        forgotten += 1
                if len(expired) < _EVICT_BATCH:
                    return forgotten
        except redis.RedisError as exc:
            raise SharedIndexError(f"shared dedup index unavailable: {exc}") from None

    async def _forget(self, writes: FencedWrites, doc: bytes) -> None:
        """The writes that forget `doc`: its claims, its fingerprint, and its place in both LSH
        indexes (what datasketch's MinHashLSH.remove does, read here and written with the claim's
        other writes, under the lock)."""
        key = self._doc_key(doc)
        url, body = cast(list[bytes | None], await self._redis.hmget(key, ["url", "body"]))
        if url:
            writes.delete(self._url_key(_text(url, key + b" url")))
        if body:
            writes.delete(self._body_key(_text(body, key + b" body")))
        for lsh in (self.documents, self.leads):
            await unindex(self._redis, writes, lsh, doc)
        writes.delete(key)
        writes.zrem(f"{self._ns}:claimed", doc)

    async def close(self) -> None:
        await self._redis.aclose()
        await self._pool.disconnect()
        self._datasketch_pool.disconnect()

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


def _text(value: bytes, key: str | bytes) -> str:
    """A value this module wrote as text, read back from `key`."""
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise _corrupt(key, f"{value[:40]!r} is not UTF-8 text") from None


def _corrupt(key: str | bytes, what: str) -> SharedIndexError:
    shown = key.decode(errors="backslashreplace") if isinstance(key, bytes) else key
    return SharedIndexError(f"shared dedup index: corrupt entry {shown}: {what}")


def _async_pool(url: str) -> aioredis.ConnectionPool:
    """Connections to the Redis at `url` (redis://, rediss:// with its ssl_* parameters, unix://),
    every call bounded and never retried: a claim that fails waits for a later pass."""
    return aioredis.ConnectionPool.from_url(
        url,
        socket_timeout=_SOCKET_TIMEOUT,
        socket_connect_timeout=_SOCKET_TIMEOUT,
        retry=AsyncRetry(NoBackoff(), 0),
    )


def _connection_pool(url: str, timeout: float = _SOCKET_TIMEOUT) -> redis.ConnectionPool:
    """_async_pool's blocking twin, for datasketch and for the reachability check of commands
    that have no event loop."""
    return redis.ConnectionPool.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )


def check_reachable(url: str) -> str | None:
    """Why the Redis at `url` does not answer, or None when it does."""
    client = redis.Redis(connection_pool=_connection_pool(url, timeout=3))
    try:
        client.ping()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    finally:
        client.close()
        client.connection_pool.disconnect()
    return None
