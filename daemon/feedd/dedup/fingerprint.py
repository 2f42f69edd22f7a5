"""Documents as near-duplicate detection sees them: word shingles and their MinHash sketches.

Kept free of datasketch (and the scipy it imports) so that extraction workers, which compute
fingerprints next to the CPU-heavy extraction, stay small; near.py brings datasketch's
permutations and owns the index.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from feedd.dedup.text import normalise_text

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
    #: Banding of the whole-document index, tuned for recall: the verification decides. 18 bands
    #: of 1 row propose a document of Jaccard 0.1 with p = 0.85 (0.05: p = 0.60); 98% of the
    #: judged ECB+ copies become candidates, 71% with 2 rows (bench/dedup_verify.py).
    bands: int = 18
    rows: int = 1
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
    #: The text as given (title, lead, body), kept so that a change of parameters can re-shingle
    #: and verification can read its runs and quotation marks. States written before feedd
    #: kept it as given hold it normalised: verification then sees no quotation marks.
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
    """Computes fingerprints with one set of parameters and MinHash permutations (those of
    datasketch's MinHash with the same num_perm, seed and scheme: dedup.lsh.fingerprinter makes it)."""

    def __init__(self, params: NearParams, permutations: tuple[np.ndarray, np.ndarray]) -> None:
        self.params = params
        self._a = permutations[0].astype(np.uint32)
        self._b = permutations[1].astype(np.uint32)

    def fingerprint(self, text: str) -> Fingerprint:
        normalised = normalise_text(text)
        ordered, unique = shingle_hashes(normalised, self.params.shingle_words)
        if len(ordered) == 0:
            full = np.full(self.params.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)
            return Fingerprint(unique, full, full, (), text)
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
        return Fingerprint(unique, full, lead, tuple(windows), text)


@dataclass(frozen=True, slots=True)
class FingerprintRecord:
    """A fingerprint as the state and the shared index keep it: compact bytes, little-endian."""

    #: The dedup text as given, zlib-compressed.
    text: bytes
    #: The sorted unique shingle hashes.
    shingles: bytes
    #: The whole document's MinHash hash values, then its lead's.
    minhash: bytes

    @classmethod
    def of(cls, fingerprint: Fingerprint) -> FingerprintRecord:
        return cls(
            text=zlib.compress(fingerprint.text.encode("utf-8"), 6),
            shingles=fingerprint.shingles.astype("<u4").tobytes(),
            minhash=np.concatenate((fingerprint.minhash, fingerprint.lead_minhash)).astype("<u4").tobytes(),
        )

    def plain_text(self) -> str:
        return text_from_record(self.text)

    def shingle_set(self) -> np.ndarray:
        return shingles_from_record(self.shingles)


def shingles_from_record(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def minhashes_from_record(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(whole document, lead) MinHash hash values."""
    values = np.frombuffer(blob, dtype="<u4").astype(np.uint32)
    half = len(values) // 2
    return values[:half], values[half:]


def text_from_record(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")
