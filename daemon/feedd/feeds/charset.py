"""Bytes of a page or feed to text, when servers declare the wrong charset or none."""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


#: Labels that mean windows-1252 on the web (WHATWG Encoding Standard): latin-1 has no “ or €.
_WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp819"}
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    match = _CHARSET_PARAM.search(content_type or "")
    return match.group(1) if match else None


def choose_encoding(content: bytes, declared: Sequence[str | None]) -> str | None:
    """The encoding to read `content` with: its BOM, else UTF-8 when the bytes are valid UTF-8
    (a wrong "latin-1" header is common), else the declared charset (header, document) that
    reads as real text. None when none of them does: the caller decides how to guess."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return encoding
    try:
        content.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: list[str] = []
    for label in declared:
        if not label:
            continue
        label = "cp1252" if label.strip().lower() in _WINDOWS_1252_LABELS else label.strip()
        try:
            name = codecs.lookup(label).name
        except LookupError:
            continue
        if name not in candidates and name != "utf-8":
            candidates.append(name)
    if candidates:
        # Any single-byte charset decodes any bytes: let the mess detector judge which of the
        # declared ones gives text rather than mojibake (KOI8-R served as "latin-1").
        if (best := from_bytes(content, cp_isolation=candidates).best()) is not None:
            return best.encoding
    return None


def decode_html(content: bytes, content_type: str | None) -> str:
    """Decode an HTML body with the encoding `choose_encoding` picks from the header and <meta>,
    else the one detected, else windows-1252 (the web's fallback)."""
    meta = _META_CHARSET.search(content[:4096])
    declared = [charset_of(content_type), meta.group(1).decode("ascii", "ignore") if meta else None]
    encoding = choose_encoding(content, declared)
    if encoding is None:
        best = from_bytes(content).best()
        encoding = best.encoding if best is not None else "cp1252"
    return content.decode(encoding, errors="replace")
