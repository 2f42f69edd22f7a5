"""Bytes in Redis that the shared index did not write (a corrupt entry, another program's key) are
a clear SharedIndexError naming the key: the document waits, nothing crashes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from conftest import LoopbackServer, RedisServer, article_page, rss, story, write_config
from feedd.dedup import Candidate, DuplicateMatch, SharedIndex, Thresholds
from feedd.errors import SharedIndexError
from feedd.extract import Article, Block

THRESHOLDS = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20)
NOT_UTF8 = b"\xff\xfe\xc3(corrupt"


def _candidate(index: SharedIndex, url: str, paragraphs: list[str] | None = None) -> Candidate:
    blocks = tuple(Block("paragraph", text) for text in paragraphs or story(1, 6))
    article = Article(title="A story", published=None, lead=None, url=url, canonical_url=url, blocks=blocks)
    return Candidate.from_article(article, index.fingerprinter)


@pytest.mark.parametrize("kind", ["url", "body", "params"])
def test_a_key_holding_bytes_that_are_not_text_is_named(redis_server: RedisServer, kind: str) -> None:
    index = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="bad")
    candidate = _candidate(index, "https://a.example/1")
    key = {
        "url": "bad:url:https://a.example/1",
        "body": f"bad:body:{candidate.body_hash}",
        "params": "bad:params",
    }[kind]
    redis.Redis.from_url(redis_server.url).set(key, NOT_UTF8)
    with pytest.raises(SharedIndexError, match=f"corrupt entry {key}: .* is not UTF-8"):
        asyncio.run(_claims(index, (candidate, "doc-a")))


@pytest.mark.parametrize("field", ["shingles", "text"])
def test_a_near_duplicate_candidate_with_corrupt_fields_is_named(
    redis_server: RedisServer, field: str
) -> None:
    index = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="bad")
    assert asyncio.run(_claims(index, (_candidate(index, "https://a.example/1"), "doc-a"))) == [None]
    # Three bytes: neither whole 32-bit shingles nor zlib data.
    redis.Redis.from_url(redis_server.url).hset("bad:doc:doc-a", field, b"\x01\x02\x03")
    rewritten = story(1, 6)[:5] + ["A closing sentence the second outlet added to the wire copy."]
    copy = _candidate(index, "https://b.example/2", rewritten)  # a near copy: its LSH finds doc-a
    later = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="bad")  # a new event loop
    with pytest.raises(SharedIndexError, match="corrupt entry bad:doc:doc-a: its shingles or text"):
        asyncio.run(_claims(later, (copy, "doc-b")))


async def _claims(index: SharedIndex, *claims: tuple[Candidate, str]) -> list[DuplicateMatch | None]:
    """Each claim's duplicate_of, in one event loop (the index's connections belong to it)."""
    try:
        return [(await index.claim(candidate, doc)).duplicate_of for candidate, doc in claims]
    finally:
        await index.close()


def test_run_once_names_the_corrupt_key_and_the_document_waits(
    server: LoopbackServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    link = server.add("/story/1", article_page("Story one", story(7, 5)))
    feed = server.add("/feed.xml", rss([{"title": "Story one", "link": link, "guid": "s1"}]))
    config = write_config(tmp_path, [{"url": feed}])
    config.write_text(
        config.read_text().replace(
            "[extract]\n", f'[dedup]\nbackend = "{redis_server.url}"\nnamespace = "bad"\n[extract]\n'
        )
    )
    redis.Redis.from_url(redis_server.url).set(f"bad:url:{link}", NOT_UTF8)
    run = subprocess.run(
        [sys.executable, "-m", "feedd", "run-once", "-c", str(config)], capture_output=True, text=True
    )
    assert "Traceback" not in run.stderr, run.stderr
    assert f"corrupt entry bad:url:{link}" in run.stdout + run.stderr
    assert "waiting for the shared dedup index" in run.stdout + run.stderr
    assert not list((tmp_path / "out").glob("*.txt"))
