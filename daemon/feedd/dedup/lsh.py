"""The MinHashLSH indexes (datasketch) of the documents saved within the time window: one of whole
documents, one of their leads, kept in memory and queried for the candidates that verification
(feedd.dedup.near) then reads as text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from datasketch.storage import UnorderedStorage

from feedd.dedup.fingerprint import Fingerprint, Fingerprinter, NearParams


def fingerprinter(params: NearParams) -> Fingerprinter:
    """A Fingerprinter whose sketches are datasketch MinHashes of `params`."""
    permutations = MinHash(num_perm=params.num_perm, seed=params.seed, scheme=params.scheme).permutations
    return Fingerprinter(params, (permutations[0], permutations[1]))


def band_key(hashvalues: np.ndarray) -> bytes:
    """The bucket key of one band of a sketch, as MinHashLSH makes it without a hash function (its
    byte-swapped values): tests/dedup/test_shared_index.py checks the Redis layout against
    datasketch's own query and remove."""
    return bytes(np.asarray(hashvalues).byteswap().data)


class _CompactSetStorage(UnorderedStorage):
    """An in-memory bucket table for MinHashLSH, like datasketch's DictSetStorage minus a Python set
    per bucket: nearly every bucket holds one key, and a set costs 216 bytes where the key itself
    costs nothing. A bucket is its one key, or a set of keys."""

    def __init__(self) -> None:
        self._buckets: dict[bytes, Any] = {}

    def lookup(self, band: bytes) -> Any:
        """The bucket as stored (one key or a set), None when empty: the query's fast path."""
        return self._buckets.get(band)

    def keys(self):  # noqa: ANN201 - datasketch's interface
        return self._buckets.keys()

    def get(self, key):  # noqa: ANN001, ANN201
        value = self._buckets.get(key)
        if value is None:
            return set()
        return value if isinstance(value, set) else {value}

    def insert(self, key, *vals, **kwargs):  # noqa: ANN001, ANN003, ANN201
        for val in vals:
            current = self._buckets.get(key)
            if current is None:
                self._buckets[key] = val
            elif isinstance(current, set):
                current.add(val)
            elif current != val:
                self._buckets[key] = {current, val}

    def remove(self, *keys, **kwargs):  # noqa: ANN002, ANN003, ANN201
        for key in keys:
            del self._buckets[key]

    def remove_val(self, key, val, **kwargs):  # noqa: ANN001, ANN003, ANN201
        # An emptied bucket stays (as an empty set) until MinHashLSH removes it itself.
        current = self._buckets.get(key)
        if isinstance(current, set):
            current.discard(val)
            if len(current) == 1:
                self._buckets[key] = next(iter(current))
        elif current == val:
            self._buckets[key] = set()

    def size(self) -> int:
        return len(self._buckets)

    def itemcounts(self, **kwargs):  # noqa: ANN003, ANN201
        return {k: len(v) if isinstance(v, set) else 1 for k, v in self._buckets.items()}

    def has_key(self, key):  # noqa: ANN001, ANN201
        return key in self._buckets


def _lsh(num_perm: int, bands: int, rows: int) -> MinHashLSH:
    lsh = MinHashLSH(num_perm=num_perm, params=(bands, rows))
    lsh.hashtables = [_CompactSetStorage() for _ in range(bands)]
    return lsh


def _query(lsh: MinHashLSH, sketches: list[np.ndarray]) -> set[int]:
    """MinHashLSH.query for several sketches at once: one byte swap for all of them instead of
    one per band per sketch, the query's hot spot. tests/dedup/test_near.py checks it against query."""
    swapped = np.vstack(sketches).byteswap()
    found: set[int] = set()
    for (start, end), table in zip(lsh.hashranges, lsh.hashtables, strict=True):
        band = np.ascontiguousarray(swapped[:, start:end]).tobytes()
        width = len(band) // len(swapped)
        lookup = table.lookup
        for offset in range(0, len(band), width):
            value = lookup(band[offset : offset + width])
            if value is not None:
                if isinstance(value, set):
                    found.update(value)
                else:
                    found.add(value)
    return found


class NearIndex:
    """MinHashLSH indexes of the documents saved within the time window, keyed by seq: one of
    whole documents, one of their leads."""

    def __init__(self, params: NearParams) -> None:
        self.params = params
        self.fingerprinter = fingerprinter(params)
        self.documents = _lsh(params.num_perm, params.bands, params.rows)
        self.leads = _lsh(params.num_perm, params.lead_bands, params.lead_rows)

    def __len__(self) -> int:
        return len(self.documents.keys.keys())

    def add(self, seq: int, minhash: np.ndarray, lead_minhash: np.ndarray) -> None:
        self.add_many([(seq, minhash, lead_minhash)])

    def sketch(self, hashvalues: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=self.params.seed, hashvalues=hashvalues, scheme=self.params.scheme)

    def add_many(self, rows: Iterable[tuple[int, np.ndarray, np.ndarray]]) -> None:
        sketch = self.sketch
        with self.documents.insertion_session() as documents, self.leads.insertion_session() as leads:
            for seq, minhash, lead_minhash in rows:
                documents.insert(seq, sketch(minhash), check_duplication=False)
                leads.insert(seq, sketch(lead_minhash), check_duplication=False)

    def remove_many(self, seqs: Iterable[int]) -> None:
        with self.documents.deletion_session() as documents, self.leads.deletion_session() as leads:
            for seq in seqs:
                if self.documents.keys.has_key(seq):
                    documents.remove(seq)
                    leads.remove(seq)

    def candidates(self, fingerprint: Fingerprint) -> set[int]:
        """Seqs of indexed documents that may be near-duplicates of `fingerprint`: documents
        like it or like one of its windows, and documents whose lead is like it."""
        found = _query(self.documents, [fingerprint.minhash, *fingerprint.window_minhashes])
        return found | _query(self.leads, [fingerprint.minhash])
