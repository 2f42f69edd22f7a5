"""Finding a site's feeds for `feedd add`: the URL itself when it is a feed, else the feeds its
page announces, else feeds at the paths sites usually put them. Each candidate is fetched and
parsed: only what parses as a feed is offered."""

from __future__ import annotations

from urllib.parse import urljoin

from feedd.config import Config
from feedd.errors import FeedParseError, FetchError
from feedd.feeds import COMMON_PATHS, FeedLink, announced_feeds, parse_feed
from feedd.http import FEED_ACCEPT, Fetcher, user_agent

#: What a page or a feed may be answered as.
_ACCEPT = f"{FEED_ACCEPT}, text/html;q=0.8"


async def discover_feeds(config: Config, url: str) -> list[FeedLink]:
    """The feeds at or behind `url`, best first; FetchError when `url` cannot be fetched."""
    async with Fetcher(config.fetch, user_agent(config.fetch)) as fetcher:
        page = await fetcher.get(url, accept=_ACCEPT)
        try:
            parsed = parse_feed(page.content, page.headers, page.final_url)
        except FeedParseError:
            parsed = None
        if parsed is not None and (parsed.entries or parsed.title):
            return [FeedLink(page.final_url, parsed.title)]
        candidates = [link.url for link in announced_feeds(page.content, page.final_url)]
        found = [feed for candidate in candidates if (feed := await _feed_at(fetcher, candidate))]
        if found:
            return found
        for path in COMMON_PATHS:
            if feed := await _feed_at(fetcher, urljoin(page.final_url, path)):
                return [feed]
        return []


async def _feed_at(fetcher: Fetcher, url: str) -> FeedLink | None:
    try:
        answer = await fetcher.get(url, accept=FEED_ACCEPT)
        parsed = parse_feed(answer.content, answer.headers, answer.final_url)
    except (FetchError, FeedParseError):
        return None
    return FeedLink(answer.final_url, parsed.title) if parsed.entries or parsed.title else None
