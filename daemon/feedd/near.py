"""Near-duplicate detection: word shingles, MinHash (datasketch), MinHashLSH candidates, and an
exact verification of every candidate on the stored shingle sets, by Jaccard and containment.

Candidates come from MinHashLSH tuned for recall; the decision is the exact check. Containment
(shared shingles over the smaller set) catches what Jaccard cannot: a trimmed copy of a longer
original, or a brief inside a write-through. For a new document longer than an indexed brief, the
new document's windows are queried too, since a window the size of the brief resembles it far
more than the whole document does.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from datasketch.storage import DictSetStorage

from feedd.dedup import Candidate, DuplicateMatch, normalise_text

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
# Odd 64-bit multipliers combining the word hashes of a shingle, one per position.
_POSITION_MULTIPLIERS = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x94D049BB133111EB,
        0xBF58476D1CE4E5B9,
    ],
    dtype=np.uint64,
)


@dataclass(frozen=True, slots=True)
class NearParams:
    """Everything that shapes a signature; recorded with the index so a change forces a rebuild."""

    shingle_words: int = 5
    num_perm: int = 36
    seed: int = 1
    scheme: str = "affine32"
    #: Banding of the whole-document index: 18 bands of 2 rows finds Jaccard 0.3 with p = 0.82.
    bands: int = 18
    rows: int = 2
    #: Window sizes (in shingles) of a new document queried for briefs saved before it.
    window_sizes: tuple[int, ...] = (48, 96, 192)
    #: The lead index holds each document's first shingles, so that a brief arriving after the
    #: longer story it was cut from resembles something in the index.
    lead_shingles: int = 96
    lead_bands: int = 6
    lead_rows: int = 2

    def recorded(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A document as near-duplicate detection sees it."""

    #: Sorted, unique 32-bit shingle hashes.
    shingles: np.ndarray
    #: MinHash hash values of the whole shingle set.
    minhash: np.ndarray
    #: MinHash hash values of the document's first `lead_shingles` shingles.
    lead_minhash: np.ndarray
    #: MinHash hash values of windows of the document, for containment queries.
    window_minhashes: tuple[np.ndarray, ...]
    #: The normalised text, kept so that a change of parameters can re-shingle.
    text: str


def shingle_hashes(text: str, words_per_shingle: int) -> tuple[np.ndarray, np.ndarray]:
    """(hashes in document order, sorted unique hashes) of the word shingles of normalised text."""
    words = text.split()
    if not words:
        empty = np.zeros(0, dtype=np.uint32)
        return empty, empty
    word_hashes = np.fromiter(
        (zlib.crc32(w.encode("utf-8")) for w in words), dtype=np.uint64, count=len(words)
    )
    k = min(words_per_shingle, len(words))
    count = len(words) - k + 1
    combined = np.zeros(count, dtype=np.uint64)
    for position in range(k):
        combined += word_hashes[position : position + count] * _POSITION_MULTIPLIERS[position]
    ordered = (combined >> np.uint64(32)).astype(np.uint32)
    return ordered, np.unique(ordered)


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme pre-mixes its input."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


