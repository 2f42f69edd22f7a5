"""datasketch's MinHashLSH Redis layout, written and unwritten by the shared index itself: with a
claim's other writes, under its fenced lock (feedd.dedup.claim_lock), and without datasketch's
blocking client. tests/dedup/test_shared_index.py checks the layout against datasketch's own query
and remove, so a datasketch that changes it fails there."""

from __future__ import annotations

from typing import cast

import numpy as np
from datasketch import MinHashLSH
from redis.asyncio import Redis

from feedd.dedup.claim_lock import FencedWrites
from feedd.dedup.lsh import band_key


def index(writes: FencedWrites, lsh: MinHashLSH, key: bytes, hashvalues: np.ndarray) -> None:
    """MinHashLSH.insert as writes. datasketch's insertion session would open a client per bucket
    table on every flush: 60 ms per document."""
    bands = [band_key(hashvalues[start:end]) for start, end in lsh.hashranges]
    writes.hset(hash_name(lsh.keys), key, lsh.keys.redis_key(key))
    writes.rpush(lsh.keys.redis_key(key), *bands)
    for band, table in zip(bands, lsh.hashtables, strict=True):
        writes.hset(hash_name(table), band, table.redis_key(band))
        writes.sadd(table.redis_key(band), key)


async def unindex(client: Redis, writes: FencedWrites, lsh: MinHashLSH, doc: bytes) -> None:
    """MinHashLSH.remove as writes: `doc` out of each band's bucket, and a bucket it leaves empty
    out of its table's list of buckets. The buckets are read now, under the same lock."""
    # A document claimed without a fingerprint has no bands: nothing to zip, hence strict=False.
    bands = cast(list[bytes], await client.lrange(lsh.keys.redis_key(doc), 0, -1))
    buckets = [table.redis_key(band) for band, table in zip(bands, lsh.hashtables, strict=False)]
    pipe = client.pipeline(transaction=False)
    for bucket in buckets:
        pipe.smembers(bucket)
    members = cast(list[set[bytes]], await pipe.execute())
    for band, table, bucket, held in zip(bands, lsh.hashtables, buckets, members, strict=False):
        if held - {doc}:
            writes.srem(bucket, doc)
        else:
            writes.hdel(hash_name(table), band)
            writes.delete(bucket)
    writes.hdel(hash_name(lsh.keys), doc)
    writes.delete(lsh.keys.redis_key(doc))


def hash_name(storage: object) -> bytes:
    """The name of the Redis hash a datasketch Redis storage keeps its keys in: its redis_key of
    the empty key (a key is stored under the hash name followed by the key)."""
    return storage.redis_key(b"")  # type: ignore[attr-defined, no-any-return]
