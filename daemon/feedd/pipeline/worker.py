"""The CPU-bound half of an entry's journey, run in worker processes: extract the article, then
shingle and sketch it for duplicate detection."""

from __future__ import annotations

from feedd.dedup.fingerprint import Fingerprinter
from feedd.dedup.records import Candidate
from feedd.extract.records import Article, ExtractionFailure, PageInput

#: What the worker hands back for one entry: the article (or why there is none) and, for an
#: article, what duplicate detection compares.
Prepared = tuple[Article | ExtractionFailure, Candidate | None]


def prepare_entry(page: PageInput, fingerprinter: Fingerprinter | None) -> Prepared:
    """Extract, then shingle and sketch: all the CPU-bound work, in one worker call."""
    # Imported here, not above: the event loop's process imports this module to name the
    # function for its workers, and would otherwise load trafilatura and lxml for nothing.
    from feedd.extract.extractor import try_extract

    outcome = try_extract(page)
    if isinstance(outcome, ExtractionFailure):
        return outcome, None
    return outcome, Candidate.from_article(outcome, fingerprinter)
