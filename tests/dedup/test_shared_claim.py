"""The claim across instances holds when a holder is slowed past the claim lock's lifetime (a
blocked event loop, a paused process): whatever it decided while it no longer held the lock is
not recorded, so two instances never both keep one story."""

from __future__ import annotations

import time

import pytest

from conftest import RedisServer, story
from feedd.dedup import Candidate, SharedIndex, Thresholds
from feedd.dedup import shared as shared_module
from feedd.dedup.records import Verdict
from feedd.errors import SharedIndexError
from feedd.extract import Article, Block

THRESHOLDS = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20)
#: A short lock, so that outliving it takes a second, not the production lifetime.
LOCK_LIFETIME = 1.0


def _article(url: str, paragraphs: list[str]) -> Article:
    blocks = tuple(Block("paragraph", text) for text in paragraphs)
    return Article(title="A story", published=None, lead=None, url=url, canonical_url=url, blocks=blocks)


@pytest.mark.parametrize(
    ("copy_url", "copy_id"),
    [
        # Syndicated copies naming one canonical URL: one document id in both instances.
        ("https://a.example/1", "doc-a"),
        # A copy of the text at another URL.
        ("https://b.example/9", "doc-b"),
    ],
)
def test_a_holder_slowed_past_the_lock_s_lifetime_does_not_keep_the_story_too(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, copy_url: str, copy_id: str
) -> None:
    monkeypatch.setattr(shared_module, "_LOCK_TIMEOUT", LOCK_LIFETIME)
    other = SharedIndex(redis_server.url, THRESHOLDS, owner="two", namespace="slow")
    copy = Candidate.from_article(_article(copy_url, story(4, 6)), other.fingerprinter)
    answers: list[Verdict] = []

    class StalledHolder(SharedIndex):
        """An instance whose first claim stalls, lock held, between deciding and recording."""

        def _find(self, candidate: Candidate, document_id: str) -> Verdict:
            verdict = super()._find(candidate, document_id)
            if not answers:
                time.sleep(LOCK_LIFETIME + 0.5)  # the lock runs out meanwhile
                answers.append(other.claim(copy, copy_id))  # and the other instance claims the story
            return verdict

    stalled = StalledHolder(redis_server.url, THRESHOLDS, owner="one", namespace="slow")
    original = Candidate.from_article(_article("https://a.example/1", story(4, 6)), stalled.fingerprinter)
    try:
        first = stalled.claim(original, "doc-a")
    except SharedIndexError:  # the document waits, and the next pass asks again
        first = stalled.claim(original, "doc-a")
    assert answers[0].duplicate_of is None  # the other instance keeps it ...
    assert first.duplicate_of is not None and first.duplicate_of.document_id == copy_id  # ... this one not
    # Nothing of the stalled claim reached Redis: every key names the other instance's claim.
    client = stalled._redis
    assert client.get(f"slow:url:{copy_url}") == client.get(f"slow:body:{copy.body_hash}") == copy_id.encode()
    assert client.hget(f"slow:doc:{copy_id}", "owner") == b"two"
    assert client.zrange("slow:claimed", 0, -1) == [copy_id.encode()]
    assert client.get("slow:url:https://a.example/1") in (None, copy_id.encode())
