"""Secrets in URLs (userinfo, `?token=`-like parameters), taken out of what is shown or stored.

A feed URL may carry its own credentials: `https://user:pass@host/feed` or
`https://host/feed?token=...`. Only the fetcher needs them; logs, `feedd status`, the state and
the manifest see the redacted URL, which stays unique enough to name the feed (two feeds that
differ only in a secret are one feed).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

#: Query parameters whose value is a secret, by name (case-insensitive, anywhere in the name).
_SECRET_PARAMETER = re.compile(
    r"token|secret|passw|pwd|api[_-]?key|apikey|access[_-]?key|auth|signature|^sig$|session|^key$|credential",
    re.IGNORECASE,
)
MASK = "***"


def redacted_url(url: str) -> str:
    """`url` with its userinfo and secret query values replaced by MASK."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAMETER.search(name) for name, _ in pairs):
            query = urlencode(
                [(name, MASK if _SECRET_PARAMETER.search(name) else value) for name, value in pairs],
                safe="*",
            )
    if netloc == parts.netloc and query == parts.query:
        return url
    return parts._replace(netloc=netloc, query=query).geturl()
