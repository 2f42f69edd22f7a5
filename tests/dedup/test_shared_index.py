"""Several feedd instances, one dedup index in Redis: each story saved exactly once, nothing lost
when Redis is down or restarts, and the feed list split between instances without overlap."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import LoopbackServer, RedisServer, article_page, rss, story, write_config
from feedd import load_config, run_once
from feedd.config import ClusterConfig
from feedd.dedup import Candidate, DuplicateMatch, SharedIndex, Thresholds, Verdict
from feedd.errors import ConfigError, SharedIndexError
from feedd.extract import Article, Block

THRESHOLDS = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20)
RSS = {"Content-Type": "application/rss+xml"}


def _article(url: str, paragraphs: list[str], title: str = "A story") -> Article:
    blocks = tuple(Block("paragraph", text) for text in paragraphs)
    return Article(title=title, published=None, lead=None, url=url, canonical_url=url, blocks=blocks)


def test_claims_decide_once_across_instances(redis_server: RedisServer) -> None:
    one = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="claims")
    two = SharedIndex(redis_server.url, THRESHOLDS, owner="two", namespace="claims")  # another instance
    original = Candidate.from_article(_article("https://a.example/1", story(1, 6)), one.fingerprinter)
    rewritten = story(1, 6)[:5] + ["A closing sentence the second outlet added to the wire copy."]
    copy = Candidate.from_article(_article("https://b.example/9", rewritten, "Retitled"), two.fingerprinter)
    other = Candidate.from_article(_article("https://c.example/2", story(2, 6)), two.fingerprinter)
    same_url = Candidate.from_article(_article("https://a.example/1", story(3, 6)), two.fingerprinter)

    async def go() -> None:
        assert (await one.claim(original, "doc-a")).duplicate_of is None
        match = (await two.claim(copy, "doc-b")).duplicate_of
        assert match is not None and match.document_id == "doc-a" and match.reason == "near duplicate"
        assert match.containment is not None and match.containment > 0.8
        assert match.evidence is not None and match.evidence.copied_share > 0.8  # the text is in Redis too
        assert (await two.claim(other, "doc-c")).duplicate_of is None
        same_as_a = DuplicateMatch("doc-a", "same canonical URL")
        assert (await two.claim(same_url, "doc-x")).duplicate_of == same_as_a
        # An instance that claimed and crashed before saving finds its own claim, not a duplicate;
        # the same document id from another instance (one canonical URL in two feeds) is a duplicate.
        assert (await one.claim(original, "doc-a")).duplicate_of is None
        assert (await two.claim(original, "doc-a")).duplicate_of == same_as_a
        # Out of the window, forgotten: the copy is new again.
        assert await one.evict(datetime.now(UTC) + timedelta(seconds=1)) == 2
        assert (await two.claim(copy, "doc-b")).duplicate_of is None
        await one.close()
        await two.close()

    asyncio.run(go())


def test_claimed_documents_are_in_datasketch_s_own_layout(redis_server: RedisServer) -> None:
    """The index is written in one pipeline rather than through datasketch's insertion session:
    datasketch's own query must still find what was written, and its remove must undo it."""
    from datasketch import LeanMinHash

    index = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="layout")
    candidate = Candidate.from_article(_article("https://a.example/1", story(5, 6)), index.fingerprinter)
    assert asyncio.run(_claim_and_close(index, candidate, "doc-a")).duplicate_of is None
    assert candidate.fingerprint is not None
    params = index.params
    for lsh, values in (
        (index.documents, candidate.fingerprint.minhash),
        (index.leads, candidate.fingerprint.lead_minhash),
    ):
        sketch = LeanMinHash(seed=params.seed, hashvalues=values, scheme=params.scheme)
        assert lsh.query(sketch) == [b"doc-a"]
        lsh.remove(b"doc-a")
        assert lsh.query(sketch) == []


