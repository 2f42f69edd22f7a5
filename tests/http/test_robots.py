"""robots.txt verdicts against a real server on 127.0.0.1, with the real state database."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from conftest import LoopbackServer
from feedd.config import FetchConfig
from feedd.errors import FetchError
from feedd.http import ROBOTS_TOKEN, Fetcher, RobotsPolicy, RobotsVerdict
from feedd.state import State

LOOPBACK = FetchConfig(allow_private_networks=True, host_gap=0, timeout=3.0, read_timeout=2.0)
TEXT = {"Content-Type": "text/plain"}
ALLOWED = RobotsVerdict(True)
Result = TypeVar("Result")


@pytest.fixture
def state(tmp_path: Path) -> Iterator[State]:
    with State(tmp_path / "state.sqlite3", tmp_path / "out", "{seq}_{id}.txt") as opened:
        yield opened


def _with_policy(
    state: State,
    use: Callable[[RobotsPolicy, Fetcher], Awaitable[Result]],
    *,
    respect_ai_optout: bool = False,
    config: FetchConfig = LOOPBACK,
) -> Result:
    """`use` run with a fresh policy (and fetcher) over `state`: a new pass, as far as memory goes."""

    async def go() -> Result:
        async with Fetcher(config, "feedd-test/1.0") as fetcher:
            policy = RobotsPolicy(fetcher, state.robots, respect_ai_optout=respect_ai_optout)
            return await use(policy, fetcher)

    return asyncio.run(go())


def _verdicts(state: State, *urls: str, respect_ai_optout: bool = False) -> list[RobotsVerdict]:
    """Verdicts for `urls`, asked one after another by one policy."""

    async def ask(policy: RobotsPolicy, _: Fetcher) -> list[RobotsVerdict]:
        return [await policy.verdict(url) for url in urls]

    return _with_policy(state, ask, respect_ai_optout=respect_ai_optout)


def _stored_expiry(state: State, server: LoopbackServer) -> datetime | None:
    """When the state's copy of `server`'s robots.txt expires; None when there is no live copy."""
    cached = state.robots.cached(server.url(""), datetime.now(UTC))
    return cached.expires if cached is not None else None


def test_the_feedd_group_decides_and_other_groups_do_not(server: LoopbackServer, state: State) -> None:
    robots = (
        "User-agent: *\nDisallow: /members/\n\nUser-agent: feedd\nDisallow: /private/\nAllow: /private/open\n"
    )
    server.add("/robots.txt", robots, headers=TEXT)
    verdicts = _verdicts(
        state,
        server.url("/news/a"),
        server.url("/private/b"),
        server.url("/private/open/c"),
        server.url("/members/d"),  # the * group's rule is not for feedd (RFC 9309)
    )
    assert verdicts == [ALLOWED, RobotsVerdict(False, "robots.txt disallows feedd"), ALLOWED, ALLOWED]
    assert server.hits("/robots.txt") == 1
    assert server.requests[0][1]["accept"] == "text/plain, */*;q=0.5"
    assert ROBOTS_TOKEN == "feedd"


def test_without_a_feedd_group_the_star_group_applies(server: LoopbackServer, state: State) -> None:
    server.add(
        "/robots.txt", "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nDisallow: /members/\n", headers=TEXT
    )
    allowed, refused = _verdicts(state, server.url("/news/a"), server.url("/members/b?page=2"))
    assert allowed == ALLOWED
    assert refused == RobotsVerdict(False, "robots.txt disallows feedd", transient=False)


@pytest.mark.parametrize("status", [404, 410])
def test_a_missing_robots_txt_allows_everything(server: LoopbackServer, state: State, status: int) -> None:
    # Whatever the error page says.
    server.add("/robots.txt", "User-agent: *\nDisallow: /\n", status=status, headers=TEXT)
    assert _verdicts(state, server.url("/news/a"), server.url("/private/b")) == [ALLOWED, ALLOWED]
    assert _stored_expiry(state, server) is not None  # settled: kept in the state


@pytest.mark.parametrize("status", [401, 403])
def test_a_forbidden_robots_txt_disallows_everything(
    server: LoopbackServer, state: State, status: int
) -> None:
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", status=status, headers=TEXT)
    refused = RobotsVerdict(False, f"robots.txt is forbidden ({status}): the site wants no robots")
    assert _verdicts(state, server.url("/news/a"), server.url("/")) == [refused, refused]
    # Settled, not transient: kept in the state, and a new pass does not ask again.
    assert _stored_expiry(state, server) is not None
    assert _verdicts(state, server.url("/news/b")) == [refused]
    assert server.hits("/robots.txt") == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_failing_robots_txt_disallows_for_now_and_is_asked_again_next_pass(
    server: LoopbackServer, state: State, status: int
) -> None:
    server.add("/robots.txt", "down", status=status, headers=TEXT)
    refused = RobotsVerdict(False, f"robots.txt answered {status}", transient=True)
    # One pass asks once, however many pages it has for the site.
    assert _verdicts(state, server.url("/news/a"), server.url("/news/b")) == [refused, refused]
    assert server.hits("/robots.txt") == 1
    # Never stored: the next pass asks again, and gets the repaired file.
    assert _stored_expiry(state, server) is None
    server.add("/robots.txt", "User-agent: *\nDisallow: /news/b\n", headers=TEXT)
    allowed, disallowed = _verdicts(state, server.url("/news/a"), server.url("/news/b"))
    assert allowed == ALLOWED and not disallowed.allowed and not disallowed.transient
    assert server.hits("/robots.txt") == 2


def test_an_unreachable_site_disallows_for_now(state: State) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more: the connection is refused.
    [verdict] = _verdicts(state, f"http://127.0.0.1:{port}/news/a")
    assert not verdict.allowed and verdict.transient
    assert verdict.reason is not None and verdict.reason.startswith("robots.txt unreachable: ")


def test_one_fetch_per_site_however_many_pages_ask_at_once(server: LoopbackServer, state: State) -> None:
    server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", headers=TEXT, delay=0.3)

    async def ask_at_once(policy: RobotsPolicy, _: Fetcher) -> list[RobotsVerdict]:
        return await asyncio.gather(*(policy.verdict(server.url(f"/news/{n}")) for n in range(10)))

    assert _with_policy(state, ask_at_once) == [ALLOWED] * 10
    assert server.hits("/robots.txt") == 1


def test_each_origin_has_its_own_robots_txt(
    server: LoopbackServer, other_host: LoopbackServer, state: State
) -> None:
    server.add("/robots.txt", "User-agent: *\nDisallow: /news/\n", headers=TEXT)
    # other_host has no robots.txt: everything allowed there.
    verdicts = _verdicts(state, server.url("/news/a"), other_host.url("/news/a"), server.url("/news/b"))
    assert [verdict.allowed for verdict in verdicts] == [False, True, False]
    assert server.hits("/robots.txt") == 1 and other_host.hits("/robots.txt") == 1


def test_robots_txt_is_kept_in_the_state_between_passes(server: LoopbackServer, tmp_path: Path) -> None:
    server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", headers=TEXT)
    folder = tmp_path / "state"
    with State(folder / "state.sqlite3", folder / "out", "{seq}_{id}.txt") as state:
        assert _verdicts(state, server.url("/news/a")) == [ALLOWED]
    # The site changes its file, but the copy in the state is still fresh: reopened, it decides.
    server.add("/robots.txt", "User-agent: *\nDisallow: /\n", headers=TEXT)
    with State(folder / "state.sqlite3", folder / "out", "{seq}_{id}.txt") as state:
        news, private = _verdicts(state, server.url("/news/b"), server.url("/private/c"))
    assert news == ALLOWED and not private.allowed
    assert server.hits("/robots.txt") == 1


@pytest.mark.parametrize(
    ("cache_control", "kept"),
    [
        ("max-age=3600", timedelta(hours=1)),
        ("public, max-age=604800", timedelta(hours=24)),  # a week asked, a day kept (RFC 9309 2.4)
        (None, timedelta(hours=24)),
    ],
)
def test_the_state_keeps_robots_txt_for_its_max_age_at_most_a_day(
    server: LoopbackServer, state: State, cache_control: str | None, kept: timedelta
) -> None:
    headers = {**TEXT, "Cache-Control": cache_control} if cache_control else TEXT
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", headers=headers)
    before = datetime.now(UTC)
    _verdicts(state, server.url("/a"))
    expiry = _stored_expiry(state, server)
    assert expiry is not None
    # Stored to the second.
    assert before + kept - timedelta(seconds=1) <= expiry <= datetime.now(UTC) + kept


def test_an_expired_copy_is_asked_for_again_next_pass_but_not_within_one(
    server: LoopbackServer, state: State
) -> None:
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={**TEXT, "Cache-Control": "max-age=0"})
    # However short its life, one pass asks once.
    _verdicts(state, server.url("/a"), server.url("/b"), server.url("/c"))
    assert server.hits("/robots.txt") == 1
    _verdicts(state, server.url("/d"))
    assert server.hits("/robots.txt") == 2


def test_only_the_first_500_kib_of_robots_txt_count(server: LoopbackServer, state: State) -> None:
    padding = "# padding to push the next rule past 500 KiB\n" * (520 * 1024 // 45)
    robots = f"User-agent: feedd\nDisallow: /early/\n{padding}Disallow: /late/\n"
    assert len(robots.encode()) > 520 * 1024
    server.add("/robots.txt", robots, headers=TEXT)
    early, late = _verdicts(state, server.url("/early/a"), server.url("/late/b"))
    assert not early.allowed and late == ALLOWED


def test_a_robots_txt_larger_than_the_fetch_cap_still_counts_its_first_500_kib(
    server: LoopbackServer, state: State
) -> None:
    padding = "# padding\n" * (1536 * 1024 // 10)
    server.add("/robots.txt", f"User-agent: *\nDisallow: /private/\n{padding}", headers=TEXT)
    config = LOOPBACK.model_copy(update={"max_bytes": 1024 * 1024})

    async def ask(policy: RobotsPolicy, _: Fetcher) -> list[RobotsVerdict]:
        return [await policy.verdict(server.url("/news/a")), await policy.verdict(server.url("/private/b"))]

    news, private = _with_policy(state, ask, config=config)
    assert news == ALLOWED and private == RobotsVerdict(False, "robots.txt disallows feedd")


@pytest.mark.parametrize(
    ("limit", "newline"),
    [(500 * 1024, "\n"), (500 * 1024, "\r"), (256 * 1024, "\n")],  # the robots limit, or [fetch] max_bytes
)
def test_a_rule_cut_at_the_limit_does_not_count(
    server: LoopbackServer, state: State, limit: int, newline: str
) -> None:
    # "Disallow: /search/" cut to "Disallow: /s" would shut /sport out.
    head = f"User-agent: *{newline}Disallow: /early/{newline}"
    padding = "#" * (limit - len(head) - len("Disallow: /s") - 1) + newline
    robots = f"{head}{padding}Disallow: /search/{newline}"
    assert robots.encode().index(b"Disallow: /search/") + len("Disallow: /s") == limit
    server.add("/robots.txt", robots, headers=TEXT)
    config = LOOPBACK.model_copy(update={"max_bytes": min(limit, 1024 * 1024)})

    async def ask(policy: RobotsPolicy, _: Fetcher) -> list[RobotsVerdict]:
        return [await policy.verdict(server.url("/early/a")), await policy.verdict(server.url("/sport/b"))]

    early, sport = _with_policy(state, ask, config=config)
    assert not early.allowed and sport == ALLOWED


def test_a_robots_txt_of_exactly_500_kib_keeps_its_last_rule(server: LoopbackServer, state: State) -> None:
    head = "User-agent: *\n"
    tail = "Disallow: /last/"  # no newline at the end: the file ends at the limit, whole
    robots = head + "#" * (500 * 1024 - len(head) - len(tail) - 1) + "\n" + tail
    assert len(robots.encode()) == 500 * 1024
    server.add("/robots.txt", robots, headers=TEXT)
    [last] = _verdicts(state, server.url("/last/a"))
    assert not last.allowed


def test_crawl_delay_for_feedd_spaces_its_requests_to_the_host(server: LoopbackServer, state: State) -> None:
    server.add("/robots.txt", "User-agent: feedd\nCrawl-delay: 1\n", headers=TEXT)
    server.add("/a", "a")
    server.add("/b", "b")

    async def ask_then_fetch(policy: RobotsPolicy, fetcher: Fetcher) -> None:
        assert await policy.verdict(server.url("/a")) == ALLOWED
        await asyncio.gather(fetcher.get(server.url("/a")), fetcher.get(server.url("/b")))

    _with_policy(state, ask_then_fetch)
    times = sorted(
        t for (path, _), t in zip(server.requests, server.request_times, strict=True) if path != "/robots.txt"
    )
    assert len(times) == 2 and times[1] - times[0] >= 0.95


def test_a_crawl_delay_longer_than_the_request_timeout_defers_the_next_request(
    server: LoopbackServer, state: State
) -> None:
    server.add("/robots.txt", "User-agent: *\nCrawl-delay: 30\n", headers=TEXT)
    server.add("/a", "a")

    async def ask_then_fetch_twice(policy: RobotsPolicy, fetcher: Fetcher) -> str:
        await policy.verdict(server.url("/a"))
        await fetcher.get(server.url("/a"))
        with pytest.raises(FetchError) as deferred:
            await fetcher.get(server.url("/a"))
        return deferred.value.reason

    assert "asked to wait" in _with_policy(state, ask_then_fetch_twice)
    assert server.hits("/a") == 1


def test_a_crawl_delay_read_from_the_state_applies_too(server: LoopbackServer, state: State) -> None:
    server.add("/robots.txt", "User-agent: *\nCrawl-delay: 30\n", headers=TEXT)
    server.add("/a", "a")
    _verdicts(state, server.url("/a"))

    async def ask_then_fetch_twice(policy: RobotsPolicy, fetcher: Fetcher) -> None:
        await policy.verdict(server.url("/a"))
        await fetcher.get(server.url("/a"))
        with pytest.raises(FetchError, match="asked to wait"):
            await fetcher.get(server.url("/a"))

    _with_policy(state, ask_then_fetch_twice)
    assert server.hits("/robots.txt") == 1 and server.hits("/a") == 1


def test_another_agents_crawl_delay_does_not_slow_feedd(server: LoopbackServer, state: State) -> None:
    server.add(
        "/robots.txt", "User-agent: GPTBot\nCrawl-delay: 30\n\nUser-agent: *\nAllow: /\n", headers=TEXT
    )
    server.add("/a", "a")

    async def ask_then_fetch_twice(policy: RobotsPolicy, fetcher: Fetcher) -> None:
        await policy.verdict(server.url("/a"))
        await fetcher.get(server.url("/a"))
        await fetcher.get(server.url("/a"))  # would be deferred under a 30 s gap

    _with_policy(state, ask_then_fetch_twice)
    assert server.hits("/a") == 2


def test_ai_training_opt_outs_count_only_when_asked(server: LoopbackServer, state: State) -> None:
    robots = (
        "User-agent: CCBot\nDisallow: /\n\n"
        "User-agent: GPTBot\nDisallow: /archive/\n\n"
        "User-agent: *\nAllow: /\n"
    )
    server.add("/robots.txt", robots, headers=TEXT)
    assert _verdicts(state, server.url("/news/a"), server.url("/archive/b")) == [ALLOWED, ALLOWED]
    news, archive = _verdicts(state, server.url("/news/a"), server.url("/archive/b"), respect_ai_optout=True)
    assert news == RobotsVerdict(False, "site opts out of AI training (robots.txt disallows CCBot)")
    # Both shut out of the archive: the first in AI_TRAINING_AGENTS' order is named.
    assert archive == RobotsVerdict(False, "site opts out of AI training (robots.txt disallows GPTBot)")


def test_an_ai_opt_out_of_some_pages_leaves_the_others(server: LoopbackServer, state: State) -> None:
    server.add("/robots.txt", "User-agent: Google-Extended\nDisallow: /archive/\n", headers=TEXT)
    news, archive = _verdicts(state, server.url("/news/a"), server.url("/archive/b"), respect_ai_optout=True)
    assert news == ALLOWED
    assert archive == RobotsVerdict(
        False, "site opts out of AI training (robots.txt disallows Google-Extended)"
    )


def test_feedds_own_refusal_comes_before_an_ai_opt_out(server: LoopbackServer, state: State) -> None:
    server.add(
        "/robots.txt", "User-agent: feedd\nDisallow: /\n\nUser-agent: GPTBot\nDisallow: /\n", headers=TEXT
    )
    [verdict] = _verdicts(state, server.url("/a"), respect_ai_optout=True)
    assert verdict == RobotsVerdict(False, "robots.txt disallows feedd")
