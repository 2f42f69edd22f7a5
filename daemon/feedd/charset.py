"""Bytes of a web page to text, when servers declare the wrong charset or none."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_html(content: bytes, content_type: str | None) -> str:
    """Decode an HTML body: BOM, then valid UTF-8 (servers often declare the wrong charset),
    then the declared charset (header, then <meta>), then detection."""
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return content.decode(encoding, errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = []
    if content_type and (match := re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.I)):
        declared.append(match.group(1))
    if match := _META_CHARSET.search(content[:4096]):
        declared.append(match.group(1).decode("ascii", "ignore"))
    for encoding in declared:
        try:
            codecs.lookup(encoding)
            return content.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    best = from_bytes(content).best()
    return str(best) if best is not None else content.decode("cp1252", errors="replace")
