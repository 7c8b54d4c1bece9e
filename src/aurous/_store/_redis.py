"""A pacing store in Redis, for fleets across machines (``pacing="redis://host:6379/0"``).

Through redis-py (the extra ``aurous[redis]``): its blocking client for `aurous.Client` and the
listener thread, its asyncio client for `aurous.AsyncClient`. The compare-and-set is one Lua
script (atomic on the server: read the version, write the state, publish the wake-up), so an
operation costs one round trip when this process wrote last, two when another did. Wake-ups are
Redis pub/sub on one channel per team. Keys expire a day after their last write.

Every command has a 50 ms timeout: a slower store is treated as down (`StoreUnavailable`), and
pacing falls back to the process until it answers again.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

try:
    import redis
    import redis.asyncio
except ModuleNotFoundError:  # pragma: no cover - exercised without the extra
    raise ModuleNotFoundError(
        "pacing with a Redis URL needs redis-py: pip install 'aurous[redis]'", name="redis"
    ) from None

from ._shared import WAKE, SharedStore, StoreUnavailable

__all__ = ["RedisBackend", "open_shared"]

_TIMEOUT = 0.05
"""Seconds a command may take before the store counts as down (the issue's 50 ms)."""
_CONNECT_TIMEOUT = 0.5
_TTL_MS = 24 * 3600 * 1000

_CAS = """
local current = redis.call('HGET', KEYS[1], 'v')
if current == false then current = '' end
if current ~= ARGV[1] then
  local data = redis.call('HGET', KEYS[1], 'd')
  if data == false then data = '' end
  return {0, current, data}
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
return {1}
"""

_FAILURES = (redis.RedisError, OSError)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def describe(url: str) -> str:
    """``url`` without its password (it appears in messages and logs)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class RedisBackend:
    """Redis as the holder of a team's pacing state."""

    def __init__(self, url: str, team: str) -> None:
        self.url = url
        self.description = describe(url)
        self.channel = f"aurous:{team}:events"
        self._lock = threading.Lock()
        self._client: redis.Redis | None = None
        self._script: Any = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )
        self._offset: float | None = None

    def _options(self) -> dict[str, Any]:
        # Connecting may take longer than a command on a busy host (a fleet starting at once);
        # a command slower than 50 ms means the store is too slow to pace with.
        return {"socket_timeout": _TIMEOUT, "socket_connect_timeout": _CONNECT_TIMEOUT}

    def _sync(self) -> tuple[redis.Redis, Any]:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    client = redis.Redis.from_url(self.url, **self._options())
                    self._script = client.register_script(_CAS)
                    self._client = client
        return self._client, self._script

    def _args(self, expected: str | None, version: str, blob: str | None, wake: bool) -> list[Any]:
        return [expected or "", version, blob or "", _TTL_MS, self.channel if wake else "", WAKE]

    @staticmethod
    def _result(reply: Any) -> tuple[bool, str | None, str | None]:
        if int(reply[0]) == 1:
            return True, None, None
        version, blob = _text(reply[1]), _text(reply[2])
        return False, version or None, blob or None

    def cas(
        self, key: str, expected: str | None, version: str, blob: str | None, wake: bool
    ) -> tuple[bool, str | None, str | None]:
        _, script = self._sync()
        try:
            reply = script(keys=[key], args=self._args(expected, version, blob, wake))
        except _FAILURES as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return self._result(reply)

    async def acas(
        self, key: str, expected: str | None, version: str, blob: str | None, wake: bool
    ) -> tuple[bool, str | None, str | None]:
        loop = asyncio.get_running_loop()
        pair = self._async.get(loop)
        if pair is None:
            # redis-py's asyncio connections belong to the event loop that opened them.
            client = redis.asyncio.Redis.from_url(self.url, **self._options())
            pair = self._async[loop] = (client, client.register_script(_CAS))
        try:
            reply = await pair[1](keys=[key], args=self._args(expected, version, blob, wake))
        except _FAILURES as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return self._result(reply)

    def publish(self, message: str) -> None:
        client, _ = self._sync()
        try:
            client.publish(self.channel, message)
        except _FAILURES as exc:
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def listen(
        self, deliver: Callable[[str], None], stop: threading.Event, tick: Callable[[], None]
    ) -> None:
        # A connection of its own, without the 50 ms timeout: it mostly waits.
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1.0, socket_timeout=5.0)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            while not stop.is_set():
                message = pubsub.get_message(timeout=0.5)
                if message is not None and message.get("type") == "message":
                    deliver(_text(message["data"]))
                tick()
        finally:
            pubsub.close()
            client.close()

    def wall(self) -> float:
        offset = self._offset
        if offset is None:
            offset = self._offset = self._measure_offset()
        return time.time() + offset

    def _measure_offset(self) -> float:
        """How far this machine's clock is from Redis's (leases are read on Redis's clock, so
        machines whose clocks disagree still agree on who is alive)."""
        client, _ = self._sync()
        try:
            before = time.time()
            seconds, micros = client.time()
            after = time.time()
        except _FAILURES:
            return 0.0
        return float(seconds) + micros / 1e6 - (before + after) / 2

    def reset(self) -> None:
        self._client = None
        self._script = None
        self._async = weakref.WeakKeyDictionary()


def open_shared(url: str, team: str) -> SharedStore:
    return SharedStore(RedisBackend(url, team), team)
