"""Article to the normalised text of FORMAT.md. The only module that knows the format."""

from __future__ import annotations

import unicodedata
from datetime import date

from feedd.extract import Article, Block

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def render(article: Article) -> str:
    """The document text: title, date, lead, link, body blocks, credit; one blank line between
    blocks, NFC, no trailing newline."""
    blocks = [_one_line(article.title)]
    if article.published:
        blocks.append(format_date(article.published))
    if article.lead:
        blocks.append(_one_line(article.lead))
    blocks.append(article.url)
    blocks.extend(_render_block(block) for block in article.blocks)
    if article.credit:
        blocks.append(_one_line(article.credit))
    # A block of nothing but (no-break) spaces is not a block.
    text = "\n\n".join(block for block in blocks if block.strip())
    return unicodedata.normalize("NFC", text)


def format_date(day: date) -> str:
    """ "December 31, 2024", whatever the locale."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _render_block(block: Block) -> str:
    if block.kind == "list":
        if block.ordered:
            return "\n".join(f"{n}. {item}" for n, item in enumerate(block.items, start=1))
        return "\n".join(f"- {item}" for item in block.items)
    if block.kind == "table":
        return "\n".join(block.items)
    return _one_line(block.text)


def _one_line(text: str) -> str:
    return " ".join(part for part in text.splitlines() if part)
