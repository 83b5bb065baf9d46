"""Failing destinations (Open311 systems, push services, the SMTP server): back-off with
jitter, a circuit breaker per destination kept in the database, failed items that admins see
and retry, and the figures for /metrics.

Forwarding (`backend.services.forwarding`) and deliveries (`backend.services.deliveries`)
use these pieces the same way: decide with `circuits.may_send` whether to talk to the
destination at all; claim the item (attempt counted, committed) before any network call;
record the outcome whatever the exception, with `circuits.record_success` / `record_failure`;
back off with `backoff.next_attempt_at`; and let `outbox.due_ids` hold back the rows of a
destination whose circuit is open (one probe per interval instead).
"""

from backend.services.destinations.admin import figures

__all__ = ["figures"]
