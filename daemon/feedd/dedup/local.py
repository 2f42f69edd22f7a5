"""The dedup backend of a single instance: exact duplicates answered by the state's indexes, near
duplicates by MinHashLSH over the fingerprints kept in the state (loaded at start, in memory)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedd.dedup.exact import Deduplicator, DuplicateDetector, ExactDetector, SavedDocuments
from feedd.dedup.fingerprint import Fingerprinter, NearParams
from feedd.dedup.lsh import NearIndex
from feedd.dedup.near import FingerprintStore, NearDuplicateDetector, Thresholds, load_index
from feedd.dedup.records import Candidate, Verdict


class LocalIndex:
    """A DedupBackend over this instance's own state."""

    def __init__(
        self,
        saved: SavedDocuments,
        fingerprints: FingerprintStore | None,
        thresholds: Thresholds,
        *,
        window: timedelta,
    ) -> None:
        """`fingerprints` None: exact duplicates only ([dedup] near_duplicates = false)."""
        self._fingerprints = fingerprints
        self._index: NearIndex | None = None
        detectors: list[DuplicateDetector] = [ExactDetector(saved)]
        if fingerprints is not None:
            self._index = load_index(fingerprints, NearParams(), datetime.now(UTC) - window)
            detectors.append(NearDuplicateDetector(self._index, fingerprints, thresholds))
        self._detectors = Deduplicator(detectors)

    @property
    def fingerprinter(self) -> Fingerprinter | None:
        return self._index.fingerprinter if self._index is not None else None

    async def check(self, candidate: Candidate, document_id: str) -> Verdict:
        return self._detectors.find(candidate)

    async def commit(self, candidate: Candidate, document_id: str, seq: int) -> None:
        self._detectors.remember(candidate, document_id, seq)

    async def evict(self, older_than: datetime) -> int:
        if self._index is None or self._fingerprints is None:
            return 0
        seqs = self._fingerprints.forget_before(older_than)
        self._index.remove_many(seqs)
        return len(seqs)

    async def close(self) -> None:
        """Nothing to release: the index lives in memory, the state is the caller's."""
