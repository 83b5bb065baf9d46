"""Back-off: exponential with full jitter, within its bounds, and spread out."""

from __future__ import annotations

import random
import statistics
from datetime import timedelta

import pytest

from backend.models.base import utcnow
from backend.services.destinations.backoff import FLOOR_S, backoff_delay, next_attempt_at
from backend.services.destinations.policy import RetryPolicy


@pytest.mark.parametrize(("attempt", "ceiling"), [
    (1, 10.0), (2, 20.0), (3, 40.0), (6, 320.0), (9, 2560.0), (10, 3600.0), (50, 3600.0),
])
def test_every_delay_lies_between_the_floor_and_the_doubled_ceiling_under_the_cap(
    attempt: int, ceiling: float,
) -> None:
    rand = random.Random(attempt).random
    delays = [backoff_delay(attempt, 10, 3600, rand) for _ in range(2000)]
    assert min(delays) >= FLOOR_S
    assert max(delays) <= ceiling
    # Full jitter: the whole range is used, not a narrow band around the ceiling.
    assert min(delays) < 0.05 * ceiling + FLOOR_S
    assert max(delays) > 0.95 * ceiling


def test_the_random_source_decides_where_in_the_range() -> None:
    assert backoff_delay(3, 10, 3600, lambda: 0.0) == FLOOR_S
    assert backoff_delay(3, 10, 3600, lambda: 0.5) == 20.0
    assert backoff_delay(3, 10, 3600, lambda: 0.999999) == pytest.approx(40.0, abs=1e-3)


def test_items_that_failed_together_come_back_spread_out() -> None:
    rand = random.Random(15).random
    delays = [backoff_delay(4, 10, 3600, rand) for _ in range(1000)]
    # Uniform on [0, 80]: mean 40, standard deviation 80/√12 ≈ 23.
    assert statistics.mean(delays) == pytest.approx(40, abs=3)
    assert statistics.stdev(delays) == pytest.approx(23.1, abs=2)
    assert len({round(d) for d in delays}) > 70  # nearly every second of the range is hit


def test_a_peers_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff_base_s=10, backoff_cap_s=600)
    now = utcnow()
    assert next_attempt_at(1, policy, now, lambda: 0.0, at_least_s=120) == now + timedelta(
        seconds=120)
    assert next_attempt_at(1, policy, now, lambda: 0.0, at_least_s=86400) == now + timedelta(
        seconds=600)
    assert next_attempt_at(1, policy, now, lambda: 0.5) == now + timedelta(seconds=5)
