"""HTTP for feeds and pages: conditional GET, redirects checked hop by hop (each through the
SSRF guard and each waiting for its host's turn in the frontier), timeouts, and a body cap
enforced while streaming."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

import httpx

from feedd.config import FetchConfig
from feedd.errors import (
    BlockedAddressError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from feedd.http.decoding import (
    ACCEPT_ENCODING,
    Decoder,
    UndecodableBodyError,
    UnsupportedEncodingError,
    decoded,
    decoder_for,
)
from feedd.http.frontier import Budget, Frontier, HostLoad
from feedd.http.guard import AddressGuard, AddressRefusedError, Resolver, system_resolver
from feedd.http.headers import PAGE_ACCEPT, parse_retry_after
from feedd.http.records import FetchResult, RequestOptions
from feedd.http.transport import transport_for

#: The longest gap between requests to one host a Crawl-delay may impose: longer ones would
#: hold a pass for hours, so they are capped (a page that then waits past the request timeout is
#: deferred to the next pass).
MAX_CRAWL_DELAY = 60.0
#: The longest host-wide pause a Retry-After may impose.
_MAX_HOST_PAUSE = 6 * 3600.0


class Fetcher:
    """An HTTP client with feedd's limits. Use as `async with Fetcher(config, ua) as f:`."""

    def __init__(self, config: FetchConfig, user_agent: str, resolver: Resolver = system_resolver) -> None:
        self._config = config
        self._user_agent = user_agent
        self._frontier = Frontier(
            max_connections=config.max_connections,
            max_per_host=config.max_per_host,
            host_gap=config.host_gap,
        )
        self._guard = AddressGuard(config, resolver)
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        timeout = httpx.Timeout(
            self._config.read_timeout,
            connect=self._config.connect_timeout,
            pool=self._config.timeout,
        )
        self._client = httpx.AsyncClient(
            transport=transport_for(self._config, self._guard),
            trust_env=False,  # a proxy from the environment would bypass the guard: [fetch] proxy only
            timeout=timeout,
            follow_redirects=False,  # every hop passes the SSRF guard and the hop limit
            headers={"User-Agent": self._user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(
        self,
        url: str,
        *,
        accept: str = PAGE_ACCEPT,
        etag: str | None = None,
        last_modified: str | None = None,
        options: RequestOptions | None = None,
        budget: Budget | None = None,
        keep_first: int | None = None,
    ) -> FetchResult:
        """GET `url`, raising a FetchError subclass that says why when it cannot. With `budget`,
        each request also takes a unit of it (see Frontier), and a successful result comes with
        one unit held, for the caller to release once done with the body. With `keep_first`, a
        body longer than that many bytes is cut there instead of refused (a robots.txt, of which
        only the start counts)."""
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            return await self._follow(url, headers, options or RequestOptions(), budget, keep_first)
        except TimeoutError:
            raise FetchTimeoutError(url, f"no complete answer within {self._config.timeout:g}s") from None
        except httpx.TimeoutException as exc:
            raise FetchTimeoutError(url, f"timed out ({type(exc).__name__})") from None
        except httpx.DecodingError as exc:
            raise FetchError(url, f"undecodable body: {exc}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise FetchError(url, f"invalid URL: {exc}", transient=False) from None
        except httpx.HTTPError as exc:
            raise FetchError(
                url, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            ) from None

    async def _follow(
        self,
        url: str,
        headers: dict[str, str],
        options: RequestOptions,
        budget: Budget | None,
        keep_first: int | None,
    ) -> FetchResult:
        assert self._client is not None, "use Fetcher as an async context manager"
        if options.user_agent:
            headers = {**headers, "User-Agent": options.user_agent}
        current = url
        visited: set[str] = set()
        # httpx's timeouts are per operation; a slow trickle needs a cap on the whole. Time spent
        # waiting for the host's turn does not count against it.
        time_left = self._config.timeout
        # The feed's headers and credentials go to its origin only, and once a redirect leaves
        # it they stay behind for the rest of the chain (as browsers drop Authorization then).
        secrets_travel = True
        for _hop in range(self._config.max_redirects + 1):
            parts = urlsplit(current)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError(url, f"not an http(s) URL: {current}", transient=False)
            visited.add(current)
            await self._guard.check_destination(current)
            host = parts.hostname.lower()
            secrets_travel = secrets_travel and options.reaches(current)
            hop_headers = options.with_secrets(headers) if secrets_travel else headers
            turn = self._frontier.turn(host, url, max_wait=self._config.timeout, budget=budget)
            async with turn:
                result: FetchResult | None = None
                started = time.monotonic()
                try:
                    async with asyncio.timeout(time_left):
                        result, current = await self._hop(
                            url, current, host, visited, hop_headers, keep_first
                        )
                finally:
                    time_left -= time.monotonic() - started
                    if budget is not None and result is None:
                        budget.release()  # no body to hold: a redirect, or a failure
            if result is not None:
                return result
        raise TooManyRedirectsError(url, f"more than {self._config.max_redirects} redirects")

    async def _hop(
        self,
        url: str,
        current: str,
        host: str,
        visited: set[str],
        headers: dict[str, str],
        keep_first: int | None,
    ) -> tuple[FetchResult | None, str]:
        """One request: the result, or None and the URL a redirect points to."""
        assert self._client is not None
        request = self._client.build_request("GET", current, headers=headers)
        try:
            response = await self._client.send(request, stream=True)
        except AddressRefusedError as exc:  # the transport's own check, on the address it connects to
            raise BlockedAddressError(current, exc.reason) from None
        try:
            self._guard.check_peer(response, current)
            if response.is_redirect and "location" in response.headers:
                location = urljoin(current, response.headers["location"].strip())
                if location in visited:
                    raise TooManyRedirectsError(url, f"redirect loop at {location}")
                return None, location
            if response.status_code != 304 and not response.is_success:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                if retry_after is not None and response.status_code in (429, 503):
                    # The whole host asked for a pause, not just this URL.
                    self._frontier.pause(host, min(retry_after, _MAX_HOST_PAUSE))
                raise HTTPStatusError(current, response.status_code, retry_after=retry_after)
            content, truncated = b"", False
            if response.status_code != 304:
                content, truncated = await self._read_capped(response, url, keep_first)
            result = FetchResult(
                url=url,
                final_url=current,
                status_code=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                content=content,
                truncated=truncated,
            )
            return result, current
        finally:
            await response.aclose()

    def slow_down(self, host: str, gap: float) -> None:
        """Start requests to `host` at least `gap` seconds apart (a robots.txt Crawl-delay),
        never less than host_gap and never more than MAX_CRAWL_DELAY."""
        self._frontier.slow_down(host.lower(), min(gap, MAX_CRAWL_DELAY))

    def host_load(self) -> list[HostLoad]:
        """Where requests wait, host by host (see Frontier.load)."""
        return self._frontier.load()

    async def _read_capped(
        self, response: httpx.Response, url: str, keep_first: int | None
    ) -> tuple[bytes, bool]:
        """The body, and whether it was cut at `keep_first` (or at the cap, when that is lower)."""
        cap = self._config.max_bytes if keep_first is None else min(keep_first, self._config.max_bytes)
        declared = response.headers.get("content-length", "")
        if keep_first is None and declared.isdigit() and int(declared) > cap:
            raise ResponseTooLargeError(url, f"body of {int(declared)} bytes exceeds the {cap}-byte cap")
        try:
            decoder = decoder_for(response.headers.get("content-encoding", ""))
        except UnsupportedEncodingError as exc:
            raise FetchError(url, str(exc), transient=False) from None
        body = bytearray()
        # Raw bytes, decoded here with a bounded output (see feedd.http.decoding): a bomb stops
        # at the cap having cost no more than the cap.
        try:
            async for piece in _decoded_body(response, decoder):
                body += piece
                if len(body) > cap:
                    if keep_first is not None:
                        return bytes(body[:cap]), True
                    raise ResponseTooLargeError(url, f"body exceeds the {cap}-byte cap")
        except UndecodableBodyError as exc:
            coding = response.headers.get("content-encoding")
            raise FetchError(url, f"undecodable body (Content-Encoding {coding}): {exc}") from None
        return bytes(body), False


async def _decoded_body(response: httpx.Response, decoder: Decoder) -> AsyncIterator[bytes]:
    """The response's body, decoded piece by bounded piece, to its end."""
    async for chunk in response.aiter_raw():
        for piece in decoded(decoder, chunk):
            yield piece
    for piece in decoded(decoder, None):
        yield piece
