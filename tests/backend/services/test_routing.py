"""The routing table of PRODUCT.md, on both backends, through the real service."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from backend.errors import InvalidInput, OutsideServiceArea
from backend.services.city_cache import city_snapshot
from backend.services.routing import route_report

MARIENPLATZ = (11.5755, 48.1374)
ALLIANZ_ARENA = (11.6247, 48.2188)
HAUPTBAHNHOF = (11.5600, 48.1402)
OLYMPIASTADION = (11.5465, 48.1731)
MESSE_RIEM = (11.6950, 48.1360)


@pytest.mark.parametrize(
    ("category", "point", "district", "department", "priority"),
    [
        ("schild-fehlt", MARIENPLATZ, "01", "bezirksinspektion-mitte", "high"),
        ("schild-fehlt", ALLIANZ_ARENA, "12", "bezirksinspektion-nord", "high"),
        ("schild-beschaedigt", HAUPTBAHNHOF, "02", "bezirksinspektion-mitte", "normal"),
        ("schild-verdreht", OLYMPIASTADION, "11", "bezirksinspektion-nord", "high"),
        ("schild-unleserlich", MESSE_RIEM, "15", "bezirksinspektion-ost", "normal"),
        ("ampel-ausfall", MARIENPLATZ, "01", "verkehrstechnik", "urgent"),
        ("ampel-ausfall", ALLIANZ_ARENA, "12", "verkehrstechnik", "urgent"),
        ("ampel-ausfall", MESSE_RIEM, "15", "verkehrstechnik", "urgent"),
        ("ampel-taster", OLYMPIASTADION, "11", "verkehrstechnik", "high"),
        ("sonstiges", MARIENPLATZ, "01", "anliegenmanagement", "normal"),
        ("sonstiges", MESSE_RIEM, "15", "anliegenmanagement", "normal"),
    ],
)
def test_report_is_routed_by_district_and_category(
    session: Session, category: str, point: tuple[float, float], district: str,
    department: str, priority: str,
) -> None:
    decision = route_report(city_snapshot(session), category, *point)
    assert decision.district.number == district
    assert decision.department.code == department
    assert decision.priority == priority


@pytest.mark.parametrize(
    ("district", "department"),
    [
        ("01", "bezirksinspektion-mitte"), ("05", "bezirksinspektion-mitte"),
        ("04", "bezirksinspektion-nord"), ("24", "bezirksinspektion-nord"),
        ("13", "bezirksinspektion-ost"), ("16", "bezirksinspektion-ost"),
        ("06", "bezirksinspektion-sued"), ("20", "bezirksinspektion-sued"),
        ("21", "bezirksinspektion-west"), ("25", "bezirksinspektion-west"),
    ],
)
def test_signs_go_to_the_inspection_area_of_their_district(
    session: Session, district: str, department: str
) -> None:
    snapshot = city_snapshot(session)
    point = _point_inside(session, district)
    decision = route_report(snapshot, "schild-fehlt", *point)
    assert decision.district.number == district
    assert decision.department.code == department


def test_a_point_outside_every_district_is_refused(session: Session) -> None:
    with pytest.raises(OutsideServiceArea) as err:
        route_report(city_snapshot(session), "schild-fehlt", 11.0, 48.0)
    assert err.value.status == 422
    assert err.value.code == "outside_service_area"


def test_an_unknown_category_is_refused(session: Session) -> None:
    with pytest.raises(InvalidInput) as err:
        route_report(city_snapshot(session), "schlagloch", *MARIENPLATZ)
    assert "category" in err.value.fields


def _point_inside(session: Session, number: str) -> tuple[float, float]:
    from sqlalchemy import func, select

    from backend.models import District

    row = session.execute(
        select(func.ST_X(func.ST_PointOnSurface(District.geom)),
               func.ST_Y(func.ST_PointOnSurface(District.geom)))
        .where(District.number == number)
    ).one()
    return float(row[0]), float(row[1])
