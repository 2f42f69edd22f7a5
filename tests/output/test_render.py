"""The normalised format of FORMAT.md, one block at a time."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from feedd.config import check_filename_template, render_filename
from feedd.extract import Article, Block
from feedd.output import format_date, render


def _article(**changes: object) -> Article:
    fields: dict[str, object] = {
        "title": "Kim calls Putin his 'dearest friend'",
        "published": date(2024, 12, 31),
        "lead": "In his New Year letter, Kim praised their ties.",
        "url": "https://p.dw.com/p/4ohNM",
        "canonical_url": "https://www.dw.com/en/a-71194537",
        "blocks": (Block("paragraph", text="First paragraph."), Block("paragraph", text="Second paragraph.")),
        "credit": "ess/lo\xa0(AFP, Reuters)",
    }
    fields.update(changes)
    return Article(**fields)  # type: ignore[arg-type]


def test_blocks_in_order_separated_by_one_blank_line_without_trailing_newline() -> None:
    assert render(_article()) == (
        "Kim calls Putin his 'dearest friend'\n\nDecember 31, 2024\n\n"
        "In his New Year letter, Kim praised their ties.\n\nhttps://p.dw.com/p/4ohNM\n\n"
        "First paragraph.\n\nSecond paragraph.\n\ness/lo\xa0(AFP, Reuters)"
    )


def test_title_is_one_line() -> None:
    assert render(_article(title="A title\nsplit over\tlines")).startswith("A title split over\tlines\n\n")


@pytest.mark.parametrize(
    ("day", "text"), [(date(2024, 12, 31), "December 31, 2024"), (date(2025, 1, 5), "January 5, 2025")]
)
def test_date_is_english_month_day_year(day: date, text: str) -> None:
    assert format_date(day) == text


def test_unknown_date_is_omitted() -> None:
    assert (
        render(_article(published=None)).split("\n\n")[1] == "In his New Year letter, Kim praised their ties."
    )


def test_missing_lead_is_omitted() -> None:
    assert render(_article(lead=None)).split("\n\n")[2] == "https://p.dw.com/p/4ohNM"


def test_link_follows_lead() -> None:
    assert render(_article()).split("\n\n")[3] == "https://p.dw.com/p/4ohNM"


def test_subheadings_are_blocks_of_their_own() -> None:
    blocks = (
        Block("paragraph", text="Before."),
        Block("heading", text="A subheading"),
        Block("paragraph", text="After."),
    )
    assert render(_article(blocks=blocks, credit=None)).endswith("Before.\n\nA subheading\n\nAfter.")


def test_lists_one_item_per_line() -> None:
    blocks = (
        Block("list", items=("apples", "pears")),
        Block("list", items=("first", "second", "third"), ordered=True),
    )
    assert render(_article(blocks=blocks, credit=None)).endswith(
        "- apples\n- pears\n\n1. first\n2. second\n3. third"
    )


def test_credit_is_the_last_block() -> None:
    assert render(_article()).rsplit("\n\n", 1)[1] == "ess/lo\xa0(AFP, Reuters)"
    assert render(_article(credit=None)).rsplit("\n\n", 1)[1] == "Second paragraph."


def test_blank_only_blocks_are_not_blocks() -> None:
    blocks = (
        Block("paragraph", text="One."),
        Block("paragraph", text="\xa0"),
        Block("paragraph", text="Two."),
    )
    assert "One.\n\nTwo." in render(_article(blocks=blocks))


def test_output_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Café in Zürich")
    assert "Café in Zürich" in render(_article(title=decomposed))


def test_file_names() -> None:
    assert render_filename("{seq:03d}_{id}.txt", seq=7, doc_id="2dce832f619571ad", day=date(2024, 1, 2)) == (
        "007_2dce832f619571ad.txt"
    )
    assert render_filename("{seq:03d}_{id}.txt", seq=1234, doc_id="ab", day=date(2024, 1, 2)) == "1234_ab.txt"
    assert render_filename(
        "{date:%Y/%m/%d}/{seq:03d}_{id}.txt", seq=0, doc_id="ab", day=date(2024, 1, 2)
    ) == ("2024/01/02/000_ab.txt")


@pytest.mark.parametrize(
    "template", ["{id}.txt", "/abs/{seq}.txt", "../{seq}.txt", "{seq}_{nope}.txt", "{seq:Q}"]
)
def test_bad_file_name_templates(template: str) -> None:
    with pytest.raises(ValueError):
        check_filename_template(template)
