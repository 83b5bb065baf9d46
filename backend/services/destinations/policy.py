"""How hard to try: attempts, back-off and circuit thresholds, from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from backend.settings import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and back-off for one kind of item; circuit thresholds for its destinations."""

    max_attempts: int = 10
    backoff_base_s: float = 10.0
    backoff_cap_s: float = 3600.0
    failures_to_open: int = 5
    probe_interval_s: float = 30.0

    @property
    def probe_interval(self) -> timedelta:
        """The time between two probes of an open circuit."""
        return timedelta(seconds=self.probe_interval_s)


def _policy(settings: Settings, max_attempts: int) -> RetryPolicy:
    return RetryPolicy(max_attempts=max_attempts,
                       backoff_base_s=settings.retry_backoff_base_s,
                       backoff_cap_s=settings.retry_backoff_cap_s,
                       failures_to_open=settings.destination_failures_to_open,
                       probe_interval_s=settings.destination_probe_interval_s)


def forwarding_policy(settings: Settings) -> RetryPolicy:
    """The policy for Open311 forwardings (MM_FORWARDING_MAX_ATTEMPTS and the shared ones)."""
    return _policy(settings, settings.forwarding_max_attempts)


def notification_policy(settings: Settings) -> RetryPolicy:
    """The policy for push and e-mail notifications (MM_NOTIFICATION_MAX_ATTEMPTS, …)."""
    return _policy(settings, settings.notification_max_attempts)


DEFAULT_FORWARDING = forwarding_policy(Settings())
DEFAULT_NOTIFICATION = notification_policy(Settings())
