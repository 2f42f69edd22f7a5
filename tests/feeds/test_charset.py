"""Bytes to text: BOMs, valid UTF-8 over a wrong label, the declared charset that reads as text,
and windows-1252 where "latin-1" is declared or nothing else fits."""

from __future__ import annotations

import codecs

import pytest

from feedd.feeds import charset_of, choose_encoding, decode_html

RUSSIAN = "Приветствую всех участников сегодняшнего собрания городского совета, обсуждаем бюджет."
QUOTES = "“Smart quotes” cost 5 € — said the café owner."


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=utf-8", "utf-8"),
        ('text/html; Charset="ISO-8859-1"', "ISO-8859-1"),
        ("text/html;charset='koi8-r'; format=flowed", "koi8-r"),
        ("text/html", None),
        ("", None),
        (None, None),
    ],
)
def test_charset_of_reads_the_content_type_parameter(content_type: str | None, charset: str | None) -> None:
    assert charset_of(content_type) == charset


@pytest.mark.parametrize(
    ("bom", "text_codec", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
        # FF FE 00 00 begins with the UTF-16 LE BOM: the longer UTF-32 one must win.
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    ],
)
def test_a_bom_decides_whatever_is_declared(bom: bytes, text_codec: str, encoding: str) -> None:
    content = bom + "Grüße".encode(text_codec)
    assert choose_encoding(content, ["iso-8859-1", "koi8-r"]) == encoding
    assert content.decode(encoding) == "Grüße"
    assert decode_html(content, "text/html; charset=iso-8859-1") == "Grüße"


def test_valid_utf8_wins_over_a_wrong_declared_charset() -> None:
    content = "Café “Marché” — 5 €".encode()
    assert choose_encoding(content, ["iso-8859-1", "windows-1251"]) == "utf-8"
    assert decode_html(content, "text/html; charset=iso-8859-1") == "Café “Marché” — 5 €"


def test_plain_ascii_is_read_as_utf8() -> None:
    assert choose_encoding(b"plain text", []) == "utf-8"


def test_the_declared_charset_that_reads_as_text_is_chosen() -> None:
    content = RUSSIAN.encode("koi8-r")
    # A wrong "latin-1" header beside the document's right declaration, in either order.
    assert choose_encoding(content, ["latin-1", "koi8-r"]) == "koi8_r"
    assert choose_encoding(content, ["KOI8-R", "iso-8859-1"]) == "koi8_r"
    # An invalid "utf-8" label and unknown labels are passed over.
    assert choose_encoding(content, ["utf-8", "no-such-charset", None, "koi8-r"]) == "koi8_r"


def test_no_declared_charset_that_reads_as_text_leaves_the_guess_to_the_caller() -> None:
    content = RUSSIAN.encode("koi8-r")
    assert choose_encoding(content, ["latin-1"]) is None  # mojibake as windows-1252
    assert choose_encoding(content, [None, "no-such-charset", ""]) is None
    assert choose_encoding(content, []) is None


@pytest.mark.parametrize(
    "label", ["iso-8859-1", "ISO8859-1", "latin1", "Latin-1", "us-ascii", "ascii", "cp819"]
)
def test_latin1_and_ascii_labels_mean_windows_1252(label: str) -> None:
    content = QUOTES.encode("cp1252")  # 0x93, 0x94, 0x80: quotes and € only windows-1252 has
    assert choose_encoding(content, [label]) == "cp1252"
    assert decode_html(content, f"text/html; charset={label}") == QUOTES


def test_decode_html_reads_the_meta_charset_when_the_header_has_none() -> None:
    body = "Москва сегодня приняла решение о новом бюджете города и школ"
    content = b'<html><head><meta charset="windows-1251"></head><body>' + body.encode("cp1251")
    assert body in decode_html(content, "text/html")
    http_equiv = b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">'
    assert decode_html(http_equiv + RUSSIAN.encode("koi8-r"), None).endswith(RUSSIAN)


def test_decode_html_detects_an_undeclared_charset() -> None:
    content = b"<p>" + RUSSIAN.encode("cp1251") + b"</p>"
    assert decode_html(content, "text/html") == f"<p>{RUSSIAN}</p>"


def test_decode_html_falls_back_to_windows_1252_when_nothing_fits() -> None:
    # Every high byte, three times: no charset detector's candidate reads it as text.
    content = bytes(range(128, 256)) * 3
    text = decode_html(content, None)
    assert text == content.decode("cp1252", errors="replace")
    assert text.startswith("€\ufffd‚ƒ„")  # 0x81 is undefined in windows-1252: replaced, not raised
