"""The extract stage: a page (or the feed entry's own content) to an Article, in worker processes.

The records load eagerly and light: the event loop's process passes them along and must not
load trafilatura and lxml for it. The extraction functions load on first use (PEP 562)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedd._lazy import lazy_exports
from feedd.extract.records import Article, Block, BlockKind, ExtractionFailure, PageInput, blocks_text

if TYPE_CHECKING:
    from feedd.extract.blocks import html_to_blocks, normalise_space  # noqa: F401
    from feedd.extract.extractor import extract_article, try_extract  # noqa: F401
    from feedd.extract.title import clean_title  # noqa: F401

_LAZY = {
    "extract_article": "feedd.extract.extractor",
    "try_extract": "feedd.extract.extractor",
    "html_to_blocks": "feedd.extract.blocks",
    "normalise_space": "feedd.extract.blocks",
    "clean_title": "feedd.extract.title",
}

__all__ = ["Article", "Block", "BlockKind", "ExtractionFailure", "PageInput", "blocks_text", *_LAZY]


__getattr__ = lazy_exports(__name__, _LAZY)
