"""Every error feedd raises on purpose, in one tree under FeeddError:

* FeeddError
  + ConfigError           the config file is missing, not TOML, or does not validate
  + OpmlError             an OPML file cannot be read, or its feeds would break the config
  + StateError            the state database or the output folder cannot be used
    - DocumentWriteError  one document not written mid-pass; kept for the next pass
    - StateLockedError    another feedd process holds the state
  + FetchError            a URL could not be fetched (`transient`: worth another try)
    - BlockedAddressError
    - ResponseTooLargeError
    - TooManyRedirectsError
    - HTTPStatusError
    - FetchTimeoutError
  + FeedParseError        a feed document yields no entries
  + NoTextError           neither the page nor the entry carries text (the extractor
                          returns it to the pipeline as an ExtractionFailure)
  + DedupUnavailableError the dedup backend cannot decide now (the document waits)
    - SharedIndexError    the shared duplicate index in Redis cannot be used
  + NotFoundError         the state holds no document or entry by the name asked about
"""

from __future__ import annotations


class FeeddError(Exception):
    """Base of every error feedd raises deliberately."""


class ConfigError(FeeddError):
    """The config file is missing, unreadable, not TOML, or does not validate."""


class OpmlError(FeeddError):
    """An OPML file could not be read."""


class StateError(FeeddError):
    """The state database or output folder cannot be used (locked, unwritable, ...)."""


class DocumentWriteError(StateError):
    """A document could not be written mid-pass (disk full, folder gone); it is kept pending."""


class StateLockedError(StateError):
    """Another feedd process holds the state."""


class FetchError(FeeddError):
    """A URL could not be fetched; `reason` is a short, log-friendly explanation."""

    #: Worth trying again on the next pass (timeouts, 5xx, connection trouble).
    transient: bool = True

    def __init__(self, url: str, reason: str, *, transient: bool | None = None) -> None:
        super().__init__(f"{reason} ({url})")
        self.url = url
        self.reason = reason
        if transient is not None:
            self.transient = transient


class BlockedAddressError(FetchError):
    """The URL resolves to a loopback, private, link-local or multicast address (SSRF guard)."""

    transient = False


class ResponseTooLargeError(FetchError):
    """The (decoded) body exceeded the configured cap."""

    transient = False


class TooManyRedirectsError(FetchError):
    """The redirect chain was longer than allowed, or looped."""

    transient = False


class HTTPStatusError(FetchError):
    """The server answered with a status other than 2xx or 304."""

    def __init__(self, url: str, status_code: int, retry_after: float | None = None) -> None:
        super().__init__(
            url, f"HTTP {status_code}", transient=status_code in (408, 425, 429) or status_code >= 500
        )
        self.status_code = status_code
        #: Seconds the server asked us to wait (Retry-After), if it said.
        self.retry_after = retry_after


class FetchTimeoutError(FetchError):
    """Connecting, reading or the whole request took longer than allowed."""


class FeedParseError(FeeddError):
    """A feed document could not be turned into entries."""


class NoTextError(FeeddError):
    """Neither the page nor the entry carried any text."""


class DedupUnavailableError(FeeddError):
    """The dedup backend cannot decide now; what it was asked about waits until it can."""


class SharedIndexError(DedupUnavailableError):
    """The shared index cannot be used (Redis down, or another instance's parameters)."""


class NotFoundError(FeeddError):
    """The state holds no document or entry by the id, URL or link asked about."""
