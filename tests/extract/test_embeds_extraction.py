"""Quoted material at extraction: embedded posts, pull quotes and listings are marked
`Block.quoted`, and saved as any block (their text in reading order, lists one item per line)."""

from __future__ import annotations

import gzip
import json

from conftest import feed_entry, shared_data, story
from feedd.extract import Article, ExtractionFailure, PageInput, html_to_blocks, try_extract
from feedd.feeds import Entry
from feedd.output.format import render

URL = "https://news.example/a/1"
OWN = story(401, paragraphs=3)
POSTS = story(402, paragraphs=4, words=30)


def _entry(**changes: object) -> Entry:
    return feed_entry(URL, **({"canonical_link": None, "title": "Harbour row"} | changes))


def _extract(body: str, title: str = "Harbour row") -> Article:
    html = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title} | News</title>"
        f"</head><body><nav><a href='/'>Home</a></nav><main><article><h1>{title}</h1>{body}"
        "</article></main><footer><p>© News</p></footer></body></html>"
    )
    article = try_extract(PageInput(_entry(), html.encode(), "text/html; charset=utf-8", URL))
    assert isinstance(article, Article), article
    return article


def _quoted(article: Article) -> list[str]:
    return [block.text or " / ".join(block.items) for block in article.blocks if block.quoted]


TWEET = (
    f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{POSTS[0]}</p>&mdash; Mayor Jane '
    '(@mayorjane) <a href="https://twitter.com/mayorjane/status/1">March 5, 2024</a></blockquote>'
    '<script async src="https://platform.twitter.com/widgets.js"></script>'
)
INSTAGRAM = (
    '<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-version="14"><div>'
    f"<p>{POSTS[1]}</p><p><a href='https://www.instagram.com/p/x/'>A post shared by Harbour Club "
    "(@harbourclub)</a></p></div></blockquote>"
)
BLUESKY = (
    f'<blockquote class="bluesky-embed" data-bluesky-uri="at://did:plc:x/app.bsky.feed.post/1">'
    f'<p lang="en">{POSTS[2]}</p>&mdash; Port Authority (<a href="https://bsky.app/profile/x">'
    "@port.bsky.social</a>) <a href='https://bsky.app/profile/x/post/1'>March 5, 2024 at 10:00"
    "</a></blockquote>"
)
MASTODON = f'<blockquote class="mastodon-embed" data-embed-url="https://m.example/@a/1/embed"><p>{POSTS[3]}</p></blockquote>'


def test_embedded_posts_are_quoted_and_the_outlets_own_paragraphs_are_not() -> None:
    article = _extract(f"<p>{OWN[0]}</p>{TWEET}<p>{OWN[1]}</p>{INSTAGRAM}{BLUESKY}<p>{OWN[2]}</p>{MASTODON}")
    texts = [block.text for block in article.blocks]
    for own in OWN:
        assert [block.quoted for block in article.blocks if block.text == own] == [False]
    for post in POSTS:
        assert any(post in quoted for quoted in _quoted(article)), post
    # In reading order, each a paragraph as before: the saved file does not change.
    assert texts.index(OWN[0]) < texts.index(OWN[1]) < texts.index(OWN[2])
    tweet = next(block for block in article.blocks if POSTS[0] in block.text)
    assert tweet.kind == "paragraph" and texts.index(OWN[0]) < texts.index(tweet.text) < texts.index(OWN[1])
    assert f"\n\n{tweet.text}\n\n" in render(article)


def test_pull_quotes_are_quoted_and_an_inline_q_is_not() -> None:
    pull = "Nobody on the council had read the harbour plan before the vote was taken."
    inline = f"The mayor said <q>the plan stands</q> and left. {OWN[1]}"
    for element in ("blockquote class='pullquote'", "div class='c-article__pull-quote'"):
        tag = element.split()[0]
        article = _extract(f"<p>{OWN[0]}</p><{element}><p>{pull}</p></{tag}><p>{inline}</p><p>{OWN[2]}</p>")
        assert _quoted(article) == [pull], element
        assert len(article.blocks) == 4


def test_a_pull_quote_repeating_a_line_of_the_story_leaves_the_line_the_storys() -> None:
    line = "Nobody on the council had read the harbour plan before the vote was taken."
    for first, second in (
        (f"<p>{line}</p>", f"<aside class='pullquote'><p>{line}</p></aside>"),
        (f"<blockquote class='pull-quote'><p>{line}</p></blockquote>", f"<p>{line}</p>"),
    ):
        article = _extract(f"<p>{OWN[0]}</p>{first}<p>{OWN[1]}</p>{second}<p>{OWN[2]}</p>")
        # One copy of the words counts as the story's, whichever comes first.
        assert [block.quoted for block in article.blocks if block.text == line][:1] == [False]
    # A pull quote of part of a longer paragraph is the quote, before or after the paragraph.
    longer = f"{line} The vote was held on Tuesday evening in the town hall."
    for first, second in (
        (f"<p>{longer}</p>", f"<blockquote class='pullquote'><p>{line}</p></blockquote>"),
        (f"<blockquote class='pullquote'><p>{line}</p></blockquote>", f"<p>{longer}</p>"),
    ):
        article = _extract(f"<p>{OWN[0]}</p>{first}<p>{OWN[1]}</p>{second}<p>{OWN[2]}</p>")
        assert [block.text for block in article.blocks if block.quoted] == [line]


