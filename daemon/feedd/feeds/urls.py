"""Canonical URLs: one spelling per article, so identity and duplicate checks agree."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from tld import get_fld

# Parameters that identify a click, not a document.
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "at_", "ga_", "hsa_", "__hs", "oly_")
_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ocid",
        "cmpid",
        "smid",
        "smtyp",
        "ref_src",
        "ref_url",
        "rss",
        "ito",
        "xtor",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "taid",
        "spm",
        "s_cid",
        "sr_share",
        "ftag",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str, base: str | None = None) -> str:
    """Normalise `url` (resolved against `base`): lower-case scheme and host, no default port,
    no fragment, tracking parameters removed, remaining query order kept. A URL too broken to
    parse comes back stripped but otherwise as it was."""
    # The fragment goes first: what is left of "story #top" is "story", not "story ".
    url = url.split("#", 1)[0].strip()
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # bad IPv6 brackets, a port out of range or not a number
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literals keep their brackets
        host = f"[{host}]"
    netloc = host
    if port and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)],
        doseq=True,
    )
    path = parts.path or "/"
    if not netloc and path.startswith("//"):
        # Written back, a path of two slashes would read as an (empty) host: "a:////" -> "a://".
        path = "/" + path.lstrip("/")
    return urlunsplit((scheme, netloc, path, query, ""))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def is_web_url(url: str) -> bool:
    """True for absolute, well-formed http(s) URLs with a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in url)


def registrable_domain(url: str) -> str:
    """The domain a site owner controls (bbc.co.uk for www.bbc.co.uk; the public suffix list),
    or the host itself for addresses and names without a public suffix (127.0.0.1, localhost)."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return get_fld(host, fix_protocol=True, fail_silently=True) or host


def document_id(url: str) -> str:
    """16 hex digits: the first 64 bits of the SHA-256 of the canonical URL (see FORMAT.md)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