class Fingerprinter:
    """Computes fingerprints with one set of parameters (cheap to create, picklable)."""

    def __init__(self, params: NearParams) -> None:
        self.params = params
        a, b = MinHash(num_perm=params.num_perm, seed=params.seed, scheme=params.scheme).permutations
        self._a = a.astype(np.uint32)
        self._b = b.astype(np.uint32)

    def fingerprint(self, text: str) -> Fingerprint:
        normalised = normalise_text(text)
        ordered, unique = shingle_hashes(normalised, self.params.shingle_words)
        if len(ordered) == 0:
            full = np.full(self.params.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
            return Fingerprint(unique, full, full, (), normalised)
        with np.errstate(over="ignore"):
            permuted = _fmix32(ordered).reshape(-1, 1) * self._a + self._b  # (shingles, perms)
        full = permuted.min(axis=0)
        lead = permuted[: self.params.lead_shingles].min(axis=0)
        windows: list[np.ndarray] = []
        for size in self.params.window_sizes:
            if size >= len(ordered):
                break
            # Windows of `size` shingles every size/2: the union of two neighbouring halves.
            halves = np.minimum.reduceat(permuted, np.arange(0, len(ordered), size // 2), axis=0)
            windows.extend(np.minimum(halves[:-1], halves[1:]))
        return Fingerprint(unique, full, lead, tuple(windows), normalised)

    def minhash(self, hashvalues: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=self.params.seed, hashvalues=hashvalues, scheme=self.params.scheme)


def to_record(fingerprint: Fingerprint) -> tuple[bytes, bytes, bytes]:
    """(compressed text, shingles, minhash) as the store keeps them."""
    return (
        zlib.compress(fingerprint.text.encode("utf-8"), 6),
        fingerprint.shingles.astype("<u4").tobytes(),
        np.concatenate((fingerprint.minhash, fingerprint.lead_minhash)).astype("<u4").tobytes(),
    )


def shingles_from_record(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def minhashes_from_record(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(whole document, lead) MinHash hash values."""
    values = np.frombuffer(blob, dtype="<u4").astype(np.uint32)
    half = len(values) // 2
    return values[:half], values[half:]


def text_from_record(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


@dataclass(frozen=True, slots=True)
class Overlap:
    jaccard: float
    containment: float
    shared: int


def overlap(a: np.ndarray, b: np.ndarray) -> Overlap:
    """Exact Jaccard and containment (shared over the smaller set) of two sorted unique sets."""
    if len(a) == 0 or len(b) == 0:
        return Overlap(0.0, 0.0, 0)
    shared = len(np.intersect1d(a, b, assume_unique=True))
    return Overlap(shared / (len(a) + len(b) - shared), shared / min(len(a), len(b)), shared)


class _CompactSetStorage(DictSetStorage):
    """datasketch's in-memory bucket storage, minus a Python set per bucket: nearly every bucket
    holds one key, and a set costs 216 bytes where the key itself costs nothing."""

    def get(self, key):  # noqa: ANN001, ANN201 - datasketch's interface
        value = self._dict.get(key)
        if value is None:
            return set()
        return value if isinstance(value, set) else {value}

    def insert(self, key, *vals, **kwargs):  # noqa: ANN001, ANN003, ANN201
        for val in vals:
            current = self._dict.get(key)
            if current is None:
                self._dict[key] = val
            elif isinstance(current, set):
                current.add(val)
            elif current != val:
                self._dict[key] = {current, val}

    def remove_val(self, key, val, **kwargs):  # noqa: ANN001, ANN003, ANN201
        # An emptied bucket stays (as an empty set) until MinHashLSH removes it itself.
        current = self._dict.get(key)
        if isinstance(current, set):
            current.discard(val)
            if len(current) == 1:
                self._dict[key] = next(iter(current))
        elif current == val:
            self._dict[key] = set()

    def itemcounts(self, **kwargs):  # noqa: ANN003, ANN201
        return {k: len(v) if isinstance(v, set) else 1 for k, v in self._dict.items()}


def _lsh(num_perm: int, bands: int, rows: int) -> MinHashLSH:
    lsh = MinHashLSH(num_perm=num_perm, params=(bands, rows))
    lsh.hashtables = [_CompactSetStorage({"type": "dict"}) for _ in range(bands)]
    return lsh


def _query(lsh: MinHashLSH, sketches: list[np.ndarray]) -> set[int]:
    """MinHashLSH.query for several sketches at once: one byte swap for all of them instead of
    one per band per sketch, the query's hot spot. tests/test_near.py checks it against query."""
    swapped = np.vstack(sketches).byteswap()
    found: set[int] = set()
    for (start, end), table in zip(lsh.hashranges, lsh.hashtables, strict=True):
        band = np.ascontiguousarray(swapped[:, start:end]).tobytes()
        width = len(band) // len(swapped)
        lookup = table._dict.get
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
        self.fingerprinter = Fingerprinter(params)
        self.documents = _lsh(params.num_perm, params.bands, params.rows)
        self.leads = _lsh(params.num_perm, params.lead_bands, params.lead_rows)

    def __len__(self) -> int:
        return len(self.documents.keys.keys())

    def add(self, seq: int, minhash: np.ndarray, lead_minhash: np.ndarray) -> None:
        self.add_many([(seq, minhash, lead_minhash)])

    def add_many(self, rows: Iterable[tuple[int, np.ndarray, np.ndarray]]) -> None:
        sketch = self.fingerprinter.minhash
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


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a verified overlap makes a duplicate."""

    jaccard: float
    containment: float
    #: The smaller document must have at least this many shingles for containment to count:
    #: a two-line teaser is "contained" in many stories.
    min_shingles: int


def judge(fingerprint: Fingerprint, stored: np.ndarray, thresholds: Thresholds) -> Overlap | None:
    """The overlap, if it makes `fingerprint` a duplicate of the stored set; else None."""
    found = overlap(fingerprint.shingles, stored)
    if found.jaccard >= thresholds.jaccard:
        return found
    if (
        found.containment >= thresholds.containment
        and min(len(fingerprint.shingles), len(stored)) >= thresholds.min_shingles
    ):
        return found
    return None


def best_match(
    fingerprint: Fingerprint,
    candidates: Iterator[tuple[int, str, np.ndarray]],
    thresholds: Thresholds,
) -> tuple[str, Overlap] | None:
    """The candidate (doc id, overlap) with the highest containment that passes the thresholds."""
    best: tuple[str, Overlap] | None = None
    for _seq, doc_id, stored in candidates:
        found = judge(fingerprint, stored, thresholds)
        if found and (
            best is None or (found.containment, found.jaccard) > (best[1].containment, best[1].jaccard)
        ):
            best = (doc_id, found)
    return best


def describe(match: tuple[str, Overlap]) -> DuplicateMatch:
    doc_id, found = match
    return DuplicateMatch(
        doc_id,
        "near duplicate",
        jaccard=found.jaccard,
        containment=found.containment,
    )


class StoredFingerprints(Protocol):
    """What the detector needs from the store."""

    def fingerprint_shingles(self, seqs: Iterable[int]) -> Iterator[tuple[int, str, bytes]]: ...


class NearDuplicateDetector:
    """A DuplicateDetector: LSH candidates, then the exact check on their stored shingles."""

    def __init__(self, index: NearIndex, saved: StoredFingerprints, thresholds: Thresholds) -> None:
        self.index = index
        self._saved = saved
        self._thresholds = thresholds

    def find(self, candidate: Candidate) -> DuplicateMatch | None:
        fingerprint = candidate.fingerprint
        if fingerprint is None or len(fingerprint.shingles) == 0:
            return None
        seqs = self.index.candidates(fingerprint)
        if not seqs:
            return None
        stored = (
            (seq, doc_id, shingles_from_record(blob))
            for seq, doc_id, blob in self._saved.fingerprint_shingles(seqs)
        )
        match = best_match(fingerprint, stored, self._thresholds)
        return describe(match) if match else None

    def remember(self, candidate: Candidate, document_id: str, seq: int) -> None:
        if candidate.fingerprint is not None:
            self.index.add(seq, candidate.fingerprint.minhash, candidate.fingerprint.lead_minhash)


class FingerprintStore(StoredFingerprints, Protocol):
    """What loading the index needs from the store."""

    def meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def forget_fingerprints_before(self, cutoff: str) -> list[int]: ...

    def fingerprints_since(self, since: str, *, with_text: bool = False) -> Iterator[tuple]: ...

    def replace_fingerprints(self, rows: Iterable[tuple[int, bytes, bytes]]) -> None: ...


_PARAMS_KEY = "near_duplicate_params"


def load_index(store: FingerprintStore, params: NearParams, cutoff: str) -> NearIndex:
    """The index of every fingerprint saved at or after `cutoff` (ISO time); older ones are
    forgotten. Fingerprints made with other parameters are recomputed first, never mixed."""
    store.forget_fingerprints_before(cutoff)
    index = NearIndex(params)
    if store.meta(_PARAMS_KEY) != params.recorded():
        fingerprinter = index.fingerprinter
        recomputed = []
        for seq, text_blob, _minhash in store.fingerprints_since(cutoff, with_text=True):
            _text, shingles, minhash = to_record(fingerprinter.fingerprint(text_from_record(text_blob)))
            recomputed.append((seq, shingles, minhash))
        store.replace_fingerprints(recomputed)
        store.set_meta(_PARAMS_KEY, params.recorded())
    index.add_many((seq, *minhashes_from_record(blob)) for seq, blob in store.fingerprints_since(cutoff))
    return index