def test_eviction_leaves_nothing_of_a_document_in_datasketch_s_layout(redis_server: RedisServer) -> None:
    """Forgetting is MinHashLSH.remove written under the lock: a bucket two documents share
    keeps the one still claimed, and nothing is left once both are forgotten."""
    import redis

    index = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="forget")
    original = Candidate.from_article(_article("https://a.example/1", story(6, 6)), index.fingerprinter)
    # A distinct story that opens the same way: the two share buckets of the documents index.
    follow_up = Candidate.from_article(
        _article("https://a.example/2", story(6, 1) + story(7, 5)), index.fingerprinter
    )
    client = redis.Redis.from_url(redis_server.url)

    async def go() -> None:
        assert (await index.claim(original, "doc-a")).duplicate_of is None
        client.zadd("forget:claimed", {"doc-a": 0})  # claimed long ago
        assert (await index.claim(follow_up, "doc-b")).duplicate_of is None
        shared = [
            bucket
            for table in index.documents.hashtables
            for bucket in client.hkeys(table.redis_key(b""))
            if client.scard(table.redis_key(bucket)) == 2
        ]
        assert shared, "the two stories must share a bucket for this test to mean anything"
        assert await index.evict(datetime.now(UTC) - timedelta(hours=1)) == 1
        assert follow_up.fingerprint is not None
        params = index.params
        sketch = LeanMinHash(seed=params.seed, hashvalues=follow_up.fingerprint.minhash, scheme=params.scheme)
        assert index.documents.query(sketch) == [b"doc-b"]  # datasketch's own query, after the eviction
        lsh = index.documents
        bands = client.lrange(lsh.keys.redis_key(b"doc-b"), 0, -1)
        for band, table in zip(bands, lsh.hashtables, strict=True):  # the shared buckets included
            assert client.smembers(table.redis_key(band)) == {b"doc-b"}
            assert client.hexists(table.redis_key(b""), band)
        assert await index.evict(datetime.now(UTC) + timedelta(seconds=1)) == 1
        await index.close()

    from datasketch import LeanMinHash

    asyncio.run(go())
    assert sorted(client.scan_iter("forget:*")) == [b"forget:params"]


def test_instances_with_other_fingerprint_parameters_are_refused(redis_server: RedisServer) -> None:
    from feedd.dedup import NearParams

    first = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="params")
    candidate = Candidate.from_article(_article("https://a.example/1", story(1)), first.fingerprinter)
    assert asyncio.run(_claim_and_close(first, candidate, "doc-a")).duplicate_of is None
    other = SharedIndex(
        redis_server.url, THRESHOLDS, owner="two", namespace="params", params=NearParams(num_perm=64)
    )
    with pytest.raises(SharedIndexError, match="other fingerprint parameters"):
        asyncio.run(_claim_and_close(other, candidate, "doc-b"))


async def _claim_and_close(index: SharedIndex, candidate: Candidate, document_id: str) -> Verdict:
    try:
        return await index.claim(candidate, document_id)
    finally:
        await index.close()


def test_shards_split_the_feeds_without_overlap() -> None:
    urls = [f"https://outlet{n}.example/feed.xml" for n in range(200)]
    shares = [[url for url in urls if ClusterConfig(shard=f"{k}/3").owns(url)] for k in (1, 2, 3)]
    assert sorted(url for share in shares for url in share) == sorted(urls)
    assert all(40 < len(share) < 95 for share in shares)
    for bad in ("0/3", "4/3", "2", "a/b", "2/0"):
        with pytest.raises(ValueError):
            ClusterConfig(shard=bad)


def _shard_of(url: str, total: int) -> int:
    return next(k for k in range(1, total + 1) if ClusterConfig(shard=f"{k}/{total}").owns(url))


