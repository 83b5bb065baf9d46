"""The single city_state row whose version tokens invalidate per-process caches."""

from __future__ import annotations

import logging
import threading
import time
import uuid

from sqlalchemy import Engine, event, select, text
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




# PostgreSQL channel on which every change of the version tokens is announced (at commit).
CHANNEL = "mm_city_state"


class VersionProbe:
    """Reads the version tokens on a held connection (see `HeldConnections`): a request whose
    answer depends only on the city's configuration (categories, services) then costs no
    session at all, yet sees an admin's change at once.

    On PostgreSQL a served process also `listen()`s: the tokens are then read again only after
    a change was announced (NOTIFY at the commit of a bump) or while the listener is down, which
    saves every request a round trip to the database."""

    def __init__(self, engine: Engine, held: HeldConnections) -> None:
        self.engine = engine
        self.held = held
        self._cached: tuple[str, str] | None = None
        self._changed = threading.Event()
        self._changed.set()
        self._listening = False
        self._seen_bumps = -1

    def listen(self) -> None:
        """Start listening for announced changes (PostgreSQL; a daemon thread of this
        process, reconnecting after a failure)."""
        if self.engine.dialect.name == "postgresql":
            threading.Thread(target=self._listen, name="mm-version-listener",
                             daemon=True).start()

    def _listen(self) -> None:
        import psycopg

        conninfo = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        while True:
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening = True
                    self._changed.set()  # whatever changed while nobody listened
                    for _ in conn.notifies():
                        self._changed.set()
            except Exception:  # noqa: BLE001 - read on every request until it is back
                log.warning("version listener lost its connection; retrying", exc_info=True)
            finally:
                self._listening = False
                self._changed.set()
            time.sleep(1.0)

    def read(self) -> tuple[str, str] | None:
        """(config_version, layer_version), or None when the database could not be asked
        (the caller then asks through its session, which reports the problem)."""
        bumps = _local_bumps[0]
        if self._listening and self._cached is not None and not self._changed.is_set() \
                and bumps == self._seen_bumps:
            return self._cached
        self._changed.clear()  # before reading: a change announced meanwhile marks it again
        self._seen_bumps = bumps
        versions = self._query()
        if versions is None:
            self._changed.set()
        self._cached = versions
        return versions

    def _query(self) -> tuple[str, str] | None:
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


# Bumps committed by this process: its own probes re-read at once, without waiting for the
# announcement to come back through the listener.
_local_bumps = [0]


def _announce(session: Session) -> None:
    """Tell listening processes that the tokens changed (PostgreSQL delivers it at commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {CHANNEL}"))
    session.info["mm_versions_bumped"] = True


@event.listens_for(Session, "after_commit")
def _count_local_bump(session: Session) -> None:
    if session.info.pop("mm_versions_bumped", False):
        _local_bumps[0] += 1


@event.listens_for(Session, "after_rollback")
def _forget_bump(session: Session) -> None:
    session.info.pop("mm_versions_bumped", None)


def bump_config_version(session: Session) -> None:
    """Mark categories, departments or rules as changed (within the caller's transaction)."""
    state = get_city_state(session)
    state.config_version = uuid.uuid4().hex
    state.updated_at = utcnow()
    _announce(session)


def bump_layer_version(session: Session) -> None:
    """Mark the district layer as changed (within the caller's transaction)."""
    state = get_city_state(session)
    state.layer_version = uuid.uuid4().hex
    state.updated_at = utcnow()
    _announce(session)
