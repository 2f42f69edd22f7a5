"""Exact duplicates (the same canonical URL, the same normalised body), and the chain of detectors
asked in turn, cheapest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from feedd.dedup.records import MIN_WORDS_FOR_BODY_MATCH, Candidate, DuplicateMatch, Verdict


class DuplicateDetector(Protocol):
    """One way of recognising an already-saved document."""

    def find(self, candidate: Candidate) -> Verdict: ...

    def remember(self, candidate: Candidate, document_id: str, seq: int) -> None: ...


class SavedDocuments(Protocol):
    """The lookups exact detection needs from the store."""

    def document_id_by_url(self, canonical_url: str) -> str | None: ...

    def document_id_by_body_hash(self, body_hash: str) -> str | None: ...


class ExactDetector:
    """Same canonical URL, or same normalised body: answered by the store's indexes."""

    def __init__(self, saved: SavedDocuments) -> None:
        self._saved = saved

    def find(self, candidate: Candidate) -> Verdict:
        if candidate.canonical_url and (doc := self._saved.document_id_by_url(candidate.canonical_url)):
            return Verdict(DuplicateMatch(doc, "same canonical URL"))
        if candidate.body_words < MIN_WORDS_FOR_BODY_MATCH:
            return Verdict()
        if doc := self._saved.document_id_by_body_hash(candidate.body_hash):
            return Verdict(DuplicateMatch(doc, "same normalised body", jaccard=1.0, containment=1.0))
        return Verdict()

    def remember(self, candidate: Candidate, document_id: str, seq: int) -> None:
        """Nothing to do: the store indexes every saved document's URL and body hash."""


class Deduplicator:
    """Asks each detector in turn, cheapest first; the first duplicate found wins."""

    def __init__(self, detectors: Sequence[DuplicateDetector]) -> None:
        self._detectors = tuple(detectors)

    def find(self, candidate: Candidate) -> Verdict:
        nearest = None
        extends: tuple[DuplicateMatch, ...] = ()
        for detector in self._detectors:
            verdict = detector.find(candidate)
            if verdict.duplicate_of is not None:
                return verdict
            nearest = nearest or verdict.nearest
            extends += verdict.extends
        return Verdict(nearest=nearest, extends=extends)

    def remember(self, candidate: Candidate, document_id: str, seq: int) -> None:
        for detector in self._detectors:
            detector.remember(candidate, document_id, seq)