def _racing_world(server: LoopbackServer, stories: int, delay: float = 0.0) -> list[str]:
    """Three outlets per story, each outlet's feed in a different one of 3 shards; every outlet
    republishes every story (lightly edited), so each story reaches all three instances."""
    feeds: dict[int, str] = {}
    candidate = 0
    while len(feeds) < 3:  # one feed path per shard, on this server's port
        path = f"/outlet{candidate}/feed.xml"
        feeds.setdefault(_shard_of(server.url(path), 3), path)
        candidate += 1
    urls = []
    first_prefix = next(iter(feeds.values())).rsplit("/", 1)[0]
    for outlet, path in enumerate(feeds.values()):
        prefix = path.rsplit("/", 1)[0]
        items = []
        for n in range(stories):
            paragraphs = story(n, 5)
            paragraphs[-1] = f"Outlet {outlet} adds a last line of its own to story {n}."
            # Syndicated copies of every other story declare the original as their canonical URL.
            canonical = server.url(f"{first_prefix}/story/{n}") if n % 2 == 0 else None
            page = article_page(f"Story {n} at outlet {outlet}", paragraphs, canonical=canonical)
            link = server.add(f"{prefix}/story/{n}", page, delay=delay)
            items.append({"title": f"Story {n}", "link": link, "guid": f"{prefix}-{n}"})
        urls.append(server.add(path, rss(items), headers=RSS))
    return urls


def _instance_config(folder: Path, feeds: list[str], redis_url: str, shard: str) -> Path:
    folder.mkdir()
    config = write_config(folder, [{"url": url} for url in feeds])
    extra = f'backend = "{redis_url}"\nnamespace = "race"\n'
    config.write_text(
        config.read_text().replace(
            "[extract]\n", f'[dedup]\n{extra}[cluster]\nshard = "{shard}"\n[extract]\n'
        )
    )
    return config


def _saved_texts(folders: list[Path]) -> list[str]:
    return [path.read_text() for folder in folders for path in sorted((folder / "out").glob("*.txt"))]


def test_three_instances_racing_save_every_story_exactly_once(
    server: LoopbackServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    stories = 12
    feeds = _racing_world(server, stories)
    folders = [tmp_path / f"instance{k}" for k in (1, 2, 3)]
    configs = [
        _instance_config(folder, feeds, redis_server.url, f"{k}/3") for k, folder in enumerate(folders, 1)
    ]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "feedd", "run-once", "-c", str(config)], stdout=subprocess.PIPE, text=True
        )
        for config in configs
    ]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    assert all(process.returncode == 0 for process in processes), outputs
    # Each instance polled its own feed only.
    assert [server.hits(urlsplit(url).path) for url in feeds] == [1, 1, 1]
    texts = _saved_texts(folders)
    assert len(texts) == stories, outputs
    for n in range(stories):
        assert sum(f"Story {n} at outlet" in text for text in texts) == 1, n
    # One id per story across all instances (an instance may have saved none: the others were
    # quicker to claim every story).
    manifests = [folder / "out" / "manifest.jsonl" for folder in folders]
    ids = [
        json.loads(line)["id"]
        for path in manifests
        if path.exists()
        for line in path.read_text().splitlines()
    ]
    assert len(ids) == len(set(ids)) == stories


