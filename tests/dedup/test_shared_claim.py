"""The claim across instances holds when a holder is slowed past the claim lock's lifetime (a
blocked event loop, a paused process): whatever it decided while it no longer held the lock is
not recorded, so two instances never both keep one story."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable
from typing import TypeVar

import pytest
import redis

from conftest import RedisServer, story
from feedd.dedup import Candidate, SharedIndex, Thresholds
from feedd.dedup import shared as shared_module
from feedd.dedup.records import Verdict
from feedd.errors import SharedIndexError
from feedd.extract import Article, Block

THRESHOLDS = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20)
#: A short lock, so that outliving it takes a second, not the production lifetime.
LOCK_LIFETIME = 1.0
T = TypeVar("T")


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

        async def _find(self, candidate: Candidate, document_id: str) -> Verdict:
            verdict = await super()._find(candidate, document_id)
            if not answers:
                await asyncio.sleep(LOCK_LIFETIME + 0.5)  # the lock runs out meanwhile
                answers.append(await other.claim(copy, copy_id))  # and the other instance claims the story
            return verdict

    stalled = StalledHolder(redis_server.url, THRESHOLDS, owner="one", namespace="slow")
    original = Candidate.from_article(_article("https://a.example/1", story(4, 6)), stalled.fingerprinter)

    async def go() -> Verdict:
        try:
            return await stalled.claim(original, "doc-a")
        except SharedIndexError:  # the document waits, and the next pass asks again
            return await stalled.claim(original, "doc-a")
        finally:
            await stalled.close()
            await other.close()

    first = asyncio.run(go())
    assert answers[0].duplicate_of is None  # the other instance keeps it ...
    assert first.duplicate_of is not None and first.duplicate_of.document_id == copy_id  # ... this one not
    # Nothing of the stalled claim reached Redis: every key names the other instance's claim.
    client = redis.Redis.from_url(redis_server.url)
    assert client.get(f"slow:url:{copy_url}") == client.get(f"slow:body:{copy.body_hash}") == copy_id.encode()
    assert client.hget(f"slow:doc:{copy_id}", "owner") == b"two"
    assert client.zrange("slow:claimed", 0, -1) == [copy_id.encode()]
    assert client.get("slow:url:https://a.example/1") in (None, copy_id.encode())


async def _ticks_while(work: Awaitable[T]) -> tuple[T | BaseException, int]:
    """What `work` gave (or raised), and how often a 10 ms ticker ran on the loop meanwhile."""
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        result: T | BaseException = await work
    except Exception as exc:
        result = exc
    ticker.cancel()
    return result, ticks


def test_the_event_loop_goes_on_while_a_claim_waits_for_the_lock(redis_server: RedisServer) -> None:
    # Another instance holds the lock for 1.5 s: the claim waits for it asleep, not blocking.
    index = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="busy")
    candidate = Candidate.from_article(_article("https://a.example/1", story(8, 6)), index.fingerprinter)
    redis.Redis.from_url(redis_server.url).set("busy:lock", "another instance's token", px=1500)

    async def go() -> tuple[Verdict | BaseException, int]:
        try:
            return await _ticks_while(index.claim(candidate, "doc-a"))
        finally:
            await index.close()

    started = time.monotonic()
    verdict, ticks = asyncio.run(go())
    assert isinstance(verdict, Verdict) and verdict.duplicate_of is None
    assert time.monotonic() - started >= 1.4  # it did wait for the lock ...
    assert ticks >= 50  # ... while the loop ran on (a blocking wait lets it tick about once)


def test_the_event_loop_goes_on_while_redis_does_not_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Redis that accepts the connection and never answers: the claim fails after the socket
    # timeout, and the loop ran on meanwhile.
    monkeypatch.setattr(shared_module, "_SOCKET_TIMEOUT", 1.0)
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        index = SharedIndex(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", THRESHOLDS, owner="one")
        candidate = Candidate.from_article(_article("https://a.example/1", story(8, 6)), index.fingerprinter)

        async def go() -> tuple[Verdict | BaseException, int]:
            try:
                return await _ticks_while(index.claim(candidate, "doc-a"))
            finally:
                await index.close()

        failure, ticks = asyncio.run(go())
    finally:
        silent.close()
    assert isinstance(failure, SharedIndexError) and "unavailable" in str(failure)
    assert ticks >= 30