def test_a_pull_quote_class_on_the_whole_story_does_not_quote_the_story() -> None:
    article = _extract(
        f"<div class='body has-pullquotes'><p>{OWN[0]}</p><p>{OWN[1]}</p><p>{OWN[2]}</p></div>"
    )
    assert [block.text for block in article.blocks] == OWN and _quoted(article) == []


def test_a_short_line_of_the_story_found_inside_a_post_stays_the_storys() -> None:
    slogan = "Meth. We're on it."
    tweet = TWEET.replace(POSTS[0], f"{POSTS[0]} {slogan} is what the campaign says")
    article = _extract(f"<p>{OWN[0]}</p><p>{slogan}</p><p>{OWN[1]}</p>{tweet}<p>{OWN[2]}</p>")
    assert [block.quoted for block in article.blocks if block.text == slogan] == [False]
    assert any(POSTS[0] in quoted for quoted in _quoted(article))


WINNERS = [
    "Best film: The Quiet Harbour",
    "Best director: Tomasz Wierzbicki",
    "Best actress: Ada Okonkwo",
    "Best actor: Luis Ferreira",
    "Screenplay: Ines Moreau",
]
RESULTS = "".join(
    f"<tr><td>{n}</td><td>{name}</td><td>{team}</td><td>{time}</td></tr>"
    for n, name, team, time in (
        (1, "Max Kowal", "Harbour CC", "3:12:04"),
        (2, "Ola Brandt", "River Riders", "3:12:09"),
        (3, "Sam Osei", "Harbour CC", "3:13:40"),
    )
)


def test_lists_of_names_and_tables_of_results_are_quoted_and_lists_of_sentences_are_not() -> None:
    winners = "".join(f"<li>{w}</li>" for w in WINNERS)
    points = "".join(f"<li>{s}</li>" for s in story(403, paragraphs=3, words=20))
    # Short sentences are prose too: no figure, few capitals.
    bullets = "".join(
        f"<li>{s}</li>"
        for s in (
            "Search engines will drive people to your information",
            "Investing in adequate infrastructure;",
            "the council will vote again in March",
        )
    )
    article = _extract(
        f"<p>{OWN[0]}</p><ul>{winners}</ul><p>{OWN[1]}</p><ol>{points}</ol><p>{OWN[2]}</p><ul>{bullets}</ul>"
        f"<table><tr><th>Place</th><th>Rider</th><th>Team</th><th>Time</th></tr>{RESULTS}</table>"
    )
    lists = [block for block in article.blocks if block.kind == "list"]
    assert [(block.ordered, block.quoted) for block in lists] == [
        (False, True),
        (True, False),
        (False, False),
    ]
    assert lists[0].items == tuple(WINNERS)
    table = next(block for block in article.blocks if block.kind == "table")
    assert table.quoted and table.items[1] == "1 | Max Kowal | Harbour CC | 3:12:04"
    # Lists one item per line, as the saved file has always had them.
    assert "\n\n- Best film: The Quiet Harbour\n- Best director: Tomasz Wierzbicki\n" in render(article)


def test_a_feed_entrys_own_html_marks_its_embeds() -> None:
    pull = "Nobody on the council had read the harbour plan before the vote was taken."
    blocks = html_to_blocks(f"<p>{OWN[0]}</p>{TWEET}<p>{OWN[1]}</p><aside class='pullquote'>{pull}</aside>")
    # The post, then its byline (a block of its own here), then the pull quote.
    assert [(block.text[:20], block.quoted) for block in blocks] == [
        (OWN[0][:20], False),
        (POSTS[0][:20], True),
        ("— Mayor Jane (@mayor", True),
        (OWN[1][:20], False),
        (pull[:20], True),
    ]


def test_real_pages_with_embedded_posts() -> None:
    """AEB pages that embed tweets: each post's paragraph is quoted, the story's are not."""
    folder = shared_data("extraction", "aeb")
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    expected = {
        # The Vox page quotes two tweets in full; The Hill's one.
        "16c30add7e96315e9cc957d85aa876ccb6b70055f0ddab51547a586117cc1f56": (
            "Delhi has turned into a gas chamber",
            "The air quality in Delhi was horrific on Sunday",
        ),
        "6ebac05f637ece8aa57c298a2a5e3a8047f546f855d0f29cc683cea60ce85c85": (
            "Sharing my full letter on the the sentencing",
        ),
    }
    for key, starts in expected.items():
        html = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        page = PageInput(_entry(title=""), html, "text/html", truth[key]["url"])
        article = try_extract(page)
        assert not isinstance(article, ExtractionFailure)
        quoted = _quoted(article)
        assert len(quoted) == len(starts) and all(
            q.startswith(s) for q, s in zip(quoted, starts, strict=True)
        )
        assert sum(not block.quoted for block in article.blocks) >= 8
