"""Following `report_change` (migration 0010): which reports changed since this process last
looked.

The triggers log a report when it is created, deleted, or when its public view is dropped
(anything a view shows changed). On SQLite one writer at a time commits in the order of the
log's sequence, so "everything above the last number seen" is exact. On PostgreSQL sequence
numbers are not handed out in commit order: each row carries its transaction (`tx`), and a
look takes every row of the transactions that had not finished at the previous look (its
snapshot's xmin), skipping the rows it already took.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.db.statements import Source, dialect_of, rows

# More changes than this in one look: loading everything again is cheaper (e.g. seeding).
RELOAD_ABOVE = 20_000
RESET = 0  # logged for a TRUNCATE (PostgreSQL): everything may have changed
# The log is pruned after a day (housekeeping); a process that has not looked for half of
# that loads everything again rather than trust a log that may have lost rows.
KEEP_SECONDS = 86_400
IDLE_RELOAD_SECONDS = KEEP_SECONDS / 2

_SQLITE_START = "SELECT coalesce(max(seq), 0) FROM report_change"
_SQLITE_LOOK = "SELECT seq, report_id FROM report_change WHERE seq > :seen ORDER BY seq"
_PG_START = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text"
_PG_LOOK = ("SELECT x.horizon, c.seq, c.report_id FROM "
            "(SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon) x "
            "LEFT JOIN report_change c ON c.tx >= CAST(:horizon AS xid8)")
_PRUNE = "DELETE FROM report_change WHERE at < :before"


class ChangeFeed:
    """One reader's position in the log. Not thread-safe: the caller holds a lock."""

    def __init__(self) -> None:
        self._seen: int | None = None  # SQLite: the last sequence number taken
        self._horizon: str | None = None  # PostgreSQL: xmin of the last look's snapshot
        self._taken: set[int] = set()  # PostgreSQL: rows taken at or above the horizon
        self._looked = 0.0

    def look(self, source: Source) -> set[int] | None:
        """The ids of the reports changed since the last look, or None: load everything (the
        first look, a long pause, or too many changes). Taken before the load, so a change
        that lands meanwhile is seen again by the next look (applying it twice is harmless)."""
        now = time.monotonic()
        stale = self._looked and now - self._looked > IDLE_RELOAD_SECONDS
        self._looked = now
        postgres = dialect_of(source) == "postgresql"
        if (self._horizon if postgres else self._seen) is None or stale:
            self._start(source, postgres)
            return None
        if not postgres:
            found = rows(source, _SQLITE_LOOK, {"seen": self._seen})
            if found:
                self._seen = found[-1][0]
            changed = {row[1] for row in found}
        else:
            found = rows(source, _PG_LOOK, {"horizon": self._horizon})
            self._horizon = found[0][0]
            fresh = [row for row in found if row[1] is not None and row[1] not in self._taken]
            self._taken = {row[1] for row in found if row[1] is not None}
            changed = {row[2] for row in fresh}
        if len(changed) > RELOAD_ABOVE or RESET in changed:
            self._start(source, postgres)
            return None
        return changed

    def _start(self, source: Source, postgres: bool) -> None:
        if postgres:
            self._horizon, self._taken = rows(source, _PG_START)[0][0], set()
        else:
            self._seen = rows(source, _SQLITE_START)[0][0]


def prune(session: Session, now: datetime) -> int:
    """Delete the log's rows older than KEEP_SECONDS (housekeeping; no commit); returns how
    many."""
    before = now - timedelta(seconds=KEEP_SECONDS)
    if session.get_bind().dialect.name == "sqlite":  # CURRENT_TIMESTAMP's text, in UTC
        before = before.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return session.execute(text(_PRUNE), {"before": before}).rowcount
