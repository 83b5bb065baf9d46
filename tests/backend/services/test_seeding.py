"""Demo reports: every status, three years, routed like real reports, clustered at hotspots."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import Category, CategoryGroup, District, Report, ReportEvent
from backend.services.city_cache import city_snapshot
from backend.services.reports import NewReport, create_report
from backend.services.routing import route_report
from backend.services.seeding import report_count, seed_reports
from backend.tokens import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH
from backend.workflow import RAISED_PRIORITY, Priority, Status
from tests.conftest import SECRET

COUNT = 3000
CELL_M = 200.0


@pytest.fixture
def seeded(session: Session) -> dict[str, Any]:
    """Seed COUNT reports; return the result and the report rows."""
    result = seed_reports(session, COUNT)
    rows = session.execute(
        select(Report.id, Report.public_id, Report.status, Report.created_at,
               Report.updated_at, Report.department_id, Report.district_id, Report.priority,
               Category.code, CategoryGroup.code, func.ST_X(Report.geom), func.ST_Y(Report.geom))
        .join(Category, Report.category_id == Category.id)
        .join(CategoryGroup, Category.group_id == CategoryGroup.id)
        .order_by(Report.id)
    ).all()
    session.commit()
    return {"result": result, "rows": rows, "finished": datetime.now(UTC)}


def test_seeding_creates_the_requested_number_of_well_formed_reports(
    session: Session, seeded: dict[str, Any]
) -> None:
    assert seeded["result"].reports == COUNT
    assert len(seeded["rows"]) == COUNT
    assert report_count(session) == COUNT
    events = session.scalar(select(func.count()).select_from(ReportEvent))
    session.commit()
    assert events == seeded["result"].events
    assert events > COUNT
    ids = [row[1] for row in seeded["rows"]]
    assert len(set(ids)) == COUNT
    assert all(len(i) == PUBLIC_ID_LENGTH and set(i) <= set(PUBLIC_ID_ALPHABET) for i in ids)


def test_every_status_occurs(seeded: dict[str, Any]) -> None:
    statuses = Counter(row[2] for row in seeded["rows"])
    assert set(statuses) == {s.value for s in Status}


def test_reports_span_more_than_two_and_a_half_years_in_time_order_none_in_the_future(
    seeded: dict[str, Any],
) -> None:
    created = [row[3] for row in seeded["rows"]]
    updated = [row[4] for row in seeded["rows"]]
    assert max(created) - min(created) > timedelta(days=int(2.5 * 365))
    assert max(created) <= seeded["finished"]
    assert max(updated) <= seeded["finished"]
    assert all(u >= c for c, u in zip(created, updated, strict=True))
    assert all(c.tzinfo is not None for c in created)
    assert created == sorted(created)  # rows arrive in time order, like real intake


def test_every_report_is_routed_like_a_real_report_in_its_district(
    session: Session, seeded: dict[str, Any]
) -> None:
    snapshot = city_snapshot(session)
    session.commit()
    sample = seeded["rows"][:: COUNT // 200]
    assert len(sample) == 200
    for row in sample:
        decision = route_report(snapshot, row[8], row[10], row[11])
        assert row[5] == decision.department.id, row
        assert row[6] == decision.district.id, row
        # A reporter's "not fixed" raised it one step (issue 20.6).
        expected = (RAISED_PRIORITY[Priority(decision.priority)] if row[2] == "reopened"
                    else decision.priority)
        assert row[7] == expected, row
    outside = session.scalar(
        select(func.count()).select_from(Report)
        .join(District, Report.district_id == District.id)
        .where(func.ST_Intersects(District.geom, Report.geom) == False)  # noqa: E712
    )
    unassigned = session.scalar(
        select(func.count()).select_from(Report).where(Report.district_id.is_(None))
    )
    session.commit()
    assert (outside, unassigned) == (0, 0)


def test_each_history_starts_submitted_chains_and_ends_in_the_report_status(
    session: Session, seeded: dict[str, Any]
) -> None:
    histories: dict[int, list[Any]] = {}
    for event in session.execute(
        select(ReportEvent.report_id, ReportEvent.from_status, ReportEvent.to_status,
               ReportEvent.at).order_by(ReportEvent.report_id, ReportEvent.id)
    ):
        histories.setdefault(event[0], []).append(event)
    session.commit()
    assert len(histories) == COUNT
    for report_id, _, status, created, updated, *_ in seeded["rows"]:
        history = histories[report_id]
        assert (history[0][1], history[0][2]) == (None, Status.SUBMITTED.value), report_id
        assert history[0][3] == created
        assert history[-1][2] == status, report_id
        assert history[-1][3] == updated, report_id
        for before, after in zip(history, history[1:], strict=False):
            assert after[1] == before[2], report_id
            assert after[3] >= before[3], report_id


def test_signs_and_traffic_lights_are_more_than_80_percent(seeded: dict[str, Any]) -> None:
    groups = Counter(row[9] for row in seeded["rows"])
    assert (groups["schild"] + groups["ampel"]) / COUNT > 0.8
    assert groups["sonstiges"] > 0
    categories = {row[8] for row in seeded["rows"]}
    assert len(categories) == 9


def test_reports_cluster_at_hotspots(session: Session, seeded: dict[str, Any]) -> None:
    lat0 = 48.14
    m_per_deg_lat = 111_320.0
    m_per_deg_lon = m_per_deg_lat * math.cos(math.radians(lat0))
    cells = Counter(
        (int(row[10] * m_per_deg_lon // CELL_M), int(row[11] * m_per_deg_lat // CELL_M))
        for row in seeded["rows"]
    )
    city_area_m2 = session.scalar(
        select(func.sum(func.ST_Area(District.geom)))
    ) * m_per_deg_lat * m_per_deg_lon
    session.commit()
    city_cells = city_area_m2 / (CELL_M * CELL_M)
    mean = COUNT / city_cells  # reports per 200-m cell if they were spread evenly
    assert 250e6 < city_area_m2 < 350e6  # Munich: about 310 km²
    assert max(cells.values()) > 10 * mean
    # Spread evenly (Poisson per cell), the share of reports sharing a cell with at least two
    # others would be P(N >= 2) for N ~ Poisson(mean): about 6 %.
    even_share = 1 - math.exp(-mean) * (1 + mean)
    crowded = sum(n for n in cells.values() if n >= 3)
    assert crowded > 3 * even_share * COUNT


def test_seeding_again_adds_reports_without_colliding(session: Session) -> None:
    seed_reports(session, 200, random_seed=5)
    seed_reports(session, 200, random_seed=5)
    assert report_count(session) == 400
    ids = session.scalars(select(Report.public_id)).all()
    session.commit()
    assert len(set(ids)) == 400


def test_reports_submitted_after_seeding_get_fresh_ids(session: Session) -> None:
    seed_reports(session, 300)
    max_report = session.scalar(select(func.max(Report.id)))
    max_event = session.scalar(select(func.max(ReportEvent.id)))
    session.commit()

    created = create_report(
        session, NewReport("ampel-ausfall", 48.1374, 11.5755, "nach dem Seeding"),
        secret_key=SECRET,
    )

    assert created.created
    assert created.report.id == max_report + 1
    event_ids = session.scalars(
        select(ReportEvent.id).where(ReportEvent.report_id == created.report.id)
    ).all()
    assert event_ids == [max_event + 1]
    assert report_count(session) == 301
