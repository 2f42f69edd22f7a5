"""The claim lock of the shared index, fenced: what a holder writes is applied by one Lua script,
and only while the lock still holds that holder's token. A holder slowed past the lock's lifetime
(a stalled Redis, a paused process) writes nothing: another instance may have taken the
lock and claimed the same story meanwhile, so the holder is told, and decides again.

The lifetime cannot simply be extended from here: the holder that needs it is the one too slow
to ask in time."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.typing import EncodableT, KeyT

from feedd.errors import SharedIndexError

#: Applies ARGV's commands (each as its argument count, then its arguments) when KEYS[1] holds
#: the token ARGV[1]; 1 if applied, 0 if the lock was lost.
_APPLY_IF_HELD = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 1
"""
_RELEASE_IF_HELD = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
#: How often a waiting claim asks for the lock again.
_POLL = 0.02


class FencedWrites:
    """Writes made under the lock, applied together and only if it is still held."""

    def __init__(self, apply: AsyncScript, lock_key: str, token: str) -> None:
        self._apply = apply
        self._lock_key = lock_key
        self._token = token
        self._commands: list[EncodableT] = []

    def _command(self, *args: EncodableT) -> None:
        self._commands.extend((len(args), *args))

    def set(self, key: KeyT, value: EncodableT) -> None:
        self._command("SET", key, value)

    def delete(self, key: KeyT) -> None:
        self._command("DEL", key)

    def hset(self, key: KeyT, field: EncodableT, value: EncodableT) -> None:
        self._command("HSET", key, field, value)

    def hset_all(self, key: KeyT, mapping: Mapping[str, EncodableT]) -> None:
        self._command("HSET", key, *(item for pair in mapping.items() for item in pair))

    def rpush(self, key: KeyT, *values: EncodableT) -> None:
        self._command("RPUSH", key, *values)

    def sadd(self, key: KeyT, member: EncodableT) -> None:
        self._command("SADD", key, member)

    def srem(self, key: KeyT, member: EncodableT) -> None:
        self._command("SREM", key, member)

    def hdel(self, key: KeyT, field: EncodableT) -> None:
        self._command("HDEL", key, field)

    def zadd(self, key: KeyT, member: EncodableT, score: float) -> None:
        self._command("ZADD", key, score, member)

    def zrem(self, key: KeyT, member: EncodableT) -> None:
        self._command("ZREM", key, member)

    async def apply(self) -> bool:
        """Apply the writes given since the last apply, at once; False, and nothing written, when
        the lock was lost."""
        applied = bool(await self._apply(keys=[self._lock_key], args=[self._token, *self._commands]))
        self._commands.clear()
        return applied


class ClaimLock:
    """One lock over a namespace's claims; `lifetime` frees it from a crashed holder, `wait`
    bounds how long a claim waits for it (asleep: the event loop goes on meanwhile)."""

    def __init__(self, client: Redis, key: str, *, lifetime: float, wait: float) -> None:
        self._client = client
        self._key = key
        self._lifetime_ms = max(1, int(lifetime * 1000))
        self._wait = wait
        self._apply = client.register_script(_APPLY_IF_HELD)
        self._release = client.register_script(_RELEASE_IF_HELD)

    @asynccontextmanager
    async def held(self) -> AsyncIterator[FencedWrites]:
        """Hold the lock; the writes given are applied only while it is still held. Raises
        SharedIndexError when the lock is not obtained within `wait`."""
        token = secrets.token_hex(16)
        deadline = time.monotonic() + self._wait
        while not await self._client.set(self._key, token, nx=True, px=self._lifetime_ms):
            if time.monotonic() >= deadline:
                raise SharedIndexError(
                    f"shared dedup index: lock {self._key} not obtained within {self._wait:g} s"
                )
            await asyncio.sleep(_POLL)
        try:
            yield FencedWrites(self._apply, self._key, token)
        finally:
            await self._release(keys=[self._key], args=[token])
