"""The single city_state row whose version tokens invalidate per-process caches."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import CityState
from backend.models.base import utcnow


def get_city_state(session: Session) -> CityState:
    """Return the city_state row, creating it on first use."""
    state = session.scalar(select(CityState).where(CityState.id == 1))
    if state is None:
        state = CityState(id=1, config_version="", layer_version="", city_code="")
        session.add(state)
        session.flush()
    return state


def read_versions(session: Session) -> tuple[str, str]:
    """(config_version, layer_version) in one cheap query; empty strings before `init`."""
    # Raw SQL on purpose: this runs on every request, and skipping the ORM halves its cost.
    row = session.connection().exec_driver_sql(
        "SELECT config_version, layer_version FROM city_state WHERE id = 1"
    ).first()
    return (row[0], row[1]) if row else ("", "")


def bump_config_version(session: Session) -> None:
    """Mark categories, departments or rules as changed (within the caller's transaction)."""
    state = get_city_state(session)
    state.config_version = uuid.uuid4().hex
    state.updated_at = utcnow()


def bump_layer_version(session: Session) -> None:
    """Mark the district layer as changed (within the caller's transaction)."""
    state = get_city_state(session)
    state.layer_version = uuid.uuid4().hex
    state.updated_at = utcnow()
