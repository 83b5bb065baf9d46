"""Heatmap exports: counts add up, filters narrow, cells have the asked size, formats are
well formed, the large-request path returns the same file, and both backends agree."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import shapely
from flask import Flask
from PIL import Image
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.extensions import db
from backend.models import Report
from backend.services.seeding import seed_reports
from backend.settings import Settings
from geo.crs import LONLAT, transformer
from tests.backend.api.helpers import assert_error
from tests.backend.api.staff_helpers import make_user, token_for
from workers.runner import make_worker

URL = "/api/v1/analytics/heatmap"
SEEDED = 1200


@pytest.fixture
def seeded(app: Flask) -> int:
    with app.app_context():
        seed_reports(db.session, SEEDED, random_seed=7)
    return SEEDED


@pytest.fixture
def analyst(app: Flask) -> dict[str, str]:
    make_user(app, "ada", "analyst", (), password=None)
    return token_for(app, "ada")


def _count(app: Flask, *conditions: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Report).where(*conditions))


def _geojson(client: Any, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    response = client.get(f"{URL}?format=geojson{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/geo+json"
    return json.loads(response.data)


def _total(collection: dict[str, Any]) -> int:
    return sum(f["properties"]["count"] for f in collection["features"])


def test_cell_counts_add_up_to_the_matching_reports(app: Flask, client: Any, seeded: int,
                                                    analyst: dict[str, str]) -> None:
    body = _geojson(client, analyst)
    assert _total(body) == seeded == body["metadata"]["total"]
    for feature in body["features"]:
        props = feature["properties"]
        assert props["count"] == props["open"] + props["closed"] > 0
    hexes = _geojson(client, analyst, "&h3_res=8")
    assert _total(hexes) == seeded


def test_every_filter_narrows_to_exactly_the_matching_reports(
    app: Flask, client: Any, seeded: int, analyst: dict[str, str],
) -> None:
    with app.app_context():
        snap_category = db.session.execute(select(Report.category_id, Report.district_id,
                                                  Report.department_id)).first()
        from backend.services.city_cache import city_snapshot

        snap = city_snapshot(db.session)
    category = snap.categories_by_id[snap_category[0]]
    district = snap.districts_by_id[snap_category[1]]
    department = snap.departments_by_id[snap_category[2]]
    year_ago = datetime.now(UTC) - timedelta(days=365)
    open_values = ["submitted", "acknowledged", "in_progress", "reopened"]
    cases = [
        (f"&category={category.code}", [Report.category_id == category.id]),
        (f"&group={category.group.code}",
         [Report.category_id.in_([c.id for c in snap.categories.values()
                                  if c.group.code == category.group.code])]),
        (f"&district={district.number}", [Report.district_id == district.id]),
        (f"&department={department.code}", [Report.department_id == department.id]),
        ("&status=open", [Report.status.in_(open_values)]),
        (f"&from={year_ago.date().isoformat()}",
         [Report.created_at >= datetime.combine(year_ago.date(), datetime.min.time(), UTC)]),
        (f"&to={year_ago.date().isoformat()}&status=closed",
         [Report.created_at < datetime.combine(year_ago.date(), datetime.min.time(), UTC),
          Report.status.in_(["resolved", "rejected", "closed"])]),
    ]
    for query, conditions in cases:
        expected = _count(app, *conditions)
        assert 0 < expected < seeded, query
        assert _total(_geojson(client, analyst, query)) == expected, query


def test_square_cells_have_the_asked_size_in_metres(client: Any, seeded: int,
                                                    analyst: dict[str, str]) -> None:
    to_metric = transformer(LONLAT, "EPSG:25832")
    for cell_m in (50, 250, 2000):
        body = _geojson(client, analyst, f"&cell_m={cell_m}")
        for feature in body["features"][:20]:
            ring = feature["geometry"]["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) == 5
            x, y = to_metric.transform([p[0] for p in ring], [p[1] for p in ring])
            assert max(x) - min(x) == pytest.approx(cell_m, abs=0.05)
            assert max(y) - min(y) == pytest.approx(cell_m, abs=0.05)
            assert shapely.geometry.shape(feature["geometry"]).is_valid


def test_csv_has_one_row_per_cell_with_centre_and_counts(client: Any, seeded: int,
                                                         analyst: dict[str, str]) -> None:
    response = client.get(f"{URL}?format=csv&cell_m=500", headers=analyst)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sum(int(r["count"]) for r in rows) == seeded
    assert len(rows) == len(_geojson(client, analyst, "&cell_m=500")["features"])
    for row in rows:
        assert 11.3 < float(row["lon"]) < 11.8 and 48.0 < float(row["lat"]) < 48.3
        assert int(row["count"]) == int(row["open"]) + int(row["closed"])


def test_the_png_has_the_size_a_legend_and_a_heat_layer(client: Any, seeded: int,
                                                        analyst: dict[str, str]) -> None:
    response = client.get(f"{URL}?format=png&width=900&height=700&group=schild",
                          headers=analyst)
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.data)).convert("RGB")).astype(int)
    assert image.shape == (700, 900, 3)
    background = np.array([248, 248, 246])
    coloured = np.abs(image - background).sum(axis=2) > 60
    legend = coloured[84:400, 900 - 110 - 16 + 20:900 - 110 - 16 + 44]
    assert legend.mean() > 0.9  # the colour bar
    map_area = coloured[64:700 - 44, 16:900 - 110 - 16]
    assert map_area.mean() > 0.03  # heat and outlines, not an empty frame
    top, bottom = image[90, 900 - 110 - 16 + 30], image[380, 900 - 110 - 16 + 30]
    assert top.sum() > bottom.sum()  # the scale runs from dark (few) to light (many)


def test_bad_parameters_are_named_and_nothing_is_built(app: Flask, client: Any,
                                                       analyst: dict[str, str],
                                                       settings: Settings) -> None:
    assert_error(client.get(f"{URL}?cell_m=10&h3_res=12&format=svg", headers=analyst), 422,
                 "validation_failed", {"cell_m", "h3_res", "format"})
    assert_error(client.get(f"{URL}?cell_m=100&h3_res=8", headers=analyst), 422,
                 "validation_failed", {"h3_res"})
    assert_error(client.get(f"{URL}?category=nope&district=99&from=yesterday",
                            headers=analyst), 422, "validation_failed", {"from"})
    assert_error(client.get(f"{URL}?category=nope&district=99", headers=analyst), 422,
                 "validation_failed", {"category", "district"})
    assert_error(client.get(f"{URL}?category=ampel-ausfall&group=ampel", headers=analyst),
                 422, "validation_failed", {"group"})


def test_only_analysts_dispatchers_and_admins(app: Flask, client: Any) -> None:
    assert_error(client.get(URL), 401, "not_authenticated")
    make_user(app, "anna", "crew", ("bezirksinspektion-mitte",), password=None)
    assert_error(client.get(URL, headers=token_for(app, "anna")), 403, "forbidden")
    make_user(app, "dora", "dispatcher", (), password=None)
    assert client.get(URL, headers=token_for(app, "dora")).status_code == 200


def test_a_large_request_is_built_by_a_worker_and_equals_the_direct_answer(
    app_with: Any, seeded: int,
) -> None:
    small, small_settings = app_with(analytics_sync_max_reports=100)
    make_user(small, "ada", "analyst", (), password=None)
    headers = token_for(small, "ada")
    client = small.test_client()
    pending = client.get(f"{URL}?format=csv&cell_m=300", headers=headers)
    assert pending.status_code == 202, pending.get_data(as_text=True)
    result = pending.get_json()["result"]
    path = result.removeprefix(small_settings.base_url)
    assert client.get(path, headers=headers).status_code == 202
    assert make_worker(small_settings).work(burst=True) is True
    ready = client.get(path, headers=headers)
    assert ready.status_code == 200
    # The same request now comes from the cache, and equals what the direct path builds.
    again = client.get(f"{URL}?format=csv&cell_m=300", headers=headers)
    assert again.status_code == 200 and again.data == ready.data
    direct_app, _ = app_with(analytics_sync_max_reports=10**9,
                             media_root=str(small_settings.data_dir) + "/other-media")
    make_user(direct_app, "bob", "analyst", (), password=None)
    direct = direct_app.test_client().get(f"{URL}?format=csv&cell_m=300",
                                          headers=token_for(direct_app, "bob"))
    assert direct.status_code == 200 and direct.data == ready.data
    assert_error(client.get("/api/v1/analytics/exports/heatmap-" + "0" * 40 + ".csv",
                            headers=headers), 404, "not_found")


def test_the_cache_serves_identical_requests_until_reports_change(
    app: Flask, client: Any, seeded: int, analyst: dict[str, str], settings: Settings,
) -> None:
    from pathlib import Path

    exports = Path(settings.media_root) / "exports"
    first = client.get(f"{URL}?format=geojson&cell_m=1000", headers=analyst)
    assert len(list(exports.iterdir())) == 1
    second = client.get(f"{URL}?format=geojson&cell_m=1000", headers=analyst)
    assert second.data == first.data and len(list(exports.iterdir())) == 1
    with app.app_context():
        db.session.execute(update(Report).where(Report.id == 1).values(
            status="closed", updated_at=datetime.now(UTC)))
        db.session.commit()
    client.get(f"{URL}?format=geojson&cell_m=1000", headers=analyst)
    assert len(list(exports.iterdir())) == 2


def test_postgis_and_spatialite_count_the_same_cells(
    spatialite_template: Any, postgis_database: str, tmp_path: Any,
) -> None:
    import shutil

    from backend.db.engine import make_engine
    from backend.services.analytics_filter import ReportSelection
    from backend.services.heatmap import CellSpec, aggregate
    from backend.services.reports import NewReport, create_report
    from tests.conftest import SECRET

    path = tmp_path / "db.sqlite"
    shutil.copyfile(spatialite_template, path)
    rng = np.random.default_rng(3)
    points = [(11.50 + 0.15 * rng.random(), 48.10 + 0.07 * rng.random()) for _ in range(150)]
    results = []
    for url in (f"sqlite:///{path}", postgis_database):
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                for i, (lon, lat) in enumerate(points):
                    create_report(session, NewReport(
                        category=["schild-fehlt", "ampel-ausfall", "sonstiges"][i % 3],
                        lon=lon, lat=lat, description=f"Punkt {i}"), secret_key=SECRET)
                session.execute(update(Report).where(Report.id % 4 == 0).values(
                    status="closed"))
                session.commit()
                found = []
                for spec in (CellSpec(cell_m=100), CellSpec(cell_m=1000),
                             CellSpec(cell_m=None, h3_res=7), CellSpec(cell_m=None, h3_res=9)):
                    cells = aggregate(session, ReportSelection(), spec, "EPSG:25832")
                    found.append((cells.cell_ids(), cells.count.tolist(), cells.open.tolist()))
                results.append(found)
        finally:
            if "postgresql" in url:  # leave the shared PostGIS database as found
                with engine.begin() as conn:
                    conn.exec_driver_sql(
                        "TRUNCATE report_event, report RESTART IDENTITY CASCADE")
            engine.dispose()
    assert results[0] == results[1]
    assert sum(results[0][0][1]) == len(points)
