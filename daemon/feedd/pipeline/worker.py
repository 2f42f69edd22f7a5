"""The CPU-bound half of an entry's journey, run in worker processes (pipeline.pool): extract the
article, then shingle and sketch it for duplicate detection.

The worker processes import this module (and the extractor) only: it must stay free of the
state, the dedup indexes (datasketch, redis), the scheduler and the config loader (import-linter
contracts).
"""

from __future__ import annotations

from dataclasses import dataclass

from feedd.dedup import Candidate, Fingerprinter
from feedd.extract import Article, ExtractionFailure, PageInput


@dataclass(frozen=True, slots=True)
class Prepared:
    """An entry's article, with what duplicate detection compares."""

    article: Article
    candidate: Candidate


def prepare_entry(page: PageInput, fingerprinter: Fingerprinter | None) -> Prepared | ExtractionFailure:
    """Extract, then shingle and sketch: all the CPU-bound work, in one worker call."""
    # Imported here, not above: the event loop's process imports this module to name the
    # function for its workers, and would otherwise load trafilatura and lxml for nothing.
    from feedd.extract import try_extract

    outcome = try_extract(page)
    if isinstance(outcome, ExtractionFailure):
        return outcome
    return Prepared(outcome, Candidate.from_article(outcome, fingerprinter))
