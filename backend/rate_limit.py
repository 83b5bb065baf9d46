"""Counting failures in Redis (shared by every web process): too many → RateLimited (429)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import redis

from backend.errors import RateLimited

log = logging.getLogger(__name__)


class FailureLimiter:
    """At most `limits[i]` failures per key within `window_s` seconds of the first one."""

    def __init__(self, connection: redis.Redis, prefix: str, window_s: int) -> None:
        self.connection = connection
        self.prefix = prefix
        self.window_s = window_s

    def _key(self, key: str) -> str:
        return f"mm:limit:{self.prefix}:{key}"

    def check(self, keys: Sequence[tuple[str, int]], message: str) -> None:
        """Raise RateLimited when any key has reached its limit."""
        try:
            pipe = self.connection.pipeline()
            for key, _limit in keys:
                pipe.get(self._key(key))
                pipe.ttl(self._key(key))
            answers = pipe.execute()
        except redis.RedisError:
            # Logins keep working while Redis is away; the limit returns with it.
            log.warning("rate limit store unreachable; not limiting %s", self.prefix)
            return
        for i, (_key, limit) in enumerate(keys):
            count, ttl = answers[2 * i], answers[2 * i + 1]
            if count is not None and int(count) >= limit:
                raise RateLimited(message, ttl if ttl and ttl > 0 else self.window_s)

    def fail(self, keys: Sequence[str]) -> None:
        """Count one failure for each key (the window starts with the first)."""
        try:
            pipe = self.connection.pipeline()
            for key in keys:
                pipe.set(self._key(key), 0, ex=self.window_s, nx=True)
                pipe.incr(self._key(key))
            pipe.execute()
        except redis.RedisError:
            log.warning("rate limit store unreachable; failure not counted")

    def clear(self, key: str) -> None:
        """Forget a key's failures (after a success)."""
        try:
            self.connection.delete(self._key(key))
        except redis.RedisError:
            log.warning("rate limit store unreachable; not cleared")
