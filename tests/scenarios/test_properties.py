"""Property-based tests: no input makes parse, canonical URLs or render raise anything but
feedd's documented errors, and render's output is always in the format."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from feedd.errors import FeedParseError
from feedd.extract import Article, Block, html_to_blocks, normalise_space
from feedd.feeds import canonical_url, document_id, is_web_url, parse_feed
from feedd.output.format import format_date, render

FEED_TEMPLATE = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
    "<item><title>{title}</title><link>{link}</link><guid>{guid}</guid><description>{text}</description>"
    "</item></channel></rss>"
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_raises_only_feed_parse_error_on_any_bytes(data: bytes) -> None:
    try:
        feed = parse_feed(data, {"content-type": "application/xml"}, "https://feeds.example/rss")
    except FeedParseError:
        return
    assert feed.entries


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80), st.text(max_size=40), st.text(max_size=200))
def test_parse_survives_any_field_text(title: str, link: str, guid: str, text: str) -> None:
    from xml.sax.saxutils import escape

    document = FEED_TEMPLATE.format(
        title=escape(title), link=escape(link), guid=escape(guid), text=escape(text)
    )
    try:
        feed = parse_feed(document.encode("utf-8", "surrogatepass"), {}, "https://feeds.example/rss")
    except FeedParseError:
        return
    for entry in feed.entries:
        assert entry.link is None or entry.link.startswith(("http://", "https://"))


url_like = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    st.text(alphabet="abcXYZ.-[]:%0123456789", max_size=20),
    st.sampled_from(["", ":80", ":443", ":8080", ":99999", ":abc", ":"]),
    st.text(alphabet="/?&=#abc%utm_source", max_size=30),
)


@settings(max_examples=400, deadline=None)
@example("http://[::1")
@example("A:////")
@example("http://a:99999/")
@example("//host:abc/")
@example("http://[fe80::1]:8080/x?utm_source=y#z")
@example("0 #")
@given(st.text(max_size=120) | url_like)
def test_canonical_url_never_raises_and_is_stable(url: str) -> None:
    canonical = canonical_url(url, base="https://news.example/section/")
    assert canonical_url(canonical) == canonical
    assert re.fullmatch(r"[0-9a-f]{16}", document_id(canonical))
    if is_web_url(canonical):
        assert is_web_url(canonical_url(canonical))


paragraph = st.text(min_size=1, max_size=60).filter(lambda t: bool(normalise_space(t)))


@settings(max_examples=200, deadline=None)
@given(
    title=st.text(min_size=1, max_size=60),
    lead=st.none() | st.text(max_size=80),
    paragraphs=st.lists(paragraph, min_size=1, max_size=5),
    items=st.lists(paragraph, max_size=3),
    credit=st.none() | st.text(max_size=40),
    day=st.none() | st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)),
)
def test_render_always_gives_the_format(title, lead, paragraphs, items, credit, day) -> None:  # noqa: ANN001
    blocks = tuple(Block("paragraph", text=normalise_space(p)) for p in paragraphs)
    if items:
        blocks += (Block("list", items=tuple(normalise_space(i) for i in items)),)
    article = Article(title, day, lead, "https://news.example/a", "https://news.example/a", blocks, credit)
    text = render(article)
    assert text == unicodedata.normalize("NFC", text)
    assert not text.endswith("\n") and not text.startswith("\n")
    assert "\n\n\n" not in text and "\r" not in text
    out = text.split("\n\n")
    assert all(block.strip() for block in out)
    # The blocks in the format's order: title, date, lead (left out when blank), link, paragraphs,
    # list, credit (left out when blank). Line breaks inside a one-line block become spaces, so
    # those compare by their words; the link and the list's lines are exact.
    one_line = [title, format_date(day) if day else "", lead or ""]
    expected = [(False, part) for part in one_line if part.split()]
    expected.append((True, "https://news.example/a"))
    expected.extend((False, normalise_space(p)) for p in paragraphs)
    if items:
        expected.append((True, "\n".join(f"- {normalise_space(i)}" for i in items)))
    if credit and credit.split():
        expected.append((False, credit))
    assert len(out) == len(expected), (out, expected)
    for block, (exact, source) in zip(out, expected, strict=True):
        source = unicodedata.normalize("NFC", source)
        if exact:
            assert block == source
        else:
            assert "\n" not in block and block.split() == source.split()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_html_fragments_never_raise(html: str) -> None:
    for block in html_to_blocks(html):
        assert block.text or block.items
