"""The foot of a story: separator lines and site boilerplate dropped, an agency or author credit
line moved out of the body."""

from __future__ import annotations

import re

from feedd.extract.records import Block

# Credit lines printed at the foot of news stories.
_CREDIT_PATTERNS = (
    # DW: "ess/lo (AFP, Reuters)", "dh/rt (dpa, AP)"
    re.compile(r"^[a-z]{1,5}(?:/[a-z]{1,5})+[\s\xa0]*(?:\([^()]{1,80}\))?\.?$"),
    # Reuters: "Reporting by ...; Editing by ...", "(Reporting by ...)"
    re.compile(
        r"^[(\[]?(?:additional\s+)?(?:reporting|writing|editing|compiled|research)\b.{0,40}\bby\b", re.I
    ),
    # AP and others: "Associated Press writer Jane Doe contributed to this report."
    re.compile(r"\bcontributed(?:\s+(?:to\s+)?(?:this|the)\s+(?:report|story|article))?\.?\)?$", re.I),
    re.compile(r"^[-—–]*\s*with (?:files|reporting) from\b", re.I),
    re.compile(r"^\(?(?:©|copyright)\s.{0,80}(?:associated press|reuters|afp|agence france|dpa)\b", re.I),
)
_MAX_CREDIT_CHARS = 300


# Lines news sites print after every story; not the story's text.
_TRAILING_CHROME = (
    re.compile(r"^our standards: the thomson reuters trust principles\.?$", re.I),
    re.compile(r"^(?:copyright|©) \d{4} the associated press\. all rights reserved\.?$", re.I),
    re.compile(r"^(?:this|the) (?:article|story) (?:was|has been) (?:updated|amended)\b.{0,80}$", re.I),
)
_SEPARATOR = re.compile(r"^[\W_]+$")


def split_credit(blocks: list[Block]) -> tuple[list[Block], str | None]:
    """Drop separator lines and trailing site boilerplate; move a trailing agency/author credit
    line out of the body."""
    blocks = [b for b in blocks if not (b.text and _SEPARATOR.match(b.text))]
    while (
        blocks and blocks[-1].kind == "paragraph" and any(p.match(blocks[-1].text) for p in _TRAILING_CHROME)
    ):
        blocks.pop()
    if len(blocks) >= 2 and blocks[-1].kind == "paragraph":
        last = blocks[-1].text
        if len(last) <= _MAX_CREDIT_CHARS and any(p.search(last) for p in _CREDIT_PATTERNS):
            return blocks[:-1], last
    return blocks, None
