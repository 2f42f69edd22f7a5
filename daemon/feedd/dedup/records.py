"""The records duplicate detection takes and gives: a candidate, and the verdict on it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from feedd.dedup.text import normalise_text
from feedd.dedup.verify import QUOTED_LINE
from feedd.extract import Article, Block

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
        return cls(
            canonical_url=article.canonical_url,
            body_hash=hashlib.sha256(body.encode("utf-8")).hexdigest(),
            body_words=body.count(" ") + 1 if body else 0,
            fingerprint=fingerprinter.fingerprint(dedup_text(article)) if fingerprinter else None,
        )


def dedup_text(article: Article) -> str:
    """Title, lead and body as near-duplicate detection reads them (and the state keeps them): one
    line per paragraph, list item or table row, each line of quoted material (Block.quoted)
    opened by QUOTED_LINE, which verification weighs like words inside quotation marks. The mark
    is punctuation: shingles, sketches and the body hash are those of the text without it."""
    lines = [article.title, article.lead or ""]
    lines += (line for block in article.blocks for line in _block_lines(block))
    return "\n".join(line for line in lines if line)


def _block_lines(block: Block) -> list[str]:
    lines = [block.text] if block.text else list(block.items)
    return [QUOTED_LINE + line for line in lines] if block.quoted else lines


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
