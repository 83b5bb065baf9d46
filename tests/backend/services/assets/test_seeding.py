"""Demo reports about assets: seeded traffic-light reports near a signal of the Munich demo
layer sit on that signal and point at it; fast and deterministic."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.models import Asset, Category, CategoryGroup, Report
from backend.services.assets.reporting import open_reports_of_asset
from backend.services.assets.seeding import LINK_RADIUS_M, nearest_within
from backend.services.city_cache import city_snapshot
from backend.services.routing import route_report
from backend.services.seeding import seed_reports
from backend.workflow import OPEN_STATUSES

COUNT = 3000


def _reports(session: Session) -> list[tuple]:
    """(id, group code, category code, asset id, lon, lat, department id, district id)."""
    rows = session.execute(
        select(Report.id, CategoryGroup.code, Category.code, Report.asset_id,
               func.ST_X(Report.geom), func.ST_Y(Report.geom), Report.department_id,
               Report.district_id)
        .join(Category, Category.id == Report.category_id)
        .join(CategoryGroup, CategoryGroup.id == Category.group_id)
        .order_by(Report.id)).all()
    session.commit()
    return [tuple(row) for row in rows]


def _asset_points(session: Session) -> dict[int, tuple[float, float]]:
    rows = session.execute(select(Asset.id, func.ST_X(Asset.geom), func.ST_Y(Asset.geom)))
    points = {row[0]: (float(row[1]), float(row[2])) for row in rows}
    session.commit()
    return points


def test_traffic_light_reports_near_a_signal_sit_on_it_and_point_at_it(
        session: Session) -> None:
    result = seed_reports(session, COUNT)

    rows = _reports(session)
    assets = _asset_points(session)
    linked = [row for row in rows if row[3] is not None]
    ampel = [row for row in rows if row[1] == "ampel"]
    assert result.linked_to_assets == len(linked)
    # Only the group the signal type is tied to; the demo has no sign-post layer.
    assert {row[1] for row in linked} == {"ampel"}
    # About one in six traffic-light reports lies within 150 m of one of the 1,740 signals.
    assert 0.08 < len(linked) / len(ampel) < 0.3, (len(linked), len(ampel))
    for row in linked:
        assert (row[4], row[5]) == pytest.approx(assets[row[3]], abs=1e-7), row
    # Several reports per signal at the hotspots: the "most reported" views have something.
    per_asset = np.bincount([row[3] for row in linked])
    assert per_asset.max() >= 3


def test_linked_reports_are_routed_by_the_signal_they_sit_on(session: Session) -> None:
    seed_reports(session, COUNT)

    snapshot = city_snapshot(session)
    session.commit()
    linked = [row for row in _reports(session) if row[3] is not None]
    assert linked
    for row in linked:
        decision = route_report(snapshot, row[2], row[4], row[5])
        assert (row[6], row[7]) == (decision.department.id, decision.district.id), row


def test_the_open_linked_reports_are_the_signals_open_reports(session: Session) -> None:
    seed_reports(session, COUNT)

    open_ids = session.scalars(select(Report.public_id).where(
        Report.asset_id.is_not(None),
        Report.status.in_(sorted(s.value for s in OPEN_STATUSES)))).all()
    asset_id = session.scalar(select(Report.asset_id).where(Report.public_id == open_ids[0]))
    session.commit()

    shown = {r.public_id for r in open_reports_of_asset(session, asset_id)}
    assert open_ids[0] in shown


def test_seeding_with_the_same_seed_links_the_same_reports_to_the_same_signals(
        session: Session) -> None:
    seed_reports(session, 800, random_seed=3)
    seed_reports(session, 800, random_seed=3)

    rows = _reports(session)
    first = [(row[2], row[3], round(row[4], 7), round(row[5], 7)) for row in rows[:800]]
    second = [(row[2], row[3], round(row[4], 7), round(row[5], 7)) for row in rows[800:]]
    assert first == second
    assert any(row[1] is not None for row in first)


def test_retired_signals_take_no_seeded_reports(session: Session) -> None:
    session.execute(update(Asset).values(retired_at=datetime.now(UTC)))
    session.commit()

    result = seed_reports(session, 500)

    assert result.linked_to_assets == 0
    assert session.scalar(select(func.count()).select_from(Report)
                          .where(Report.asset_id.is_not(None))) == 0
    session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_grid_finds_the_nearest_point_within_the_radius_like_brute_force(
        seed: int) -> None:
    rng = np.random.default_rng(seed)
    xs, ys = rng.uniform(0, 2000, 400), rng.uniform(0, 2000, 400)
    # Duplicates and exact ties: the lower index wins.
    xs[200:210], ys[200:210] = xs[:10], ys[:10]
    qx, qy = rng.uniform(-200, 2200, 3000), rng.uniform(-200, 2200, 3000)
    qx[:10], qy[:10] = xs[:10], ys[:10]

    found = nearest_within(xs, ys, qx, qy, LINK_RADIUS_M)

    d = np.hypot(qx[:, None] - xs[None, :], qy[:, None] - ys[None, :])
    expected = d.argmin(axis=1)  # the first minimum: the lower index
    expected[d.min(axis=1) > LINK_RADIUS_M] = -1
    assert (found == expected).all()
    assert (found[:10] == np.arange(10)).all()
    assert (found >= 0).any() and (found < 0).any()


def test_nothing_to_link_to_links_nothing() -> None:
    none = nearest_within(np.empty(0), np.empty(0), np.array([1.0]), np.array([2.0]), 30.0)
    assert none.tolist() == [-1]
    assert nearest_within(np.array([0.0]), np.array([0.0]), np.empty(0), np.empty(0),
                          30.0).tolist() == []


def test_a_million_reports_against_100000_assets_link_in_seconds() -> None:
    # The bench's sizes (bench/assets.py), all at once (seeding asks per batch of 50,000):
    # about 4 s here, while a query per report would take many minutes.
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(0, 20_000, 100_000), rng.uniform(0, 20_000, 100_000)
    qx, qy = rng.uniform(0, 20_000, 1_000_000), rng.uniform(0, 20_000, 1_000_000)

    started = time.perf_counter()
    found = nearest_within(xs, ys, qx, qy, LINK_RADIUS_M)
    elapsed = time.perf_counter() - started

    assert elapsed < 15.0, elapsed
    assert (found >= 0).mean() > 0.5
