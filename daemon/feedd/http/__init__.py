"""The http stage: GETs within feedd's limits (the SSRF guard, timeouts, a body cap), each
waiting for its host's turn in the frontier (per-host queues, politeness, a global connection
cap), and robots.txt verdicts for article pages."""

from feedd.http.client import MAX_CRAWL_DELAY, Fetcher
from feedd.http.frontier import Budget, HostLoad
from feedd.http.headers import FEED_ACCEPT, PAGE_ACCEPT, PROJECT_URL, parse_retry_after, user_agent
from feedd.http.records import FetchResult, Origin, RequestOptions
from feedd.http.robots import ROBOTS_TOKEN, RobotsPolicy, RobotsVerdict

__all__ = [
    "FEED_ACCEPT",
    "MAX_CRAWL_DELAY",
    "PAGE_ACCEPT",
    "PROJECT_URL",
    "ROBOTS_TOKEN",
    "Budget",
    "FetchResult",
    "Fetcher",
    "HostLoad",
    "Origin",
    "RequestOptions",
    "RobotsPolicy",
    "RobotsVerdict",
    "parse_retry_after",
    "user_agent",
]
