"""Text as duplicate detection reads it: one normalisation for hashing, shingling and verifying."""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans(
    {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u00b4`"}
    | {c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"}
)
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_NON_WORD = re.compile(r"[\W_]+")


def normalise_text(text: str) -> str:
    """Text as duplicate detection sees it: NFKC, case-folded, quote and dash styles unified,
    punctuation and whitespace folded to single spaces."""
    text = fold_quotes_and_dashes(unicodedata.normalize("NFKC", text).casefold())
    return _NON_WORD.sub(" ", text).strip()


def fold_quotes_and_dashes(text: str) -> str:
    """Every style of quotation mark as ' or ", every dash as -."""
    return _DASHES.sub("-", text.translate(_QUOTES))
