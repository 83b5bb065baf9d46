"""The single city_state row whose version tokens invalidate per-process caches."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backend.db.statements import HeldConnections
from backend.models import CityState
from backend.models.base import utcnow

VERSIONS_SQL = "SELECT config_version, layer_version FROM city_state WHERE id = 1"
log = logging.getLogger(__name__)


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
    row = session.connection().exec_driver_sql(VERSIONS_SQL).first()
    return (row[0], row[1]) if row else ("", "")




class VersionProbe:
    """Reads the version tokens on a held connection (see `HeldConnections`): a request whose
    answer depends only on the city's configuration (categories, services) then costs no
    session at all, yet sees an admin's change at once."""

    def __init__(self, engine: Engine, held: HeldConnections) -> None:
        self.engine = engine
        self.held = held

    def read(self) -> tuple[str, str] | None:
        """(config_version, layer_version), or None when the database could not be asked
        (the caller then asks through its session, which reports the problem)."""
        try:
            cursor = self.held.get(self.engine).cursor()
            try:
                cursor.execute(VERSIONS_SQL)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except Exception:  # noqa: BLE001 - a dropped connection: reconnect next time
            log.warning("version probe failed; asking through the session", exc_info=True)
            self.held.drop(self.engine)
            return None
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
