"""The shared index reaches Redis the way its URL says, datasketch's LSH storage included: over
TLS with a username (`rediss://user:password@host:port/0?ssl_ca_certs=...`) and over a unix
socket (`unix:///path/redis.sock?db=0`), each against a real redis-server."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from conftest import REDIS_SERVER, story
from feedd.dedup import Candidate, DuplicateMatch, SharedIndex, Thresholds, check_reachable
from feedd.extract import Article, Block

THRESHOLDS = Thresholds(jaccard=0.5, containment=0.6, min_shingles=20)


class ConfiguredRedis:
    """A real redis-server started with `options`, reachable at `url` once it answers there."""

    def __init__(self, url: str, options: list[str]) -> None:
        self.url = url
        self._process = subprocess.Popen(
            [REDIS_SERVER, "--save", "", "--appendonly", "no", *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        probe = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"redis-server did not answer at {url}") from None
                time.sleep(0.05)
            finally:
                probe.close()

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


@pytest.fixture
def folder() -> Iterator[Path]:
    """A short path: a unix socket's path must fit in 107 bytes."""
    if not REDIS_SERVER:
        pytest.skip("redis-server not found (Debian: apt-get install redis-server)")
    path = Path(tempfile.mkdtemp(prefix="feedd-redis-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tls_server(folder: Path) -> ConfiguredRedis:
    """TLS only, and no default user: only alice, with her password, gets in."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    url = f"rediss://alice:s3cret@127.0.0.1:{port}/0?ssl_ca_certs={cert}"
    options = ["--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--tls-auth-clients", "no"]
    options += ["--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert)]
    options += ["--user", "default", "off", "--user", "alice", "on", ">s3cret", "~*", "&*", "+@all"]
    return ConfiguredRedis(url, options)


def _unix_server(folder: Path) -> ConfiguredRedis:
    path = folder / "redis.sock"
    return ConfiguredRedis(f"unix://{path}?db=0", ["--port", "0", "--unixsocket", str(path)])


def _candidate(index: SharedIndex, url: str, paragraphs: list[str]) -> Candidate:
    blocks = tuple(Block("paragraph", text) for text in paragraphs)
    article = Article(title="A story", published=None, lead=None, url=url, canonical_url=url, blocks=blocks)
    return Candidate.from_article(article, index.fingerprinter)


@pytest.mark.parametrize("start", [_tls_server, _unix_server], ids=["rediss", "unix"])
def test_claims_over_tls_with_a_username_and_over_a_unix_socket(
    folder: Path, start: Callable[[Path], ConfiguredRedis]
) -> None:
    if start is _tls_server and not shutil.which("openssl"):
        pytest.skip("openssl not found")
    server = start(folder)
    try:
        assert check_reachable(server.url) is None
        one = SharedIndex(server.url, THRESHOLDS, owner="one", namespace="reach")
        two = SharedIndex(server.url, THRESHOLDS, owner="two", namespace="reach")
        original = _candidate(one, "https://a.example/1", story(1, 6))
        rewritten = story(1, 6)[:5] + ["A closing sentence the second outlet added to the wire copy."]
        copy = _candidate(two, "https://b.example/9", rewritten)

        async def go() -> None:
            assert (await one.claim(original, "doc-a")).duplicate_of is None
            # The near duplicate is found through the LSH buckets datasketch's storage reads.
            match = (await two.claim(copy, "doc-b")).duplicate_of
            assert match is not None and match.document_id == "doc-a" and match.reason == "near duplicate"
            assert one.documents.query(_lean(one, original)) == [b"doc-a"]  # datasketch's own client
            same_url = (await two.claim(original, "doc-x")).duplicate_of
            assert same_url == DuplicateMatch("doc-a", "same canonical URL")
            await one.close()
            await two.close()

        asyncio.run(go())
    finally:
        server.stop()


def _lean(index: SharedIndex, candidate: Candidate) -> object:
    from datasketch import LeanMinHash

    assert candidate.fingerprint is not None
    params = index.params
    return LeanMinHash(seed=params.seed, hashvalues=candidate.fingerprint.minhash, scheme=params.scheme)