def test_redis_down_documents_wait_and_are_saved_when_it_is_back(
    server: LoopbackServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    feeds = _racing_world(server, 4)
    config = _instance_config(tmp_path / "one", feeds[:1], redis_server.url, "1/1")
    out = tmp_path / "one" / "out"
    redis_server.stop()
    started = time.monotonic()
    down = run_once(load_config(config))
    assert time.monotonic() - started < 30  # claims fail fast once Redis is known to be down
    assert down.saved == 0 and down.failed == 0 and down.waiting == 4
    assert not list(out.glob("*.txt"))
    pages = sum(server.hits(f"{urlsplit(feeds[0]).path.rsplit('/', 1)[0]}/story/{n}") for n in range(4))
    assert pages == 4
    # The rendered documents wait in the state: later passes fetch no page again.
    for _ in range(3):
        again = run_once(load_config(config))
        assert again.saved == again.waiting == again.entries_new == 0
    assert sum(server.hits(f"{urlsplit(feeds[0]).path.rsplit('/', 1)[0]}/story/{n}") for n in range(4)) == 4
    status = subprocess.run(
        [sys.executable, "-m", "feedd", "status", "-c", str(config)], capture_output=True, text=True
    )
    assert "shared dedup index" in status.stdout and "unavailable" in status.stdout
    assert "documents wait" in status.stdout
    redis_server.start()
    back = run_once(load_config(config))
    assert back.waited_saved == 4 and back.waited_dropped == 0
    assert len(list(out.glob("*.txt"))) == 4
    status = subprocess.run(
        [sys.executable, "-m", "feedd", "status", "-c", str(config)], capture_output=True, text=True
    )
    assert f"shared dedup index {redis_server.url}: OK" in " ".join(status.stdout.split())
    # A copy waiting while another instance saved the story is dropped, not saved twice.
    other = _instance_config(tmp_path / "two", feeds[1:2], redis_server.url, "1/1")
    redis_server.stop()
    assert run_once(load_config(other)).waiting == 4
    redis_server.start()
    drained = run_once(load_config(other))
    assert drained.waited_saved == 0 and drained.waited_dropped == 4


def test_the_daemon_saves_waiting_documents_once_redis_answers(
    server: LoopbackServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    feeds = _racing_world(server, 3)
    config = _instance_config(tmp_path / "daemon", feeds[:1], redis_server.url, "1/1")
    config.write_text(
        config.read_text() + '[schedule]\ninterval = "1h"\nmin_interval = "1s"\nmax_interval = "2h"\n'
    )
    out, log_path = tmp_path / "daemon" / "out", tmp_path / "daemon.log"
    redis_server.stop()
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "feedd", "--log-format", "json", "run", "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while log_path.read_text().count("waiting for the shared dedup index") < 3:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        redis_server.start()
        # The feed is not due for an hour: the documents are decided by the drain alone (once
        # the index's 10 s pause after a failure has run out).
        deadline = time.monotonic() + 40
        while len(list(out.glob("*.txt"))) < 3:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.05)
        assert server.hits(urlsplit(feeds[0]).path) == 1
    finally:
        daemon.terminate()
        daemon.wait(timeout=15)


def test_redis_restarted_mid_run_loses_nothing(
    server: LoopbackServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    stories = 12
    feeds = _racing_world(server, stories, delay=0.15)
    config = _instance_config(tmp_path / "one", feeds[:1], redis_server.url, "1/1")
    out = tmp_path / "one" / "out"
    process = subprocess.Popen([sys.executable, "-m", "feedd", "run-once", "-c", str(config)])
    deadline = time.monotonic() + 60
    while len(list(out.glob("*.txt"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    redis_server.stop()
    time.sleep(0.5)
    redis_server.start()
    assert process.wait(timeout=120) in (0, 1)
    saved_during = len(list(out.glob("*.txt")))
    assert 3 <= saved_during <= stories
    # The next pass saves what waited (or, if Redis was back in time, what failed); nothing is
    # lost, nothing saved twice.
    run_once(load_config(config))
    texts = _saved_texts([tmp_path / "one"])
    assert sorted(int(text.split("Story ", 1)[1].split(" ", 1)[0]) for text in texts) == list(range(stories))
    # The index survived the restart: another instance's copies are all duplicates.
    other = _instance_config(tmp_path / "two", feeds[1:2], redis_server.url, "1/1")
    summary = run_once(load_config(other))
    assert summary.saved == 0 and summary.duplicate == stories


def test_redis_restart_between_passes_loses_nothing(
    server: LoopbackServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    feeds = _racing_world(server, 6)
    first = _instance_config(tmp_path / "first", feeds[:1], redis_server.url, "1/1")
    assert run_once(load_config(first)).saved == 6
    redis_server.stop()
    redis_server.start()  # the append-only file brings the index back
    second = _instance_config(tmp_path / "second", feeds[1:2], redis_server.url, "1/1")
    summary = run_once(load_config(second))
    assert summary.saved == 0 and summary.duplicate == 6


def test_backend_and_shard_are_validated(tmp_path: Path) -> None:
    for section, line, message in (
        ("dedup", 'backend = "postgres://db"', 'expected "local" or a Redis URL'),
        ("cluster", 'shard = "3/2"', 'expected "K/N" with 1 <= K <= N'),
        ("dedup", 'namespace = "has space"', "dedup.namespace"),
    ):
        config = write_config(tmp_path, [{"url": "https://news.example/feed"}])
        config.write_text(config.read_text().replace("[extract]\n", f"[{section}]\n{line}\n[extract]\n"))
        with pytest.raises(ConfigError, match=message):
            load_config(config)


def test_two_feeds_committing_one_story_at_once_keep_it_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    # The daemon settles its feeds' polls concurrently, and a claim waits on Redis: the second
    # feed's copy of a story must be checked after the first copy is saved, not beside it (both
    # were found new, and the second save failed on the canonical URL's uniqueness).
    from feedd.config import FeedConfig
    from feedd.feeds import Entry
    from feedd.pipeline.commit import Committer
    from feedd.pipeline.report import FeedReport
    from feedd.pipeline.worker import Prepared
    from feedd.state import State

    url = "https://a.example/story"
    article = _article(url, story(7, 6))

    async def go() -> list[str]:
        with State(tmp_path / "state.sqlite3", tmp_path / "out", "{seq}_{id}.txt") as state:
            index = SharedIndex(
                redis_server.url, THRESHOLDS, owner=state.instance_id(), saved=state.documents, namespace="2"
            )
            committer = Committer(state, index)
            candidate = Candidate.from_article(article, index.fingerprinter)
            commits = [
                committer.commit(
                    FeedReport(FeedConfig(url=f"https://feed{n}.example/rss")),
                    Entry(f"k{n}", None, f"https://feed{n}.example/x", None, "T", None, "", "", None),
                    Prepared(article, candidate),
                )
                for n in (1, 2)
            ]
            try:
                return [str(outcome) for outcome in await asyncio.gather(*commits, return_exceptions=True)]
            finally:
                await index.close()

    assert asyncio.run(go()) == ["saved", "duplicate"]


def test_eviction_takes_the_lock_a_batch_at_a_time_and_forgets_everything(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedd.dedup import shared as shared_module

    monkeypatch.setattr(shared_module, "_EVICT_BATCH", 2)
    index = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="batches")
    stories = [
        Candidate.from_article(_article(f"https://a.example/{n}", story(20 + n, 6)), index.fingerprinter)
        for n in range(5)
    ]
    held: list[int] = []
    take = shared_module.ClaimLock.held

    def counted(lock: object) -> object:
        held.append(1)
        return take(lock)  # type: ignore[arg-type]

    async def go() -> int:
        for n, candidate in enumerate(stories):
            assert (await index.claim(candidate, f"doc-{n}")).duplicate_of is None
        held.clear()
        monkeypatch.setattr(shared_module.ClaimLock, "held", counted)
        try:
            return await index.evict(datetime.now(UTC) + timedelta(seconds=1))
        finally:
            await index.close()

    assert asyncio.run(go()) == 5
    assert len(held) == 3  # 2 + 2 + 1
    import redis

    assert sorted(redis.Redis.from_url(redis_server.url).scan_iter("batches:*")) == [b"batches:params"]


def test_candidates_are_found_across_several_unions(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedd.dedup import shared as shared_module

    monkeypatch.setattr(shared_module, "_BUCKETS_PER_UNION", 3)
    one = SharedIndex(redis_server.url, THRESHOLDS, owner="one", namespace="unions")
    original = Candidate.from_article(_article("https://a.example/1", story(31, 6)), one.fingerprinter)
    rewritten = story(31, 6)[:5] + ["A closing sentence the second outlet added to the wire copy."]
    copy = Candidate.from_article(_article("https://b.example/9", rewritten, "Retitled"), one.fingerprinter)

    async def go() -> str | None:
        try:
            assert (await one.claim(original, "doc-a")).duplicate_of is None
            match = (await one.claim(copy, "doc-b")).duplicate_of
            return match.document_id if match else None
        finally:
            await one.close()

    assert asyncio.run(go()) == "doc-a"
