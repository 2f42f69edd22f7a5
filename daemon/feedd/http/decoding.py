"""Content-Encoding, decoded with a bounded output.

httpx decodes gzip, deflate and br as it streams, but without a limit on what one chunk of input
may expand to: 405 bytes of brotli or 590 bytes of stacked gzip are 256 MiB of zeros, all in
memory before the body cap can look. Here every decompressor call is given an output limit, so
memory never runs ahead of the cap: the body is read raw and decoded piece by piece, and the
caller stops at its cap. Only one coding is accepted (stacked codings are a bomb's trick, and no
server needs them), and only those advertised in `ACCEPT_ENCODING`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Protocol

import brotli

#: What feedd asks servers for: the codings decoded here with a bounded output.
ACCEPT_ENCODING = "gzip, deflate, br"
#: The most one decompressor call may produce.
_PIECE = 64 * 1024


class UnsupportedEncodingError(ValueError):
    """A Content-Encoding feedd did not ask for, or several stacked."""


class UndecodableBodyError(ValueError):
    """A body its Content-Encoding does not decode."""


class Decoder(Protocol):
    """Feed it the raw body chunk by chunk; it yields the decoded body in bounded pieces."""

    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (members one after another, as RFC 1952 allows) or deflate (zlib-wrapped, or raw as
    some servers send it)."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._first = True
        self._decompressor = self._new(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)

    @staticmethod
    def _new(wbits: int) -> zlib._Decompress:
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._first and data and not self._gzip:
            self._first = False
            # "deflate" is meant zlib-wrapped; a raw stream starts without the 0x78 header.
            if data[0] & 0x0F != 8:
                self._decompressor = self._new(-zlib.MAX_WBITS)
        while data:
            piece = self._decompressor.decompress(data, _PIECE)
            if piece:
                yield piece
            data = self._decompressor.unconsumed_tail
            if self._decompressor.eof:
                rest = self._decompressor.unused_data
                if not (self._gzip and rest.strip(b"\0")):
                    return
                self._decompressor = self._new(zlib.MAX_WBITS | 16)
                data = rest

    def finish(self) -> Iterator[bytes]:
        while piece := self._decompressor.flush(_PIECE):
            yield piece
            if len(piece) < _PIECE:
                return


class _Brotli:
    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        piece = self._decompressor.process(data, output_buffer_limit=_PIECE)
        # Past the limit the rest comes with empty input, until it needs more or is finished
        # (can_accept_more_data() says True while output is still pending: not a stop sign).
        while piece:
            yield piece
            if self._decompressor.is_finished():
                return
            piece = self._decompressor.process(b"", output_buffer_limit=_PIECE)

    def finish(self) -> Iterator[bytes]:
        return iter(())


def decoded(decoder: Decoder, data: bytes | None) -> Iterator[bytes]:
    """`decoder` fed `data` (None: the end of the body), its errors as UndecodableBodyError."""
    try:
        yield from (decoder.finish() if data is None else decoder.feed(data))
    except (zlib.error, brotli.error) as exc:
        raise UndecodableBodyError(str(exc)) from None


def decoder_for(content_encoding: str) -> Decoder:
    """The bounded decoder of a response's Content-Encoding header."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if len(codings) > 1:
        raise UnsupportedEncodingError(f"stacked Content-Encoding {content_encoding!r} refused")
    if not codings:
        return _Identity()
    coding = codings[0]
    if coding in ("gzip", "x-gzip"):
        return _Zlib(gzip=True)
    if coding == "deflate":
        return _Zlib(gzip=False)
    if coding == "br":
        return _Brotli()
    raise UnsupportedEncodingError(f"Content-Encoding {coding!r} was not asked for")
