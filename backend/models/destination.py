"""Destinations we send to (Open311 systems, push services, the SMTP server) and the state of
their circuit breakers, shared by every worker through the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UTCDateTime, utcnow


class CircuitState:
    """Whether items go to a destination (closed) or only one probe per interval (open)."""

    CLOSED = "closed"
    OPEN = "open"


class DestinationCircuit(Base):
    """One destination's circuit breaker: consecutive failures open it; a success closes it.

    `key` names the destination: `open311:<scheme://host:port>`, `push:<scheme://host:port>`
    or `smtp:<host>:<port>`. While open, `next_probe_at` is when the next single probe may go
    out; a worker takes it with a conditional UPDATE, so one probe per interval goes out
    however many workers there are.
    """

    __tablename__ = "destination_circuit"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    state: Mapped[str] = mapped_column(String(8), default=CircuitState.CLOSED)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_probe_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
