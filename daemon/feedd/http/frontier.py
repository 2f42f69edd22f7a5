"""The fetch frontier: who may send the next request, to which host, and when.

Every request (feed, robots.txt, page, each redirect hop) waits in its host's queue. A host is
*ready* when it has a request waiting, fewer than `max_per_host` in flight, and its next allowed
time has come (`host_gap` after its last start, longer after a Crawl-delay or a Retry-After).
Only ready hosts line up for the global connection slots: a request never holds a shared slot
while its host's turn is still to come, and one busy host cannot stall the others (head-of-line
blocking). In the line, hosts go by a deadline: when their next request was queued, less the
time their queue will take (requests queued x its gap, or x a typical request's time when the
gap is shorter). The busiest host sets how long a pass takes, so its turns must not be spent
waiting behind hosts that could go later at no cost; and a host with little queued still goes
once it has waited as long as the others' queues are worth, so none waits without end.

Some requests also need a unit of a `Budget` (a page's body held until it is extracted): they are
granted only while the budget has room, so memory is bounded by the bodies in hand, not by
making requests wait in line behind a slow host. Within a host, requests that need no budget
(feeds, robots.txt) go first: a page holding a unit may be waiting for one of them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from feedd.errors import FetchError

#: About how long a request keeps its host busy: what a queued request costs a host whose gap is
#: shorter (host_gap = "0s"), so that the line still puts the longest queues first.
_REQUEST_SECONDS = 0.05


class Budget:
    """A count of things held across awaits (fetched pages awaiting extraction), shared by the
    requests that need one. The frontier takes a unit when it grants such a request; whoever
    ends up holding it gives it back with `release`."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a budget needs room for at least one")
        self.limit = limit
        self.used = 0
        self._on_release: list[Callable[[], None]] = []

    @property
    def has_room(self) -> bool:
        return self.used < self.limit

    def take(self) -> None:
        self.used += 1

    def release(self) -> None:
        if self.used <= 0:
            raise RuntimeError("a budget unit released that was never taken")
        self.used -= 1
        for listener in self._on_release:
            listener()

    def on_release(self, listener: Callable[[], None]) -> None:
        if listener not in self._on_release:
            self._on_release.append(listener)


@dataclass(frozen=True, slots=True)
class HostLoad:
    """One host as the frontier sees it (shown by `feedd status`)."""

    host: str
    #: Requests waiting for the host's turn.
    queued: int
    in_flight: int
    #: Seconds until the host may be asked again (0: now).
    next_allowed_in: float
    #: The gap between two request starts (host_gap, or the site's Crawl-delay).
    gap: float
    #: Requests started since the host was last idle, and the seconds they waited for their turn.
    started: int
    waited: float


class _Waiter:
    __slots__ = ("budget", "future", "granted", "max_wait", "queued_at", "url")

    def __init__(
        self, url: str, future: asyncio.Future[None], budget: Budget | None, max_wait: float, now: float
    ) -> None:
        self.url = url
        self.future = future
        self.budget = budget
        self.max_wait = max_wait
        self.queued_at = now
        #: Given a slot (and a unit of its budget): only then is there anything to give back.
        self.granted = False


class _Host:
    __slots__ = (
        "gap",
        "in_flight",
        "in_line",
        "name",
        "next_allowed",
        "paused_until",
        "started",
        "budgeted",
        "free",
        "timer",
        "waited",
    )

    def __init__(self, name: str, gap: float) -> None:
        self.name = name
        self.gap = gap
        # Requests that hold nothing once done (feeds, robots.txt) go before those that keep a
        # unit of a budget (pages): pages holding their bodies may be waiting on this host's
        # robots.txt, and it must not queue behind a page that waits for one of their units.
        self.free: deque[_Waiter] = deque()
        self.budgeted: deque[_Waiter] = deque()
        self.in_flight = 0
        #: When the host may next be asked (the event loop's clock).
        self.next_allowed = 0.0
        #: Until when the host asked to be left alone (Retry-After).
        self.paused_until = 0.0
        self.timer: asyncio.TimerHandle | None = None
        #: In the line for a connection slot.
        self.in_line = False
        self.started = 0
        self.waited = 0.0

    def add(self, waiter: _Waiter) -> None:
        (self.free if waiter.budget is None else self.budgeted).append(waiter)

    def head(self) -> _Waiter | None:
        """The next request to grant (cancelled and failed ones are dropped here)."""
        for queue in (self.free, self.budgeted):
            while queue and queue[0].future.done():
                queue.popleft()
            if queue:
                return queue[0]
        return None

    def pop_head(self) -> _Waiter:
        waiter = self.head()
        assert waiter is not None
        (self.free if waiter.budget is None else self.budgeted).popleft()
        return waiter

    def waiters(self) -> list[_Waiter]:
        return [*self.free, *self.budgeted]


@dataclass(order=True, slots=True)
class _Place:
    """A host's place in the line: the earliest deadline first, then first come."""

    deadline: float
    arrival: int
    host: _Host = field(compare=False)


