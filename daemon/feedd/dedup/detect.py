"""Duplicate detection: exact (canonical URL, normalised body hash) here; the near-duplicate
detector (feedd.dedup.near) plugs in behind the same `DuplicateDetector` interface."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from feedd.extract.records import Article

if TYPE_CHECKING:
    from feedd.dedup.fingerprint import Fingerprint, Fingerprinter
    from feedd.dedup.verify import Evidence

_QUOTES = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4`"}
    | {c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"}
)
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_NON_WORD = re.compile(r"[\W_]+")
#: Bodies shorter than this (in words) are not matched by hash: teasers such as "Read more" repeat
#: across different articles.
MIN_WORDS_FOR_BODY_MATCH = 25


def normalise_text(text: str) -> str:
    """Text as duplicate detection sees it: NFKC, case-folded, quote and dash styles unified,
    punctuation and whitespace folded to single spaces."""
    text = fold_quotes_and_dashes(unicodedata.normalize("NFKC", text).casefold())
    return _NON_WORD.sub(" ", text).strip()


def fold_quotes_and_dashes(text: str) -> str:
    """Every style of quotation mark as ' or ", every dash as -."""
    return _DASHES.sub("-", text.translate(_QUOTES))


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the detectors compare: never link, date, credit or page chrome."""

    canonical_url: str
    body_hash: str
    body_words: int
    #: Shingles and MinHash of title, lead and body (FORMAT.md's "Deduplication input"), for
    #: near-duplicate detection; computed where the CPU is to spare.
    fingerprint: Fingerprint | None = None

    @classmethod
    def from_article(cls, article: Article, fingerprinter: Fingerprinter | None = None) -> Candidate:
        body = normalise_text(article.body_text)
        text = "\n".join(part for part in (article.title, article.lead or "", article.body_text) if part)
        return cls(
            canonical_url=article.canonical_url,
            body_hash=hashlib.sha256(body.encode("utf-8")).hexdigest(),
            body_words=body.count(" ") + 1 if body else 0,
            fingerprint=fingerprinter.fingerprint(text) if fingerprinter else None,
        )


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    """A saved document a candidate was compared with, and on what evidence."""

    document_id: str
    reason: str
    #: Shingle-set overlap with that document, where it was measured.
    jaccard: float | None = None
    containment: float | None = None
    #: The shared runs of text, where they were verified (feedd.dedup.verify).
    evidence: Evidence | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What duplicate detection found for one candidate."""

    #: The saved document it duplicates; None when it is to be kept.
    duplicate_of: DuplicateMatch | None = None
    #: For a document kept: the nearest saved document verified as an independent write-up.
    nearest: DuplicateMatch | None = None


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
        for detector in self._detectors:
            verdict = detector.find(candidate)
            if verdict.duplicate_of is not None:
                return verdict
            nearest = nearest or verdict.nearest
        return Verdict(nearest=nearest)

    def remember(self, candidate: Candidate, document_id: str, seq: int) -> None:
        for detector in self._detectors:
            detector.remember(candidate, document_id, seq)
