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
from feedd.dedup.records import EXTENDS, INDEPENDENT_WRITE_UP, Candidate, DuplicateMatch, Verdict
from feedd.dedup.verify import (
    Coverage,
    Evidence,
    VerifyParams,
    Words,
    covered,
    evidence_of,
    shared_runs,
    weighted_share,
)


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

    #: Shingle-set Jaccard at which two documents are the same text (if the new one has fewer
    #: than min_new_words of its own).
    jaccard: float
    #: Containment (shared shingles over the new document's) that makes a copy under "overlap".
    containment: float
    #: The new document must have at least this many shingles for anything but Jaccard to count:
    #: a two-line teaser is "contained" in many stories.
    min_shingles: int
    #: "shared-runs" decides on verify.Evidence; "overlap" on containment alone (before issue 9).
    method: Literal["shared-runs", "overlap"] = "shared-runs"
    #: Under "shared-runs", the share of the new text found in saved text (verify.Coverage.share)
    #: that makes a copy.
    copied_share: float = 0.55
    #: A new document with this many words of its own (outside every shared run) says something
    #: new, however much of it is found in saved text: it is kept, and extends what it contains.
    min_new_words: int = 150
    verify: VerifyParams = VerifyParams()

    @classmethod
    def of(cls, config: DedupConfig) -> Thresholds:
        return cls(
            config.jaccard,
            config.containment,
            config.min_shingles,
            method=config.verification,
            copied_share=config.copied_share,
            min_new_words=config.min_new_words,
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
    overlap: Overlap
    #: The shared runs, where the candidate was read as text.
    evidence: Evidence | None
    #: The new document's words (shared-runs) or shingles (overlap) found in this candidate.
    found: np.ndarray
    #: Shared shingles over the new document's, and over the saved one's.
    new_containment: float
    saved_containment: float
    saved_big_enough: bool

    @property
    def share(self) -> float:
        """How much of the new document this candidate holds."""
        return self.evidence.copied_share if self.evidence else self.new_containment

    @property
    def held_share(self) -> float:
        """How much of this candidate the new document holds."""
        if self.evidence is not None and self.evidence.saved_share is not None:
            return self.evidence.saved_share
        return self.saved_containment

    def rank(self) -> tuple[float, float, float]:
        return (self.share, self.overlap.containment, self.overlap.jaccard)

    def as_match(self, reason: str, coverage: Coverage | None = None) -> DuplicateMatch:
        evidence = self.evidence
        if evidence is not None and coverage is not None:
            evidence = evidence.with_coverage(coverage)
        return DuplicateMatch(
            self.doc_id,
            reason,
            jaccard=self.overlap.jaccard,
            containment=self.overlap.containment,
            evidence=evidence,
        )


class Verifier:
    """Checks the LSH candidates of one new document against the saved documents' shingles and,
    under "shared-runs", their text, then decides on all of them together.

    The new document is redundant when what it says is already saved, not when it resembles
    something: the runs found in every candidate count together (a roll-up of saved briefs is
    covered by their union), and a document that adds `min_new_words` of its own is kept however
    much it holds; it then extends each saved document it holds most of."""

    def __init__(self, fingerprint: Fingerprint, thresholds: Thresholds) -> None:
        self._fingerprint = fingerprint
        self._thresholds = thresholds
        self._words: Words | None = None

    def check(self, saved: SavedFingerprint) -> Checked:
        rules = self._thresholds
        new_shingles = self._fingerprint.shingles
        found = overlap(new_shingles, saved.shingles)
        evidence = None
        if (
            rules.method == "shared-runs"
            and saved.text is not None
            and found.containment >= MIN_CONTAINMENT_TO_VERIFY
        ):
            words = self._new_words()
            saved_words = Words.of(text_from_record(saved.text))
            runs = shared_runs(words, saved_words, rules.verify.run_words)
            evidence = evidence_of(words, saved_words, runs, rules.verify)
            mask = np.frombuffer(covered(len(words), ((run.start, run.length) for run in runs)), np.bool_)
        else:
            mask = np.isin(new_shingles, saved.shingles, assume_unique=True)
        return Checked(
            saved.doc_id,
            found,
            evidence,
            mask,
            new_containment=found.shared / len(new_shingles) if len(new_shingles) else 0.0,
            saved_containment=found.shared / len(saved.shingles) if len(saved.shingles) else 0.0,
            saved_big_enough=len(saved.shingles) >= rules.min_shingles,
        )

    def verdict(self, checked: list[Checked]) -> Verdict:
        """The saved document this one copies (the one holding most of it), or else what it
        extends and the nearest independent write-up, for `feedd explain`."""
        rules = self._thresholds
        read = [c for c in checked if c.evidence is not None]
        # Runs of words count together; candidates kept without their text are decided one by
        # one on shingles (under "overlap", all of them, together).
        unread = [c for c in checked if c.evidence is None]
        groups = [read] if read else []
        groups += [unread] if rules.method == "overlap" and unread else [[c] for c in unread]
        coverages: dict[str, Coverage] = {}
        copied: list[Checked] = []
        for group in groups:
            coverage = self._coverage(group)
            coverages.update((member.doc_id, coverage) for member in group)
            if (member := self._copied(group, coverage)) is not None:
                copied.append(member)
        if copied:
            best = max(copied, key=Checked.rank)
            return Verdict(duplicate_of=best.as_match("near duplicate", coverages[best.doc_id]))
        threshold = rules.copied_share if rules.method == "shared-runs" else rules.containment
        extended = sorted(
            (c for c in checked if c.saved_big_enough and c.held_share >= threshold),
            key=lambda c: -c.held_share,
        )
        others = [
            c for c in checked if c not in extended and c.overlap.containment >= MIN_CONTAINMENT_TO_VERIFY
        ]
        nearest = max(others, key=Checked.rank, default=None)
        return Verdict(
            nearest=nearest.as_match(INDEPENDENT_WRITE_UP, coverages[nearest.doc_id]) if nearest else None,
            extends=tuple(c.as_match(EXTENDS, coverages[c.doc_id]) for c in extended),
        )

    def _coverage(self, group: list[Checked]) -> Coverage:
        """The new document against `group` together: in words where they were read as text."""
        found = np.logical_or.reduce([member.found for member in group])
        if group[0].evidence is not None:
            words = self._new_words()
            share = weighted_share(words, bytearray(found.tobytes()), self._thresholds.verify.quote_weight)
            own = _own_words(found)
        else:  # shingles, a set in no text order: each one not found counts
            share = round(float(found.mean()), 4) if len(found) else 0.0
            own = int(len(found) - found.sum())
        holders = sorted((m for m in group if m.found.any()), key=lambda m: -m.share)
        return Coverage(share, own, tuple(m.doc_id for m in holders))

    def _copied(self, group: list[Checked], coverage: Coverage) -> Checked | None:
        """The member of `group` the new document copies, when together they leave it nothing
        new to say: the same text, or most of its text with fewer than min_new_words of its own."""
        rules = self._thresholds
        if coverage.own_words >= rules.min_new_words:
            return None
        same_text = max(group, key=lambda member: member.overlap.jaccard)
        # Read as text, the same shingles are the same text only if the weighted words agree:
        # shingles count a shared quotation or listing as fully as shared prose.
        if same_text.overlap.jaccard >= rules.jaccard and (
            same_text.evidence is None or coverage.share >= rules.copied_share
        ):
            return same_text
        if len(self._fingerprint.shingles) < rules.min_shingles:
            return None
        best = max(group, key=Checked.rank)
        threshold = rules.copied_share if best.evidence is not None else rules.containment
        return best if coverage.share >= threshold else None

    def _new_words(self) -> Words:
        if self._words is None:
            self._words = Words.of(self._fingerprint.text)
        return self._words


#: Words outside every shared run count as the new document's own only in stretches this long:
#: a word changed here and there between copied runs (a restyle, a copy edit) is not reporting.
OWN_STRETCH_WORDS = 8


def _own_words(found: np.ndarray) -> int:
    """The words in stretches of at least OWN_STRETCH_WORDS outside every shared run."""
    if not len(found):
        return 0
    padded = np.concatenate(([True], found, [True]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])  # starts and ends of uncovered stretches
    lengths = edges[1::2] - edges[::2]
    return int(lengths[lengths >= OWN_STRETCH_WORDS].sum())


def decide(
    fingerprint: Fingerprint, candidates: Iterable[SavedFingerprint], thresholds: Thresholds
) -> Verdict:
    """The verdict on a new document against its candidates (see Verifier)."""
    verifier = Verifier(fingerprint, thresholds)
    return verifier.verdict([verifier.check(saved) for saved in candidates])


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
