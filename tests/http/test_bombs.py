"""Decompression bombs, served by a real loopback server: every kind stops at the body cap having
cost about the cap in memory (tracemalloc sees every bytes object zlib and brotli return), and
codings feedd did not ask for, or stacked ones, are refused."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import Callable
from functools import cache

import brotli
import pytest

from conftest import LoopbackServer
from feedd.config import FetchConfig
from feedd.errors import FetchError, ResponseTooLargeError
from feedd.http import Fetcher

EXPANDED = 128 * 1024 * 1024  # what each bomb inflates to
CONFIG = FetchConfig.model_validate({"allow_private_networks": True, "timeout": 20.0, "read_timeout": 10.0})


def _compressed(make: Callable[[], object]) -> bytes:
    """EXPANDED zero bytes through a streaming compressor (never all in memory)."""
    compressor = make()
    block = b"\0" * (1024 * 1024)
    parts = [compressor.compress(block) for _ in range(EXPANDED // len(block))]  # type: ignore[attr-defined]
    parts.append(compressor.flush())  # type: ignore[attr-defined]
    return b"".join(parts)


@cache
def _bombs() -> dict[str, tuple[bytes, str]]:
    gzipped = _compressed(lambda: zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16))
    brotli_compressor = brotli.Compressor(quality=5)
    block = b"\0" * (1024 * 1024)
    br = b"".join(brotli_compressor.process(block) for _ in range(EXPANDED // len(block)))
    br += brotli_compressor.finish()
    return {
        "gzip": (gzipped, "gzip"),
        "deflate": (_compressed(lambda: zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)), "deflate"),
        "raw deflate": (_compressed(lambda: zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)), "deflate"),
        "br": (br, "br"),
        "gzip, gzip": (gzip.compress(gzipped), "gzip, gzip"),
    }


def _peak_while(fetch: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fetch()
        raise AssertionError("the bomb was not stopped")
    except ResponseTooLargeError:
        pass
    except FetchError as exc:
        assert "stacked" in str(exc)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("kind", ["gzip", "deflate", "raw deflate", "br", "gzip, gzip"])
def test_a_bomb_costs_no_more_than_the_cap(server: LoopbackServer, kind: str) -> None:
    body, coding = _bombs()[kind]
    assert len(body) < 1024 * 1024  # a few hundred kilobytes at most: the declared length passes
    url = server.add("/bomb", body, headers={"Content-Encoding": coding})

    async def fetch() -> None:
        async with Fetcher(CONFIG, "t") as fetcher:
            await fetcher.get(url)

    peak = _peak_while(lambda: asyncio.run(fetch()))
    # The cap (10 MiB) once, plus pieces in flight; without bounded decoding, 128 MiB and more.
    assert peak < CONFIG.max_bytes + 8 * 1024 * 1024, f"{kind}: {peak / 2**20:.0f} MiB"


def test_stacked_and_unrequested_codings_are_refused(server: LoopbackServer) -> None:
    text = b"<html><body>" + b"news " * 100 + b"</body></html>"
    stacked = server.add(
        "/stacked", gzip.compress(gzip.compress(text)), headers={"Content-Encoding": "gzip, gzip"}
    )
    unasked = server.add("/zstd", b"\x28\xb5\x2f\xfd" + text, headers={"Content-Encoding": "zstd"})

    async def fetch(url: str) -> None:
        async with Fetcher(CONFIG, "t") as fetcher:
            await fetcher.get(url)

    with pytest.raises(FetchError, match="stacked Content-Encoding"):
        asyncio.run(fetch(stacked))
    with pytest.raises(FetchError, match="'zstd' was not asked for"):
        asyncio.run(fetch(unasked))
    # What feedd asks for, it says: only the codings it decodes with a bound.
    assert server.requests[-1][1]["accept-encoding"] == "gzip, deflate, br"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw deflate", "br", "identity"])
def test_bodies_within_the_cap_decode_whole(server: LoopbackServer, coding: str) -> None:
    # Several gzip members one after another are one body (RFC 1952).
    text = ("<p>" + "word " * 40_000 + "</p>").encode()
    encoded = {
        "gzip": gzip.compress(text[:1000]) + gzip.compress(text[1000:]),
        "deflate": zlib.compress(text),
        "raw deflate": zlib.compress(text, wbits=-zlib.MAX_WBITS),
        "br": brotli.compress(text),
        "identity": text,
    }[coding]
    header = "deflate" if coding == "raw deflate" else coding
    url = server.add("/ok", encoded, headers={"Content-Encoding": header})

    async def fetch() -> bytes:
        async with Fetcher(CONFIG, "t") as fetcher:
            return (await fetcher.get(url)).content

    assert asyncio.run(fetch()) == text


def test_a_corrupt_body_is_a_clear_error(server: LoopbackServer) -> None:
    url = server.add("/corrupt", b"\x1f\x8b\x08\x00garbage-not-gzip", headers={"Content-Encoding": "gzip"})

    async def fetch() -> None:
        async with Fetcher(CONFIG, "t") as fetcher:
            await fetcher.get(url)

    with pytest.raises(FetchError, match=r"undecodable body \(Content-Encoding gzip\)"):
        asyncio.run(fetch())
