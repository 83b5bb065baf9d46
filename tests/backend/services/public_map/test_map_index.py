"""The per-process map index answers exactly what the database holds: its pages equal the SQL
pages for random boxes, filters and cursors, before and after changes made by the services
and by other programs (plain SQL: moved, re-statused, deleted, new reports, a TRUNCATE)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from backend.models import Report
from backend.services.public_map.index import MapIndex
from backend.services.public_map.pages import PageFilter, RequestFilter, requests_page
from backend.services.public_map.points import micros
from backend.services.reports import NewReport, create_report
from backend.workflow import Status

STATUSES = [s.value for s in Status]
CENTRE = (11.5755, 48.1374)


def _seed(session: Session, rng: random.Random, count: int) -> None:
    for i in range(count):
        lon = CENTRE[0] + rng.uniform(-0.03, 0.03)
        lat = CENTRE[1] + rng.uniform(-0.02, 0.02)
        create_report(session, NewReport(category=rng.choice(["schild-fehlt", "ampel-ausfall"]),
                                         lon=lon, lat=lat, description=f"Meldung {i}"),
                      secret_key="k")


def _retime(engine: Engine, step: int) -> None:
    """Spread the reports' creation times over the last hour, out of id order and with ties
    (as imported or seeded history is)."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        for report in session.scalars(select(Report).where(Report.id % step == 0)):
            report.created_at = now - timedelta(seconds=(report.id * 37) % 3000)
        session.commit()


def _filters(rng: random.Random, category_ids: list[int], ids: list[int]) -> list[PageFilter]:
    found = [PageFilter(limit=10), PageFilter(limit=500)]
    for _ in range(40):
        w, h = rng.choice([0.002, 0.01, 0.05]), rng.choice([0.002, 0.01, 0.04])
        x = CENTRE[0] + rng.uniform(-0.04, 0.03)
        y = CENTRE[1] + rng.uniform(-0.03, 0.02)
        found.append(PageFilter(
            bbox=(x, y, x + w, y + h) if rng.random() < 0.9 else None,
            statuses=frozenset(rng.sample(STATUSES, rng.randint(1, 3)))
            if rng.random() < 0.4 else None,
            category_ids=frozenset(rng.sample(category_ids, 1)) if rng.random() < 0.3 else None,
            updated_after=micros(datetime.now(UTC) - timedelta(minutes=1))
            if rng.random() < 0.2 else None,
            before_id=rng.choice(ids) if ids and rng.random() < 0.3 else None,
            limit=rng.choice([1, 5, 20, 100]),
        ))
    return found


