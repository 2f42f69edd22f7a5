"""Exact duplicate detection and the text normalisation it (and near-duplicate detection) reads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import manifest_entry
from feedd.dedup import Candidate, Deduplicator, ExactDetector, Verdict, normalise_text
from feedd.extract import Article, Block
from feedd.feeds import canonical_url, document_id
from feedd.state import NewDocument, State

LONG_BODY = " ".join(f"word{n}" for n in range(40))


def _article(url: str, body: str, title: str = "Title") -> Article:
    return Article(
        title=title,
        published=None,
        lead=None,
        url=url,
        canonical_url=url,
        blocks=(Block("paragraph", text=body),),
    )


def _save(store: State, article: Article) -> str:
    candidate = Candidate.from_article(article)
    doc_id = document_id(article.canonical_url)
    store.documents.save(
        NewDocument(
            doc_id=doc_id,
            canonical_url=article.canonical_url,
            body_hash=candidate.body_hash,
            text="x",
            filename_date=datetime(2024, 1, 1, tzinfo=UTC),
            feed_url="f",
            entry_key=article.canonical_url,
            entry_link=article.canonical_url,
            manifest=manifest_entry(),
        )
    )
    return doc_id


def test_normalisation_folds_case_quotes_dashes_punctuation_and_width() -> None:
    assert normalise_text("“Kim’s”  ＡＢＣ — Putin's, “friend”!") == normalise_text(
        "\"kim's\" abc - putin's friend"
    )
    assert normalise_text("Ünïcödé\u00a0text\n\tsplit") == "ünïcödé text split"


def test_same_url_and_same_body_are_duplicates(tmp_path: Path) -> None:
    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt") as store:
        dedup = Deduplicator([ExactDetector(store.documents)])
        saved = _save(store, _article("https://a.example/1", LONG_BODY))
        same_url = dedup.find(
            Candidate.from_article(_article("https://a.example/1", "Edited text entirely."))
        ).duplicate_of
        assert same_url is not None and (same_url.document_id, same_url.reason) == (
            saved,
            "same canonical URL",
        )
        restyled = _article("https://b.example/9", "“" + LONG_BODY.upper() + "”", title="Another title")
        same_body = dedup.find(Candidate.from_article(restyled)).duplicate_of
        assert same_body is not None and (same_body.document_id, same_body.reason) == (
            saved,
            "same normalised body",
        )
        longer = Candidate.from_article(_article("https://b.example/2", LONG_BODY + " more"))
        assert dedup.find(longer) == Verdict()


def test_short_identical_teasers_are_not_duplicates(tmp_path: Path) -> None:
    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt") as store:
        _save(store, _article("https://a.example/1", "Read more on our website."))
        other = Candidate.from_article(_article("https://a.example/2", "Read more on our website."))
        assert ExactDetector(store.documents).find(other) == Verdict()


def test_canonical_urls() -> None:
    assert canonical_url("HTTPS://WWW.Example.COM:443/a/b?utm_source=rss&id=7&fbclid=x#frag") == (
        "https://www.example.com/a/b?id=7"
    )
    assert canonical_url("http://example.com") == "http://example.com/"
    assert canonical_url("http://example.com:8080/x?b=2&a=1") == "http://example.com:8080/x?b=2&a=1"
    assert canonical_url("../x?gclid=1", base="http://example.com/a/b/") == "http://example.com/a/x"


def test_document_id_is_stable_and_16_hex_digits() -> None:
    assert document_id("https://p.dw.com/p/4ohNM") == "cfbede3ab80e51bb"
    assert len(document_id("https://x.example/")) == 16


def test_ipv6_hosts_keep_their_brackets() -> None:
    assert canonical_url("http://[FE80::1]:8080/x?utm_medium=rss") == "http://[fe80::1]:8080/x"