class Frontier:
    """Per-host queues of requests, each host polite on its own, with a global connection cap."""

    def __init__(self, *, max_connections: int, max_per_host: int, host_gap: float) -> None:
        self._max_connections = max_connections
        self._max_per_host = max_per_host
        self._host_gap = host_gap
        self._hosts: dict[str, _Host] = {}
        #: Gaps wider than host_gap, asked for by robots.txt Crawl-delay; kept while hosts idle.
        self._gaps: dict[str, float] = {}
        #: Ready hosts waiting for a connection slot, in the order they get one.
        self._line: list[_Place] = []
        self._arrivals = itertools.count()
        self._connections = 0

    @asynccontextmanager
    async def turn(
        self, host: str, url: str, *, max_wait: float, budget: Budget | None = None
    ) -> AsyncIterator[None]:
        """Wait for `host`'s turn and a connection slot (and a unit of `budget`, which the caller
        keeps afterwards); hold them while the request to `url` runs. A host that asks to be left
        alone for longer than `max_wait` (Retry-After) fails the request instead."""
        loop = asyncio.get_running_loop()
        record = self._host(host)
        pause = record.next_allowed - loop.time()
        if pause > max_wait:
            raise _deferred(url, record, pause)
        waiter = _Waiter(url, loop.create_future(), budget, max_wait, loop.time())
        if budget is not None:
            budget.on_release(self._dispatch)
        record.add(waiter)
        self._consider(record)
        self._dispatch()
        try:
            await waiter.future
        except asyncio.CancelledError:
            if waiter.granted:
                # Granted in the same instant the caller was cancelled: give it all back.
                if budget is not None:
                    budget.release()
                self._release(record)
            raise
        # A task granted its turn may resume a while later (a busy event loop): the gap runs from
        # when the request really starts, or the next one could follow it closer than the gap.
        record.next_allowed = max(record.next_allowed, loop.time() + record.gap)
        try:
            yield
        finally:
            self._release(record)

    def slow_down(self, host: str, gap: float) -> None:
        """Start requests to `host` at least `gap` seconds apart (never less than host_gap)."""
        gap = max(gap, self._host_gap)
        self._gaps[host] = gap
        if (record := self._hosts.get(host)) is not None:
            record.gap = gap

    def pause(self, host: str, seconds: float) -> None:
        """Ask nothing of `host` for `seconds` (its Retry-After). Requests in its queue that
        would wait longer than they may fail now."""
        record = self._host(host)
        now = asyncio.get_running_loop().time()
        record.next_allowed = max(record.next_allowed, now + seconds)
        record.paused_until = max(record.paused_until, now + seconds)
        if record.timer is not None:
            record.timer.cancel()
            record.timer = None
        for waiter in record.waiters():
            if not waiter.future.done() and record.next_allowed - now > waiter.max_wait:
                waiter.future.set_exception(_deferred(waiter.url, record, record.next_allowed - now))
        self._consider(record)

    def load(self) -> list[HostLoad]:
        """Every host with requests queued or in flight, or a turn still to come; hosts with
        none of these are forgotten here."""
        now = asyncio.get_running_loop().time()
        loads = []
        for name, record in list(self._hosts.items()):
            queued = sum(1 for waiter in record.waiters() if not waiter.future.done())
            if not queued and not record.in_flight and record.next_allowed <= now:
                if record.timer is None and not record.in_line:
                    del self._hosts[name]
                continue
            next_in = max(0.0, record.next_allowed - now)
            loads.append(
                HostLoad(name, queued, record.in_flight, next_in, record.gap, record.started, record.waited)
            )
        return loads

    def _host(self, name: str) -> _Host:
        record = self._hosts.get(name)
        if record is None:
            record = self._hosts[name] = _Host(name, self._gaps.get(name, self._host_gap))
        return record

    def _consider(self, record: _Host) -> None:
        """Put `record` in line for a slot if it is ready, or time its turn if it will be."""
        if record.in_line or record.timer is not None or record.in_flight >= self._max_per_host:
            return
        head = record.head()
        if head is None:
            return
        loop = asyncio.get_running_loop()
        if record.next_allowed > loop.time():
            record.timer = loop.call_at(record.next_allowed, self._turn_came, record)
            return
        record.in_line = True
        ahead = (len(record.free) + len(record.budgeted)) * max(record.gap, _REQUEST_SECONDS)
        heapq.heappush(self._line, _Place(head.queued_at - ahead, next(self._arrivals), record))

    def _turn_came(self, record: _Host) -> None:
        record.timer = None
        self._consider(record)
        self._dispatch()

    def _dispatch(self) -> None:
        """Grant connection slots to the hosts in line, in the line's order. A host whose next
        request needs budget there is no room for steps aside for the hosts behind it."""
        skipped: list[_Place] = []
        while self._line and self._connections < self._max_connections:
            place = heapq.heappop(self._line)
            record = place.host
            waiter = record.head()
            if waiter is None or record.in_flight >= self._max_per_host:
                record.in_line = False
                continue
            now = asyncio.get_running_loop().time()
            if record.next_allowed > now:  # a request started late since it joined the line
                record.in_line = False
                self._consider(record)
                continue
            if waiter.budget is not None and not waiter.budget.has_room:
                skipped.append(place)
                continue
            record.in_line = False
            record.pop_head()
            if waiter.budget is not None:
                waiter.budget.take()
            waiter.granted = True
            self._connections += 1
            record.in_flight += 1
            record.started += 1
            record.waited += now - waiter.queued_at
            # The gap runs from the start of the host's last request.
            record.next_allowed = max(record.next_allowed, now + record.gap)
            waiter.future.set_result(None)
            self._consider(record)  # back of the line, or a timer for its next turn
        for place in skipped:
            heapq.heappush(self._line, place)

    def _release(self, record: _Host) -> None:
        self._connections -= 1
        record.in_flight -= 1
        self._consider(record)
        self._dispatch()


def _deferred(url: str, record: _Host, seconds: float) -> FetchError:
    why = "Retry-After" if record.paused_until >= record.next_allowed else "Crawl-delay"
    return FetchError(url, f"{record.name} asked to wait {seconds:.0f}s ({why}); deferred")