def _when(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


def _conditions(bbox: tuple[float, float, float, float] | None,
                statuses: frozenset[str] | None, category_ids: frozenset[int] | None,
                updated_after: int | None) -> list[Any]:
    found: list[Any] = []
    if bbox is not None:
        found += [func.ST_X(Report.geom).between(bbox[0], bbox[2]),
                  func.ST_Y(Report.geom).between(bbox[1], bbox[3])]
    if statuses is not None:
        found.append(Report.status.in_(sorted(statuses)))
    if category_ids is not None:
        found.append(Report.category_id.in_(sorted(category_ids)))
    if updated_after is not None:
        found.append(Report.updated_at >= _when(updated_after))
    return found


def _sql_page(session: Session, flt: PageFilter) -> tuple[list[int], int | None]:
    """The page as the plainest SQL finds it."""
    conditions = _conditions(flt.bbox, flt.statuses, flt.category_ids, flt.updated_after)
    if flt.before_id is not None:
        conditions.append(Report.id < flt.before_id)
    ids = list(session.scalars(select(Report.id).where(*conditions)
                               .order_by(Report.id.desc()).limit(flt.limit + 1)))
    return ids[: flt.limit], ids[flt.limit - 1] if len(ids) > flt.limit else None


def _sql_requests(session: Session, q: RequestFilter) -> list[int]:
    conditions = _conditions(q.bbox, q.statuses, q.category_ids, q.updated_after)
    conditions += [Report.created_at >= _when(q.start), Report.created_at <= _when(q.end)]
    if q.updated_before is not None:
        conditions.append(Report.updated_at < _when(q.updated_before))
    return list(session.scalars(select(Report.id).where(*conditions)
                                .order_by(Report.created_at.desc(), Report.id.desc())
                                .offset(q.offset).limit(q.limit)))


def _agree(engine: Engine, index: MapIndex, rng: random.Random) -> int:
    with Session(engine) as session:
        ids = [row[0] for row in session.execute(text("SELECT id FROM report"))]
        category_ids = [row[0] for row in session.execute(text("SELECT id FROM category"))]
        compared = 0
        for flt in _filters(rng, category_ids, ids):
            expected = _sql_page(session, flt)
            assert index.page_ids(session, flt) == expected, flt
            compared += len(expected[0])
            now = micros(datetime.now(UTC))
            q = RequestFilter(
                start=now - rng.choice([60_000_000, 3_600_000_000]), end=now, bbox=flt.bbox,
                statuses=flt.statuses, category_ids=flt.category_ids,
                updated_after=flt.updated_after,
                updated_before=now - 1_000_000 if rng.random() < 0.2 else None,
                offset=rng.choice([0, 0, 3, 50]), limit=flt.limit)
            with index.points.lock:
                found = requests_page(index.points.refresh(session), q)
            assert found == _sql_requests(session, q), q
            compared += len(found)
        return compared


def _execute(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def _delete_reports(engine: Engine, where: str) -> None:
    """Delete reports as an operator's script would (the history is append-only: its guard
    is lifted for the statement)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE report_event DISABLE TRIGGER report_event_append_only"))
            conn.execute(text(f"DELETE FROM report_event WHERE {where.replace('id', 'report_id')}"))
            conn.execute(text(f"DELETE FROM report WHERE {where}"))
            conn.execute(text("ALTER TABLE report_event ENABLE TRIGGER report_event_append_only"))
        else:
            conn.execute(text("DROP TRIGGER report_event_no_delete"))
            conn.execute(text(f"DELETE FROM report_event WHERE {where.replace('id', 'report_id')}"))
            conn.execute(text(f"DELETE FROM report WHERE {where}"))


def test_pages_equal_the_database_before_and_after_changes(engine: Engine) -> None:
    rng = random.Random(11)
    with Session(engine) as session:
        _seed(session, rng, 150)
    _retime(engine, 1)
    index = MapIndex()
    assert _agree(engine, index, rng) > 150
    # Changes by other programs: the triggers log them; the index reads those reports again.
    _execute(engine, "UPDATE report SET status = 'in_progress' WHERE id % 3 = 0")
    if engine.dialect.name == "postgresql":
        _execute(engine, "UPDATE report SET geom = ST_SetSRID(ST_MakePoint(11.60, 48.15), 4326)"
                 " WHERE id % 7 = 0")
    else:
        _execute(engine, "UPDATE report SET geom = MakePoint(11.60, 48.15, 4326) "
                 "WHERE id % 7 = 0")
    _delete_reports(engine, "id % 11 = 0")
    with Session(engine) as session:
        _seed(session, rng, 40)
    _retime(engine, 5)
    assert _agree(engine, index, rng) > 150
    moved = index.page_ids(Session(engine), PageFilter(bbox=(11.5999, 48.1499, 11.6001, 48.1501),
                                                       limit=500))[0]
    assert moved and all(report_id % 7 == 0 for report_id in moved)


def test_a_truncated_table_empties_the_index(engine: Engine) -> None:
    rng = random.Random(5)
    with Session(engine) as session:
        _seed(session, rng, 20)
    index = MapIndex()
    with Session(engine) as session:
        assert len(index.page_ids(session, PageFilter(limit=100))[0]) == 20
    if engine.dialect.name == "postgresql":
        _execute(engine, "TRUNCATE report_event, report RESTART IDENTITY CASCADE")
    else:
        _delete_reports(engine, "id > 0")
    with Session(engine) as session:
        assert index.page_ids(session, PageFilter(limit=100)) == ([], None)
        _seed(session, rng, 3)
        assert len(index.page_ids(session, PageFilter(limit=100))[0]) == 3


def test_cached_features_follow_every_change(engine: Engine) -> None:
    with Session(engine) as session:
        _seed(session, random.Random(3), 5)
    index = MapIndex()

    def features() -> list[bytes]:
        with Session(engine) as session:
            return index.page(session, PageFilter(limit=10), lambda b: b, "raw")[0]

    first = features()
    assert len(first) == 5 and all(b'"status":"submitted"' in f for f in first)
    _execute(engine, "UPDATE report SET status = 'resolved'")  # views dropped, not rendered
    after = features()
    assert len(after) == 5 and all(b'"status":"resolved"' in f for f in after)
    assert features() == after  # stored or rendered: the same


def test_a_change_committed_after_a_later_one_is_seen(engine: Engine) -> None:
    """PostgreSQL hands out the log's numbers before commit: a transaction that commits after
    a later-numbered one must still be seen (SQLite commits one writer at a time)."""
    with Session(engine) as session:
        _seed(session, random.Random(9), 3)
        first, second, _ = [row[0] for row in session.execute(
            text("SELECT id FROM report ORDER BY id"))]
    index = MapIndex()
    resolved = PageFilter(statuses=frozenset({"resolved"}))

    def resolved_ids() -> list[int]:
        with Session(engine) as session:
            return index.page_ids(session, resolved)[0]

    assert resolved_ids() == []
    late = engine.connect()
    try:
        if engine.dialect.name == "postgresql":
            transaction = late.begin()  # numbered first, committed last
            late.execute(text("UPDATE report SET status = 'resolved' WHERE id = :id"),
                         {"id": first})
            _execute(engine, "UPDATE report SET status = 'resolved' WHERE id = :id", id=second)
            assert resolved_ids() == [second]
            transaction.commit()
        else:
            _execute(engine, "UPDATE report SET status = 'resolved' WHERE id = :id", id=second)
            assert resolved_ids() == [second]
            _execute(engine, "UPDATE report SET status = 'resolved' WHERE id = :id", id=first)
    finally:
        late.close()
    assert resolved_ids() == [second, first]
