"""A circuit breaker per destination, in the database so that every worker shares it.

Closed: items go out. After `failures_to_open` consecutive failures the circuit opens: items
wait, and once per probe interval one item goes out as a probe — whichever worker first
moves `next_probe_at` forward with a conditional UPDATE sends it, so many workers still send
one probe per interval. A success closes the circuit. Each change of state is logged once
(a warning when it opens, an info line when it recovers), never once per item.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backend.models import CircuitState, DestinationCircuit
from backend.models.base import utcnow
from backend.services.destinations.policy import RetryPolicy

log = logging.getLogger(__name__)

MAX_ERROR = 1000


def _state(session: Session, key: str) -> tuple[str, datetime | None] | None:
    # Columns, not the ORM object: a worker's session keeps objects across commits
    # (expire_on_commit=False) and would answer from its identity map.
    row = session.execute(select(DestinationCircuit.state, DestinationCircuit.next_probe_at)
                          .where(DestinationCircuit.key == key)).first()
    return (row[0], row[1]) if row else None


def may_send(session: Session, key: str | None, policy: RetryPolicy,
             now: datetime | None = None) -> bool:
    """True when the circuit is closed, or when it is open and this caller got the probe
    (taken atomically: at most one caller per interval); commits what it changed."""
    if key is None:
        return True
    now = now or utcnow()
    state = _state(session, key)
    if state is None or state[0] == CircuitState.CLOSED:
        return True
    if state[1] is not None and state[1] > now:
        return False
    taken = session.execute(update(DestinationCircuit).where(
        DestinationCircuit.key == key, DestinationCircuit.state == CircuitState.OPEN,
        or_(DestinationCircuit.next_probe_at.is_(None),
            DestinationCircuit.next_probe_at <= now),
    ).values(next_probe_at=now + policy.probe_interval, updated_at=now)).rowcount == 1
    session.commit()
    if taken:
        return True
    state = _state(session, key)  # it may have closed in between
    return state is None or state[0] == CircuitState.CLOSED


def next_probe_at(session: Session, key: str | None) -> datetime | None:
    """When the open circuit of `key` lets its next probe through (None: it is closed)."""
    if key is None:
        return None
    state = _state(session, key)
    if state is None or state[0] != CircuitState.OPEN:
        return None
    return state[1]


def record_success(session: Session, key: str | None, now: datetime | None = None) -> None:
    """The destination answered: reset its failures, close an open circuit (logged once)."""
    if key is None:
        return
    row = session.execute(select(DestinationCircuit.state,
                                 DestinationCircuit.consecutive_failures)
                          .where(DestinationCircuit.key == key)).first()
    if row is None or (row[0] == CircuitState.CLOSED and row[1] == 0):
        return  # the common case writes nothing
    now = now or utcnow()
    closed = session.execute(update(DestinationCircuit).where(
        DestinationCircuit.key == key, DestinationCircuit.state == CircuitState.OPEN,
    ).values(state=CircuitState.CLOSED, consecutive_failures=0, opened_at=None,
             next_probe_at=None, updated_at=now)).rowcount == 1
    if not closed:
        session.execute(update(DestinationCircuit).where(
            DestinationCircuit.key == key, DestinationCircuit.consecutive_failures > 0,
        ).values(consecutive_failures=0, updated_at=now))
    session.commit()
    if closed:
        log.info("destination %s recovered, circuit closed", key)


def _ensure(session: Session, key: str, now: datetime) -> None:
    """Create the circuit row unless it exists (safe against a concurrent insert)."""
    values = {"key": key, "state": CircuitState.CLOSED, "consecutive_failures": 0,
              "updated_at": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(DestinationCircuit).values(**values)
                    .on_conflict_do_nothing(index_elements=["key"]))


def record_failure(session: Session, key: str | None, error: str, policy: RetryPolicy,
                   now: datetime | None = None) -> bool:
    """Count a failure; open the circuit after `failures_to_open` in a row (logged once).
    Returns whether this call opened it."""
    if key is None:
        return False
    now = now or utcnow()
    error = error[:MAX_ERROR]
    _ensure(session, key, now)
    session.execute(update(DestinationCircuit).where(DestinationCircuit.key == key).values(
        consecutive_failures=DestinationCircuit.consecutive_failures + 1, last_error=error,
        updated_at=now))
    opened = session.execute(update(DestinationCircuit).where(
        DestinationCircuit.key == key, DestinationCircuit.state == CircuitState.CLOSED,
        DestinationCircuit.consecutive_failures >= policy.failures_to_open,
    ).values(state=CircuitState.OPEN, opened_at=now,
             next_probe_at=now + policy.probe_interval)).rowcount == 1
    session.commit()
    if opened:
        log.warning("destination %s failing, circuit open: %s", key, error)
    return opened


def open_circuits(session: Session) -> dict[str, datetime | None]:
    """Every open circuit's key and when its next probe may go out."""
    return dict(session.execute(select(DestinationCircuit.key, DestinationCircuit.next_probe_at)
                                .where(DestinationCircuit.state == CircuitState.OPEN)).all())
