"""Schema migrations up and down on both backends, and the append-only status history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from backend.db import migrate
from backend.db.engine import make_engine
from backend.models import Base, ReportEvent
from backend.services.reports import NewReport, create_report
from tests.conftest import SECRET

APP_TABLES = {
    "department", "category_group", "category", "routing_rule", "city_state", "district",
    "report", "report_event", "photo", "photo_derivative", "recipient", "push_subscription",
    "notification", "server_key", "staff_user", "staff_membership", "staff_session",
    "api_token", "audit_log", "report_note", "api_key", "forwarding", "destination_circuit",
    "report_public", "asset_type", "asset_layer", "asset", "address", "response_template",
}
MARIENPLATZ = (11.5755, 48.1374)


@pytest.fixture
def fresh_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _spatial_leftovers(engine: Engine) -> set[str]:
    """Spatial index tables and geometry registrations that belong to app tables."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = {
                row[0] for row in conn.execute(text(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND (name LIKE 'idx_report%' OR name LIKE 'idx_district%' "
                    "OR name LIKE 'idx_asset%')"))
            }
            registered = conn.execute(text(
                "SELECT f_table_name FROM geometry_columns "
                "WHERE f_table_name IN ('report', 'district', 'asset')")).scalars()
        else:
            names = set()
            registered = conn.execute(text(
                "SELECT f_table_name FROM geometry_columns "
                "WHERE f_table_name IN ('report', 'district', 'asset')")).scalars()
        return names | {f"geometry_columns:{name}" for name in registered}


def _append_only_objects(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return set(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'report_event'")).scalars())
        triggers = set(conn.execute(text(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid = 'report_event'::regclass")).scalars()) \
            if "report_event" in _tables(engine) else set()
        functions = set(conn.execute(text(
            "SELECT proname FROM pg_proc WHERE proname = 'report_event_append_only'"
        )).scalars())
        return triggers | functions


def test_model_tables_are_the_app_tables() -> None:
    assert set(Base.metadata.tables) == APP_TABLES


def test_upgrade_to_head_creates_every_table(fresh_engine: Engine) -> None:
    assert migrate.current_revision(fresh_engine) is None
    assert not APP_TABLES & _tables(fresh_engine)

    migrate.upgrade(fresh_engine)

    assert APP_TABLES | {"alembic_version"} <= _tables(fresh_engine)
    assert migrate.current_revision(fresh_engine) == migrate.head_revision(fresh_engine)
    assert migrate.head_revision(fresh_engine) is not None
    assert _append_only_objects(fresh_engine)


def test_upgrade_to_head_twice_is_a_no_op(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    tables = _tables(fresh_engine)
    migrate.upgrade(fresh_engine)
    assert _tables(fresh_engine) == tables
    assert migrate.current_revision(fresh_engine) == migrate.head_revision(fresh_engine)


def test_upgraded_schema_has_the_model_columns(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine)
    inspector = inspect(fresh_engine)
    for name, table in Base.metadata.tables.items():
        columns = {c["name"] for c in inspector.get_columns(name)}
        assert {c.name for c in table.columns} <= columns, name


def test_downgrade_to_base_removes_every_app_table_and_upgrade_works_again(
    fresh_engine: Engine,
) -> None:
    migrate.upgrade(fresh_engine)

    migrate.downgrade(fresh_engine, "base")

    assert not APP_TABLES & _tables(fresh_engine)
    assert migrate.current_revision(fresh_engine) is None
    assert _spatial_leftovers(fresh_engine) == set()
    assert _append_only_objects(fresh_engine) == set()

    migrate.upgrade(fresh_engine)

    assert _tables(fresh_engine) >= APP_TABLES
    assert migrate.current_revision(fresh_engine) == migrate.head_revision(fresh_engine)
    assert _append_only_objects(fresh_engine)


# ------------------------------------------------------- append-only history --


@pytest.fixture
def event_id(session: Session) -> int:
    """The id of the `submitted` event of a new report."""
    created = create_report(
        session, NewReport("ampel-ausfall", MARIENPLATZ[1], MARIENPLATZ[0], "dunkel"),
        secret_key=SECRET,
    )
    session.commit()
    event = session.scalar(
        select(ReportEvent.id).where(ReportEvent.report_id == created.report.id)
    )
    session.commit()
    assert event is not None
    return event


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE report_event SET public_note = 'rewritten' WHERE id = :id",
        "UPDATE report_event SET to_status = 'closed' WHERE id = :id",
        "DELETE FROM report_event WHERE id = :id",
        "DELETE FROM report_event",
    ],
    ids=["update-note", "update-status", "delete-one", "delete-all"],
)
def test_the_status_history_refuses_updates_and_deletes(
    session: Session, event_id: int, statement: str
) -> None:
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text(statement), {"id": event_id})
        session.flush()
    session.rollback()
    row = session.execute(
        select(ReportEvent.to_status, ReportEvent.public_note).where(ReportEvent.id == event_id)
    ).one()
    assert tuple(row) == ("submitted", None)


def test_the_status_history_refuses_an_orm_delete(session: Session, event_id: int) -> None:
    event = session.get(ReportEvent, event_id)
    session.delete(event)
    with pytest.raises(DatabaseError, match="append-only"):
        session.commit()
    session.rollback()
    assert session.get(ReportEvent, event_id) is not None


def test_the_status_history_accepts_new_events(session: Session, event_id: int) -> None:
    report_id = session.scalar(select(ReportEvent.report_id).where(ReportEvent.id == event_id))
    first = session.get(ReportEvent, event_id)
    session.add(ReportEvent(report_id=report_id, at=first.at, actor="staff",
                            from_status="submitted", to_status="acknowledged"))
    session.commit()
    statuses = session.scalars(
        select(ReportEvent.to_status).where(ReportEvent.report_id == report_id)
        .order_by(ReportEvent.id)
    ).all()
    assert statuses == ["submitted", "acknowledged"]
