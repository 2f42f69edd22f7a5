"""Near-duplicate detection: MinHashLSH candidates (feedd.dedup.lsh) over fingerprints, then the
verification of every candidate: exact Jaccard on the stored shingle sets, and the evidence of
shared runs of text (feedd.dedup.verify) that tells a copy from an independent write-up.

Candidates come from MinHashLSH tuned for recall, and need only resemble the new document
somewhere: a trimmed copy of a longer original, a brief inside a write-through. For a new
document longer than an indexed brief, the new document's windows are queried too, since a
window the size of the brief resembles it far more than the whole document does; for a brief
arriving after its longer story, a second index holds every document's lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import numpy as np

from feedd.config import DedupConfig
from feedd.dedup.fingerprint import (
    Fingerprint,
    FingerprintRecord,
    NearParams,
    minhashes_from_record,
    text_from_record,
)
from feedd.dedup.lsh import NearIndex
from feedd.dedup.records import INDEPENDENT_WRITE_UP, Candidate, DuplicateMatch, Verdict
from feedd.dedup.verify import Evidence, VerifyParams, Words, compare


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


#: Candidates that share less than this of the smaller shingle set are not read as text: the LSH,
#: tuned for recall, also proposes documents that share a stock phrase or two. On ECB+, no pair
#: with a copied share of 0.4 or more has a containment under 0.06.
MIN_CONTAINMENT_TO_VERIFY = 0.05


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a verified candidate makes a duplicate."""

    #: Shingle-set Jaccard at which two documents are the same text, whatever else is found.
    jaccard: float
    #: Containment (shared shingles over the smaller set) that makes a copy under "overlap".
    containment: float
    #: The smaller document must have at least this many shingles for anything but Jaccard to
    #: count: a two-line teaser is "contained" in many stories.
    min_shingles: int
    #: "shared-runs" decides on verify.Evidence; "overlap" on containment alone (before issue 9).
    method: Literal["shared-runs", "overlap"] = "shared-runs"
    #: Under "shared-runs", the copied share (verify.Evidence.copied_share) that makes a copy.
    copied_share: float = 0.55
    verify: VerifyParams = VerifyParams()

    @classmethod
    def of(cls, config: DedupConfig) -> Thresholds:
        return cls(
            config.jaccard,
            config.containment,
            config.min_shingles,
            method=config.verification,
            copied_share=config.copied_share,
        )


@dataclass(frozen=True, slots=True)
class SavedFingerprint:
    """A saved document as verification reads it."""

    doc_id: str
    shingles: np.ndarray
    #: Its dedup text, compressed (FingerprintRecord.text); None where it was not kept.
    text: bytes | None


@dataclass(frozen=True, slots=True)
class Checked:
    """One candidate, verified."""

    doc_id: str
    copy: bool
    overlap: Overlap
    evidence: Evidence | None

    def rank(self) -> tuple[float, float, float]:
        share = self.evidence.copied_share if self.evidence else self.overlap.containment
        return (share, self.overlap.containment, self.overlap.jaccard)

    def as_match(self) -> DuplicateMatch:
        return DuplicateMatch(
            self.doc_id,
            "near duplicate" if self.copy else INDEPENDENT_WRITE_UP,
            jaccard=self.overlap.jaccard,
            containment=self.overlap.containment,
            evidence=self.evidence,
        )


class Verifier:
    """Checks the LSH candidates of one new document against the saved documents' shingles and,
    under "shared-runs", their text."""

    def __init__(self, fingerprint: Fingerprint, thresholds: Thresholds) -> None:
        self._fingerprint = fingerprint
        self._thresholds = thresholds
        self._words: Words | None = None

    def check(self, saved: SavedFingerprint) -> Checked:
        rules = self._thresholds
        found = overlap(self._fingerprint.shingles, saved.shingles)
        big_enough = min(len(self._fingerprint.shingles), len(saved.shingles)) >= rules.min_shingles
        evidence = None
        if (
            rules.method == "shared-runs"
            and saved.text is not None
            and found.containment >= MIN_CONTAINMENT_TO_VERIFY
        ):
            if self._words is None:
                self._words = Words.of(self._fingerprint.text)
            evidence = compare(self._words, Words.of(text_from_record(saved.text)), rules.verify)
            copied = big_enough and evidence.copied_share >= rules.copied_share
        else:
            # The overlap rule, also for documents kept without their text.
            copied = big_enough and found.containment >= rules.containment
        return Checked(saved.doc_id, found.jaccard >= rules.jaccard or copied, found, evidence)


