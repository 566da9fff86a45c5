"""One rate schedule for every process on an API key, kept in Redis.

N runners (or workers) sharing an API key share one budget at the API: paced each on its
own, they would together send N times the refill rate. `RedisRateSchedule` keeps the
schedule of `rate_schedule.py` (the next allowed start, the interval, a pause) in one Redis
hash and changes it only in Lua scripts, which Redis runs atomically, on Redis's own clock
(`TIME`), so machines whose clocks disagree still agree on the schedule. Every process still
reads the `anthropic-ratelimit-*` headers and `retry-after` of its own answers and writes
what they imply to the shared hash; concurrency (requests in flight) stays each process's.

Needs the `redis` extra.

>>> schedule = shared_schedule("redis://127.0.0.1:6379/0", name="anthropic:m")  # doctest: +SKIP
>>> limiter = AdaptiveLimiter(settings, schedule=schedule)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from routelens.errors import InputError
from routelens.extras import install_hint
from routelens.routers.rate_schedule import CATCH_UP_INTERVALS

if TYPE_CHECKING:
    from redis.asyncio import Redis

REDIS_EXTRA_HINT: Final = f"a shared limiter needs the redis extra: {install_hint('redis')}"
KEY_PREFIX: Final = "routelens:limiter:"
# the schedule is forgotten an hour after its last use
STATE_TTL_S: Final = 3600
CONNECT_TIMEOUT_S: Final = 2.0
SUPPORTED_SCHEMES: Final = ("redis://", "rediss://", "unix://")

# Each script reads Redis's clock and the hash fields `next_start`, `interval`, `paused_until`.
_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'next_start', 'interval', 'paused_until')
local next_start = tonumber(state[1]) or 0
local interval = tonumber(state[2]) or 0
local paused_until = tonumber(state[3]) or 0
"""
# returns 0 after a start, else the seconds to wait (as text: Lua numbers become integers)
TRY_START_SCRIPT: Final = (
    _NOW
    + """
local due = math.max(paused_until, next_start)
if due > now then return tostring(due - now) end
local from = due
if now - due > tonumber(ARGV[2]) * interval then from = now end
redis.call('HSET', KEYS[1], 'next_start', tostring(from + interval))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return '0'
"""
)
PAUSE_SCRIPT: Final = (
    _NOW
    + """
local resume = now + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'paused_until', tostring(math.max(paused_until, resume)),
           'next_start', tostring(math.max(next_start, resume)))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return '0'
"""
)
SET_INTERVAL_SCRIPT: Final = (
    _NOW
    + """
local new_interval = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'interval', tostring(new_interval),
           'next_start', tostring(next_start + new_interval - interval))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return '0'
"""
)


class RedisRateSchedule:
    """A `RateSchedule` in one Redis hash, shared by every process that uses the same key.

    The connection is made on first use, in the event loop that uses it (a new loop gets
    its own connection).
    """

    def __init__(self, url: str, *, key: str) -> None:
        self.url = url
        self.key = key
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, Any] = {}

    def _redis(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            from redis.asyncio import Redis

            self._client, self._loop = Redis.from_url(self.url), loop
            self._scripts = {
                name: self._client.register_script(source)
                for name, source in (
                    ("try_start", TRY_START_SCRIPT),
                    ("pause", PAUSE_SCRIPT),
                    ("set_interval", SET_INTERVAL_SCRIPT),
                )
            }
        return self._client

    async def _run(self, script: str, *arguments: float | int) -> float:
        self._redis()
        answer = await self._scripts[script](keys=[self.key], args=list(arguments))
        return float(answer)

    async def try_start(self) -> float:
        """Start now if the shared schedule allows (0), else the seconds to wait."""
        return await self._run("try_start", STATE_TTL_S, CATCH_UP_INTERVALS)

    async def pause(self, seconds: float) -> None:
        """No process starts a request before `seconds` from now."""
        await self._run("pause", seconds, STATE_TTL_S)

    async def set_interval(self, interval_s: float) -> None:
        """Seconds between two starts of all the processes together."""
        await self._run("set_interval", interval_s, STATE_TTL_S)

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = self._loop = None


def schedule_key(router: str, model: str | None, api_key: str | None) -> str:
    """The hash's name: one schedule per (router, model, API key).

    Only a short digest of the key is used, so the key itself never reaches Redis, and two
    teams with different keys on one Redis do not slow each other down.
    """
    digest = hashlib.sha256((api_key or "").encode()).hexdigest()[:12]
    return f"{KEY_PREFIX}{router}:{model or 'default'}:{digest}"


def shared_schedule(url: str, *, name: str) -> RedisRateSchedule:
    """The shared schedule at `url` (`redis://HOST[:PORT][/DB]`) under the hash `name`."""
    if not url.startswith(SUPPORTED_SCHEMES):
        raise InputError(
            "limiter_url",
            f"expected a redis:// (or rediss://, unix://) URL, got {url.split('://')[0]!r}",
            field="limiter_url",
        )
    try:
        import redis
    except ImportError:
        raise InputError("limiter_url", REDIS_EXTRA_HINT, field="limiter_url") from None
    try:  # say so now, not as an error on every attempt
        with redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S) as probe:
            probe.ping()
    except redis.RedisError as error:
        raise InputError(
            "limiter_url",
            f"cannot reach the shared limiter at {_without_userinfo(url)}: {error}",
            field="limiter_url",
        ) from None
    return RedisRateSchedule(url, key=name)


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
