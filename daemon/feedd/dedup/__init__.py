"""Duplicate detection: exact (canonical URL, normalised body) and near duplicates (MinHash LSH
candidates, verified on shared runs of text), behind one backend the pipeline talks to.

    text -> fingerprint (workers) -> records (Candidate) -> backend: LocalIndex | SharedIndex
                                                            exact, lsh -> near (verify) -> Verdict

The records, the text normalisation and the fingerprints are imported eagerly: extraction workers
use them. What needs datasketch or redis (the indexes, the backends) loads on first use, so that
a worker never imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedd._lazy import lazy_exports
from feedd.dedup.backend import DedupBackend, open_backend, shared_index_problem
from feedd.dedup.exact import Deduplicator, DuplicateDetector, ExactDetector, SavedDocuments
from feedd.dedup.fingerprint import (
    Fingerprint,
    Fingerprinter,
    FingerprintRecord,
    NearParams,
    text_from_record,
)
from feedd.dedup.records import (
    EXTENDS,
    INDEPENDENT_WRITE_UP,
    MIN_WORDS_FOR_BODY_MATCH,
    Candidate,
    DuplicateMatch,
    Verdict,
)
from feedd.dedup.text import normalise_text
from feedd.dedup.verify import Coverage, Evidence, SharedRun, VerifyParams, Words, compare

if TYPE_CHECKING:
    from feedd.dedup.local import LocalIndex
    from feedd.dedup.lsh import NearIndex, fingerprinter
    from feedd.dedup.near import (
        MIN_CONTAINMENT_TO_VERIFY,
        FingerprintStore,
        NearDuplicateDetector,
        SavedFingerprint,
        Thresholds,
        Verifier,
        decide,
        load_index,
        overlap,
    )
    from feedd.dedup.shared import SharedIndex, check_reachable

_LAZY = {
    "LocalIndex": "feedd.dedup.local",
    "NearIndex": "feedd.dedup.lsh",
    "fingerprinter": "feedd.dedup.lsh",
    "MIN_CONTAINMENT_TO_VERIFY": "feedd.dedup.near",
    "FingerprintStore": "feedd.dedup.near",
    "NearDuplicateDetector": "feedd.dedup.near",
    "SavedFingerprint": "feedd.dedup.near",
    "Thresholds": "feedd.dedup.near",
    "Verifier": "feedd.dedup.near",
    "decide": "feedd.dedup.near",
    "load_index": "feedd.dedup.near",
    "overlap": "feedd.dedup.near",
    "SharedIndex": "feedd.dedup.shared",
    "check_reachable": "feedd.dedup.shared",
}

__all__ = [
    "EXTENDS",
    "INDEPENDENT_WRITE_UP",
    "MIN_WORDS_FOR_BODY_MATCH",
    "Candidate",
    "Coverage",
    "DedupBackend",
    "Deduplicator",
    "DuplicateDetector",
    "DuplicateMatch",
    "Evidence",
    "ExactDetector",
    "Fingerprint",
    "FingerprintRecord",
    "Fingerprinter",
    "NearParams",
    "SavedDocuments",
    "SharedRun",
    "Verdict",
    "VerifyParams",
    "Words",
    "compare",
    "normalise_text",
    "open_backend",
    "shared_index_problem",
    "text_from_record",
    # loaded on first use
    "LocalIndex",
    "NearIndex",
    "fingerprinter",
    "MIN_CONTAINMENT_TO_VERIFY",
    "FingerprintStore",
    "NearDuplicateDetector",
    "SavedFingerprint",
    "Thresholds",
    "Verifier",
    "decide",
    "load_index",
    "overlap",
    "SharedIndex",
    "check_reachable",
]


__getattr__ = lazy_exports(__name__, _LAZY)
