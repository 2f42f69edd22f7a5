"""The records duplicate detection takes and gives: a candidate, and the verdict on it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from feedd.dedup.text import normalise_text
from feedd.extract import Article

if TYPE_CHECKING:
    from feedd.dedup.fingerprint import Fingerprint, Fingerprinter
    from feedd.dedup.verify import Evidence

#: Bodies shorter than this (in words) are not matched by hash: teasers such as "Read more" repeat
#: across different articles.
MIN_WORDS_FOR_BODY_MATCH = 25
#: The reason given for the nearest saved document a kept one was told apart from.
INDEPENDENT_WRITE_UP = "independent write-up"
#: The reason given for a saved document a kept one holds most of, and adds text of its own to.
EXTENDS = "extends"


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
    #: For a document kept: the saved documents it holds most of and adds its own text to (a
    #: full story after its teaser, a write-through, a roll-up with reporting of its own).
    extends: tuple[DuplicateMatch, ...] = ()
