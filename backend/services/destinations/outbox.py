"""What the dispatcher hands out: due items, but of a destination whose circuit is open only
one probe — 1,000 forwardings to a dead system make one job per round, not 1,000."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from backend.services.destinations import circuits


def due_ids(session: Session, id_column: InstrumentedAttribute[Any],
            destination: InstrumentedAttribute[Any], due: list[Any], now: datetime,
            limit: int) -> list[int]:
    """Ids of rows matching `due`, except those of open circuits; plus, per open circuit
    whose probe time has come, its first due row."""
    held = circuits.open_circuits(session)
    query = select(id_column).where(*due)
    if held:
        query = query.where(or_(destination.is_(None), destination.not_in(sorted(held))))
    ids = list(session.scalars(query.order_by(id_column).limit(limit)))
    for key, probe_at in sorted(held.items()):
        if probe_at is None or probe_at <= now:
            first = session.scalar(select(id_column).where(*due, destination == key)
                                   .order_by(id_column).limit(1))
            if first is not None:
                ids.append(first)
    return ids