def decide(
    fingerprint: Fingerprint, candidates: Iterable[SavedFingerprint], thresholds: Thresholds
) -> Verdict:
    """The candidate this document copies (the one with most evidence), or else the nearest one
    found to be an independent write-up, for `feedd explain`."""
    verifier = Verifier(fingerprint, thresholds)
    best_copy: Checked | None = None
    nearest: Checked | None = None
    for saved in candidates:
        checked = verifier.check(saved)
        if checked.copy:
            if best_copy is None or checked.rank() > best_copy.rank():
                best_copy = checked
        elif checked.overlap.containment >= MIN_CONTAINMENT_TO_VERIFY and (
            nearest is None or checked.rank() > nearest.rank()
        ):
            nearest = checked
    if best_copy is not None:
        return Verdict(duplicate_of=best_copy.as_match())
    return Verdict(nearest=nearest.as_match() if nearest else None)


class StoredFingerprint(Protocol):
    """A saved document's fingerprint, as the state gives it back."""

    @property
    def seq(self) -> int: ...

    @property
    def doc_id(self) -> str: ...

    @property
    def record(self) -> FingerprintRecord: ...


class FingerprintSketch(Protocol):
    """A saved document's MinHash values (FingerprintRecord.minhash): what the index loads."""

    @property
    def seq(self) -> int: ...

    @property
    def minhash(self) -> bytes: ...


class StoredFingerprints(Protocol):
    """What the detector needs from the state."""

    def of_documents(self, seqs: Iterable[int]) -> Iterator[StoredFingerprint]: ...


class NearDuplicateDetector:
    """A DuplicateDetector: LSH candidates, then their verification (`Verifier`)."""

    def __init__(self, index: NearIndex, saved: StoredFingerprints, thresholds: Thresholds) -> None:
        self.index = index
        self._saved = saved
        self._thresholds = thresholds

    def find(self, candidate: Candidate) -> Verdict:
        fingerprint = candidate.fingerprint
        if fingerprint is None or len(fingerprint.shingles) == 0:
            return Verdict()
        seqs = self.index.candidates(fingerprint)
        if not seqs:
            return Verdict()
        stored = (
            SavedFingerprint(saved.doc_id, saved.record.shingle_set(), saved.record.text)
            for saved in self._saved.of_documents(seqs)
        )
        return decide(fingerprint, stored, self._thresholds)

    def remember(self, candidate: Candidate, document_id: str, seq: int) -> None:
        if candidate.fingerprint is not None:
            self.index.add(seq, candidate.fingerprint.minhash, candidate.fingerprint.lead_minhash)


class FingerprintStore(StoredFingerprints, Protocol):
    """What loading the index needs from the state."""

    def parameters(self) -> str | None:
        """The parameters the stored fingerprints were made with (NearParams.recorded())."""
        ...

    def record_parameters(self, recorded: str) -> None: ...

    def forget_before(self, cutoff: datetime) -> list[int]:
        """Drop the fingerprints saved before `cutoff`; their seqs."""
        ...

    def since(self, since: datetime) -> Iterator[StoredFingerprint]: ...

    def sketches_since(self, since: datetime) -> Iterator[FingerprintSketch]: ...

    def replace(self, recomputed: Mapping[int, FingerprintRecord]) -> None: ...


def load_index(store: FingerprintStore, params: NearParams, cutoff: datetime) -> NearIndex:
    """The index of every fingerprint saved at or after `cutoff`; older ones are forgotten.
    Fingerprints made with other parameters are recomputed first, never mixed."""
    store.forget_before(cutoff)
    index = NearIndex(params)
    if store.parameters() != params.recorded():
        fingerprinter = index.fingerprinter
        recomputed = {
            saved.seq: FingerprintRecord.of(fingerprinter.fingerprint(saved.record.plain_text()))
            for saved in store.since(cutoff)
        }
        store.replace(recomputed)
        store.record_parameters(params.recorded())
    index.add_many(
        (sketch.seq, *minhashes_from_record(sketch.minhash)) for sketch in store.sketches_since(cutoff)
    )
    return index
