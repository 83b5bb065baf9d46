"""Delivery errors shared by the notification channels.

Callers decide from the class alone what to do next: retry later, drop the subscription, or
record the delivery as failed. `reason` is a short human-readable text for logs and the
delivery record; `status` is the HTTP or SMTP code that caused it, when there was one.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """A notification could not be delivered."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class TransientDeliveryError(DeliveryError):
    """Try again later: network errors, timeouts, HTTP 429/5xx, SMTP 4xx."""

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after_s: float | None = None
    ) -> None:
        super().__init__(reason, status=status)
        # From the peer's Retry-After header; None means "use your own back-off".
        self.retry_after_s = retry_after_s


class GoneSubscription(DeliveryError):
    """The push service answered 404 or 410: the subscription must be removed."""


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help: other HTTP 4xx, SMTP 5xx, unusable input."""
