"""The views are built directly for speed; each must equal what its output schema dumps from
the same report, in every language, with the markers expanded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy.orm import Session

from backend.api.asset_schemas import asset_ref
from backend.api.schemas import ReportFeatureSchema, ReportSchema
from backend.services.assets.queries import AssetHit
from backend.services.city_cache import CitySnapshot, city_snapshot
from backend.services.public_views.markers import Expansion
from backend.services.public_views.render import (
    Event,
    PhotoFile,
    PublicPhoto,
    ReportData,
    render,
    with_distance,
    with_extensions,
)
from backend.workflow import OPEN311_STATE, OPEN_STATUSES, Outcome, Status

BASE = "https://maengel.example.org"
T0 = datetime(2026, 11, 3, 8, 15, 0, tzinfo=UTC)


def samples(snap: CitySnapshot) -> list[ReportData]:
    category = next(iter(snap.categories_by_id.values()))
    department = next(iter(snap.departments_by_id.values()))
    district = next(iter(snap.districts_by_id.values()))
    photo = PublicPhoto("ph0t0id1", tuple(
        PhotoFile(name, fmt, w, h, f"{name}{fmt}".ljust(64, "0"))
        for name, w, h in (("display", 1600, 1200), ("thumb", 320, 240))
        for fmt in ("jpeg", "webp")))
    base = {"id": 7, "public_id": "k7p3xr9q", "category_id": category.id,
            "department_id": department.id, "priority": "normal", "lon": 11.575512345678901,
            "lat": 48.1374, "created_at": T0, "updated_at": T0 + timedelta(microseconds=5)}
    return [
        ReportData(**base, district_id=district.id, status="submitted",
                   description="Schild <weg> & \"umgefallen\"\u2028", address=None,
                   due_at=T0 + timedelta(days=3), events=(Event("submitted", T0, None),)),
        ReportData(**base, district_id=None, status="resolved", description="x",
                   address="Marienplatz 1", due_at=None, photos=(photo,),
                   events=(Event("submitted", T0, None),
                           Event("resolved", T0 + timedelta(hours=1), "Repariert </script>"))),
        ReportData(**base, district_id=999_999, status="in_progress", description="y",
                   address="", due_at=T0, photos=(photo, photo), approximate=True),
        # An asset whose register text looks like markers and the nearby match.
        ReportData(**base, district_id=district.id, status="submitted", description="z",
                   address=None, due_at=None,
                   asset=AssetHit(42, "lsa-osm", "traffic_signal", "node/1",
                                  'Kreuzung <cc1> ,"thumb":x', "LSA 0815", 11.5755, 48.1374,
                                  retired=True)),
        # Closed as not the city's: the outcome and who is responsible instead.
        ReportData(**base, district_id=district.id, status="rejected", description="w",
                   address=None, due_at=T0, outcome=Outcome.NOT_RESPONSIBLE,
                   responsible=("Deutsche Bahn <AG>", "https://db.example/melden"),
                   events=(Event("rejected", T0, "Bahngelände."),)),
    ]


def schema_views(r: ReportData, snap: CitySnapshot, locale: str) -> tuple[dict, dict]:
    """What the output schemas dump from the same report (the contract)."""
    category = snap.categories_by_id[r.category_id]
    district = snap.districts_by_id.get(r.district_id) if r.district_id else None
    department = snap.departments_by_id[r.department_id]

    def url(sha: str, fmt: str) -> str:
        return f"{BASE}/media/photos/{sha}.{'jpg' if fmt == 'jpeg' else fmt}"

    photos = []
    for p in r.photos:
        sizes: dict[str, Any] = {}
        for f in p.files:
            sizes.setdefault(f.name, {"width": f.width, "height": f.height})[f.format] = \
                url(f.sha256, f.format)
        photos.append({"id": p.public_id, "kind": p.kind, "display": sizes["display"],
                       "thumb": sizes["thumb"]})
    thumb = photos[0]["thumb"]["jpeg"] if photos else None
    asset = asset_ref(r.asset) if r.asset is not None else None
    is_open = Status(r.status) in OPEN_STATUSES
    common = {"status": r.status, "open311_status": OPEN311_STATE[Status(r.status)],
              "priority": r.priority, "created_at": r.created_at, "updated_at": r.updated_at,
              "outcome": r.outcome.value if r.outcome else None,
              "expected_at": r.due_at if is_open else None}
    feature = ReportFeatureSchema().dump({
        "type": "Feature", "id": r.public_id,
        "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
        "properties": {
            "id": r.public_id, "url": f"{BASE}/api/v1/reports/{r.public_id}",
            "category": category.code, "category_name": category.name.get(locale),
            "group": category.group.code, "district": district.number if district else None,
            "asset": asset, "approximate": r.approximate, "thumb": thumb, **common}})
    detail = ReportSchema().dump({
        "id": r.public_id, "url": f"{BASE}/api/v1/reports/{r.public_id}",
        "category": {"code": category.code, "name": category.name.get(locale),
                     "group": {"code": category.group.code,
                               "name": category.group.name.get(locale)}},
        "description": r.description, "address": r.address,
        "location": {"lat": r.lat, "lon": r.lon},
        "district": {"number": district.number, "name": district.name} if district else None,
        "department": {"code": department.code, "name": department.name.get(locale)},
        "history": [{"status": e.to_status, "at": e.at, "note": e.public_note}
                    for e in r.events],
        "photos": photos, "asset": asset, "approximate": r.approximate,
        "responsible": {"name": r.responsible[0], "url": r.responsible[1]}
        if r.responsible else None, **common})
    return feature, detail


@pytest.mark.parametrize("locale", ["de", "en"])
def test_views_equal_their_schema_dumps(session: Session, locale: str) -> None:
    snap = city_snapshot(session)
    expand = Expansion(snap, locale, BASE)
    for report in samples(snap):
        views = render(report)
        feature, detail = schema_views(report, snap, locale)
        assert orjson.loads(expand(views.feature)) == feature
        assert orjson.loads(expand(views.detail)) == detail
        # Keys in the schema's order, not only equal as dictionaries.
        assert list(orjson.loads(expand(views.detail))) == list(detail)
        assert list(orjson.loads(expand(views.feature))["properties"]) == \
            list(feature["properties"])
        nearby = orjson.loads(expand(with_distance(views.feature, 12.345)))["properties"]
        assert list(nearby)[-2:] == ["distance_m", "thumb"] and nearby["distance_m"] == 12.3
        assert nearby["asset"] == feature["properties"]["asset"]
        same = orjson.loads(expand(with_distance(views.feature, 1, True)))["properties"]
        assert list(same)[-3:] == ["distance_m", "same_asset", "thumb"] and same["same_asset"]
        request = orjson.loads(expand(with_extensions(views.open311, views.open311_ext)))
        assert request["service_code"] == snap.categories_by_id[report.category_id].code
        assert request["extended_attributes"]["detailed_status"] == report.status


def test_user_text_cannot_forge_a_marker(session: Session) -> None:
    snap = city_snapshot(session)
    report = samples(snap)[0]
    forged = ReportData(**{**report.__dict__, "description": "<b> <cc1> <fc1>",
                           "address": "\ue000<b>\ue001"})
    views = render(forged)
    detail = orjson.loads(Expansion(snap, "de", BASE)(views.detail))
    assert detail["description"] == "<b> <cc1> <fc1>"
    assert detail["address"] == "\ue000<b>\ue001"
