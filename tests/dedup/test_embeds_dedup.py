"""Quoted material in duplicate detection: embedded posts and listings weigh like quotations, so
two write-ups that quote the same posts or print the same list stay apart, while a copy that
carries them is still a copy."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import LoopbackServer, rss, story, write_config
from feedd import load_config, run_once
from feedd.config import DedupConfig
from feedd.dedup import (
    Candidate,
    FingerprintRecord,
    NearParams,
    SavedFingerprint,
    Thresholds,
    Words,
    decide,
    fingerprinter,
    normalise_text,
)
from feedd.extract import Article, Block

DEFAULTS = Thresholds.of(DedupConfig())
MAKE = fingerprinter(NearParams())


def _tweet(number: int) -> str:
    """An X/Twitter embed as the platform's embed code writes it: the post's text, then who."""
    text = story(900 + number, paragraphs=1, words=45)[0]
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text} '
        f'<a href="https://t.co/x{number}">pic.twitter.com/x{number}</a></p>&mdash; Mayor Jane Doe '
        f'(@mayorjane) <a href="https://twitter.com/mayorjane/status/{number}">March 5, 2024</a>'
        '</blockquote><script async src="https://platform.twitter.com/widgets.js"></script>'
    )


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title} | News</title>"
        f"</head><body><nav><a href='/'>Home</a></nav><main><article><h1>{title}</h1>{body}"
        "</article></main></body></html>"
    )


def test_write_ups_embedding_the_same_posts_are_both_saved_and_their_wire_copy_dropped(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """Each outlet's own prose is 80 words beside the same three posts (135 words): counted like
    prose, the posts made the second outlet's story 60% copied, a copy of the first."""
    ours, theirs = story(301, 2), story(302, 2)
    tweets = [_tweet(n) for n in range(3)]
    first = _page(
        "Mayor's posts split the council",
        f"<p>{ours[0]}</p>{tweets[0]}{tweets[1]}<p>{ours[1]}</p>{tweets[2]}",
    )
    second = _page("Council answers the mayor", f"<p>{theirs[0]}</p>{''.join(tweets)}<p>{theirs[1]}</p>")
    wire_copy = _page("Posts by the mayor split council", first.split("<main>")[1].split("</main>")[0])
    pages = {
        "Mayor's posts split the council": server.add("/a/posts", first),
        "Council answers the mayor": server.add("/b/answers", second),
        "Posts by the mayor split council": server.add("/c/copy", wire_copy),
    }
    items = [{"title": title, "link": url, "guid": url} for title, url in pages.items()]
    feed = server.add("/rss", rss(items), headers={"Content-Type": "application/rss+xml"})
    summary = run_once(load_config(write_config(tmp_path, [{"url": feed, "name": "News"}])))
    assert (summary.saved, summary.duplicate, summary.failed) == (2, 1, 0)
    manifest = (tmp_path / "out" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    saved = {json.loads(line)["title"] for line in manifest}
    assert saved == {"Mayor's posts split the council", "Council answers the mayor"}
    # The posts are in both saved files as the pages print them, one paragraph each.
    post = story(900, paragraphs=1, words=45)[0]
    for line in manifest:
        document = (tmp_path / "out" / json.loads(line)["file"]).read_text(encoding="utf-8")
        assert f"\n\n{post} pic.twitter.com/x0" in document


WINNERS = tuple(
    f"{prize}: {name}"
    for prize, name in zip(
        (
            "Best film",
            "Best director",
            "Best actress",
            "Best actor",
            "Supporting actress",
            "Supporting actor",
            "Screenplay",
            "Adapted screenplay",
            "Documentary",
            "Animated film",
            "Short film",
            "Cinematography",
            "Editing",
            "Score",
            "Song",
            "Sound",
            "Production design",
            "Costume design",
            "Make-up",
            "Visual effects",
            "International film",
            "Debut feature",
            "Audience award",
            "Lifetime achievement",
        ),
        (
            "The Quiet Harbour by Mara Lindqvist",
            "Tomasz Wierzbicki for Night Trains",
            "Ada Okonkwo in The Quiet Harbour",
            "Luis Ferreira in Salt and Iron",
            "Hannah Brandt in Little Rivers",
            "Samuel Osei in Night Trains",
            "Ines Moreau for Paper Lanterns",
            "Kenji Arai for The Long Field",
            "Voices of the Delta by Ruth Abebe",
            "The Lantern Fox by Pia Holm",
            "Eleven Minutes by Omar Haddad",
            "Jonas Kivi for Salt and Iron",
            "Clara Mendes for Night Trains",
            "Nils Aune for The Quiet Harbour",
            "Northern Lights by Mira Sol",
            "Team of Little Rivers",
            "Agnieszka Wrona for Paper Lanterns",
            "Fatou Diallo for The Long Field",
            "Team of Salt and Iron",
            "Studio Kraan for The Lantern Fox",
            "Winter Bees from Estonia",
            "Ahmed Saleh for Ground Water",
            "Eleven Minutes by Omar Haddad",
            "Marta Keller",
        ),
        strict=True,
    )
)


def _article(url: str, title: str, prose: list[str], blocks_after: tuple[Block, ...]) -> Article:
    return Article(
        title=title,
        published=None,
        lead=None,
        url=url,
        canonical_url=url,
        blocks=(*(Block("paragraph", text=p) for p in prose), *blocks_after),
    )


def _saved(article: Article) -> SavedFingerprint:
    fingerprint = Candidate.from_article(article, MAKE).fingerprint
    assert fingerprint is not None
    return SavedFingerprint(article.url, fingerprint.shingles, FingerprintRecord.of(fingerprint).text)


def _verdict(new: Article, *saved: Article):
    fingerprint = Candidate.from_article(new, MAKE).fingerprint
    assert fingerprint is not None
    return decide(fingerprint, [_saved(article) for article in saved], DEFAULTS)


def test_write_ups_printing_the_same_list_of_winners_stay_apart_and_a_copy_does_not() -> None:
    """40 words of each outlet's own beside the same 150-word list: the shingle sets are 65%
    alike (Jaccard), and read as prose the list made the second a copy of the first."""
    listing = Block("list", items=WINNERS, quoted=True)
    first = _article("https://a.example/awards", "Harbour film wins the festival", story(311, 1), (listing,))
    second = _article("https://b.example/awards", "Festival prizes announced", story(312, 1), (listing,))
    apart = _verdict(second, first)
    assert apart.duplicate_of is None
    assert apart.nearest is not None and apart.nearest.evidence is not None
    assert apart.nearest.jaccard is not None and apart.nearest.jaccard > DEFAULTS.jaccard
    assert apart.nearest.evidence.copied_share < DEFAULTS.copied_share
    unmarked = _article(second.url, second.title, story(312, 1), (Block("list", items=WINNERS),))
    assert _verdict(unmarked, first).duplicate_of is not None
    # A copy that trims the list and changes the title is still a copy.
    trimmed = Block("list", items=WINNERS[:16], quoted=True)
    copy = _article("https://c.example/copy", "Festival: harbour film wins", story(311, 1), (trimmed,))
    copied = _verdict(copy, first).duplicate_of
    assert copied is not None and copied.document_id == first.url


def test_quoted_lines_are_quoted_whole_whatever_marks_they_hold() -> None:
    words = Words.of('Own prose here.\n> "A post" that says "so" much\nMore "quoted" prose')
    assert words.words == (
        "own",
        "prose",
        "here",
        "a",
        "post",
        "that",
        "says",
        "so",
        "much",
        "more",
        "quoted",
        "prose",
    )
    assert words.quoted == (False, False, False, True, True, True, True, True, True, False, True, False)


def test_the_mark_changes_neither_shingles_nor_the_body_hash() -> None:
    plain = _article("https://a.example/1", "Title", story(321, 2), (Block("list", items=WINNERS),))
    marked = _article(
        "https://a.example/1", "Title", story(321, 2), (Block("list", items=WINNERS, quoted=True),)
    )
    plain_candidate, marked_candidate = (
        Candidate.from_article(plain, MAKE),
        Candidate.from_article(marked, MAKE),
    )
    assert plain_candidate.body_hash == marked_candidate.body_hash
    assert plain_candidate.fingerprint is not None and marked_candidate.fingerprint is not None
    assert (plain_candidate.fingerprint.shingles == marked_candidate.fingerprint.shingles).all()
    text = marked_candidate.fingerprint.text
    assert text.count("\n> ") == len(WINNERS) and normalise_text(text) == normalise_text(
        plain_candidate.fingerprint.text
    )


def test_a_document_saved_before_the_marks_is_told_apart_on_the_new_documents_marks() -> None:
    """States and shared indexes written before hold the text without marks: the saved side's
    listing then counts as prose in how much of it the new one holds, but the decision weighs
    the new document's own text, which has them."""
    listing = Block("list", items=WINNERS, quoted=True)
    old = _article(
        "https://a.example/awards",
        "Harbour film wins the festival",
        story(311, 1),
        (Block("list", items=WINNERS),),
    )
    second = _article("https://b.example/awards", "Festival prizes announced", story(312, 1), (listing,))
    assert _verdict(second, old).duplicate_of is None
