"""The hottest write: insert a new report and its first history event, guarded by versions.

One statement on PostgreSQL (data-modifying CTEs): it checks that the city configuration and
district layer the report was routed with are still current, inserts the report unless its
idempotency key exists already, and appends the `submitted` event. SQLite has no
data-modifying CTEs, so there the same steps are three statements inside one
`BEGIN IMMEDIATE` transaction (local calls, no network round trips).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

REPORT_COLUMNS = (
    "public_id", "tracking_token_hash", "category_id", "description", "address", "district_id",
    "department_id", "status", "priority", "reporter_email", "reporter_locale",
    "idempotency_key", "request_fingerprint", "source", "created_at", "updated_at",
    "review_flags", "tracking_salt", "due_at", "x_m", "y_m", "h3_r10", "reporter_name",
    "reporter_phone", "attributes", "api_key_id", "asset_id",
)
JSON_COLUMNS = ("review_flags", "attributes")
_COLUMN_LIST = ", ".join(REPORT_COLUMNS)

_POSTGRES = f"""
WITH state AS (
    SELECT config_version, layer_version FROM city_state WHERE id = 1
), new_report AS (
    INSERT INTO report ({_COLUMN_LIST}, geom)
    SELECT {", ".join(f"%({c})s" for c in REPORT_COLUMNS)},
           ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
    FROM state
    WHERE state.config_version = %(config_version)s AND state.layer_version = %(layer_version)s
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), first_event AS (
    INSERT INTO report_event (report_id, at, actor, to_status)
    SELECT id, %(created_at)s, %(actor)s, %(status)s FROM new_report
)
SELECT (SELECT id FROM new_report), config_version, layer_version FROM state
"""

_SQLITE_REPORT = (
    f"INSERT INTO report ({_COLUMN_LIST}, geom) "
    f"VALUES ({', '.join('?' for _ in REPORT_COLUMNS)}, MakePoint(?, ?, 4326)) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
_SQLITE_EVENT = "INSERT INTO report_event (report_id, at, actor, to_status) VALUES (?, ?, ?, ?)"


class PublicIdTaken(Exception):
    """The randomly drawn public id exists already (the transaction must be rolled back)."""


@dataclass(frozen=True)
class InsertOutcome:
    """The new id (None when nothing was inserted) and the versions the database holds."""

    report_id: int | None
    versions: tuple[str, str]


def sqlite_time(value: datetime) -> str:
    """A timestamp as SQLAlchemy stores it in SQLite (UTC, no zone), for raw inserts."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_value(column: str, value: Any) -> Any:
    if column in ("created_at", "updated_at", "due_at"):
        return sqlite_time(value)
    if column in JSON_COLUMNS:
        return json.dumps(value) if value else None
    return value


def insert_report(conn: Connection, values: dict[str, Any], lon: float, lat: float,
                  versions: tuple[str, str], actor: str) -> InsertOutcome:
    """Insert unless the versions changed or the idempotency key exists; never commits."""
    try:
        return _insert(conn, values, lon, lat, versions, actor)
    except (IntegrityError, conn.dialect.loaded_dbapi.IntegrityError) as exc:
        # Only public_id can collide: the idempotency key is ON CONFLICT DO NOTHING and the
        # token hash derives from 192 random bits or from that (unique) key.
        raise PublicIdTaken(values["public_id"]) from exc


def _insert(conn: Connection, values: dict[str, Any], lon: float, lat: float,
            versions: tuple[str, str], actor: str) -> InsertOutcome:
    if conn.dialect.name == "postgresql":
        params = dict(values, lon=lon, lat=lat, config_version=versions[0],
                      layer_version=versions[1], actor=actor)
        for column in JSON_COLUMNS:
            params[column] = Json(values[column]) if values[column] else None
        # Straight to the driver (inside the session's transaction): SQLAlchemy's execution
        # layer costs more CPU here than psycopg and the statement together.
        row = conn.connection.driver_connection.execute(_POSTGRES, params).fetchone()
        return InsertOutcome(row[0], (row[1], row[2]))
    current = conn.exec_driver_sql(
        "SELECT config_version, layer_version FROM city_state WHERE id = 1"
    ).one()
    current_versions = (current[0], current[1])
    if current_versions != versions:
        return InsertOutcome(None, current_versions)
    params = tuple(_sqlite_value(c, values[c]) for c in REPORT_COLUMNS)
    row = conn.exec_driver_sql(_SQLITE_REPORT, (*params, lon, lat)).first()
    if row is None:
        return InsertOutcome(None, current_versions)
    conn.exec_driver_sql(
        _SQLITE_EVENT, (row[0], sqlite_time(values["created_at"]), actor, values["status"])
    )
    return InsertOutcome(row[0], current_versions)
