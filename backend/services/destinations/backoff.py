"""Exponential back-off with full jitter: after attempt n wait a random time in
[floor, min(cap, base · 2^(n-1))], so many items that failed together do not come back
together (AWS Architecture Blog, "Exponential Backoff And Jitter")."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from backend.services.destinations.policy import RetryPolicy

Random = Callable[[], float]  # uniform in [0, 1), like random.random

# Never "at once": a zero wait would retry in the same dispatcher round.
FLOOR_S = 1.0


def backoff_delay(attempt: int, base_s: float, cap_s: float, rand: Random = random.random,
                  floor_s: float = FLOOR_S) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 = the first)."""
    ceiling = min(cap_s, base_s * 2.0 ** max(0, attempt - 1))
    return max(min(floor_s, ceiling), rand() * ceiling)


def next_attempt_at(attempt: int, policy: RetryPolicy, now: datetime,
                    rand: Random = random.random, at_least_s: float | None = None) -> datetime:
    """When to try again after failed attempt `attempt`; `at_least_s` honours a peer's
    Retry-After."""
    delay = backoff_delay(attempt, policy.backoff_base_s, policy.backoff_cap_s, rand)
    if at_least_s is not None:
        delay = max(delay, min(at_least_s, policy.backoff_cap_s))
    return now + timedelta(seconds=delay)
