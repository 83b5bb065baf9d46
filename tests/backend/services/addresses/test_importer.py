"""Importing the address register on both backends: CSV and GeoJSON, re-import, --replace,
and bad files that change nothing, with every bad line named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import ConfigurationError
from backend.models import Address
from backend.services.addresses.importer import import_addresses
from tests.backend.services.addresses.helpers import SAMPLE, SAMPLE_ROWS, empty_register

pytestmark = pytest.mark.usefixtures("empty_register")
__all__ = ["empty_register"]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Address)) or 0


def test_the_sample_csv_imports_with_its_extra_column_ignored(session: Session) -> None:
    result = import_addresses(session, str(SAMPLE), place="München")

    assert (result.added, result.updated, result.unchanged) == (SAMPLE_ROWS, 0, 0)
    row = session.execute(select(Address.street, Address.postcode, Address.place,
                                 Address.search_key, func.ST_X(Address.geom),
                                 func.ST_Y(Address.geom))
                          .where(Address.street == "Marienplatz", Address.housenumber == "1")
                          ).one()
    assert row[:4] == ("Marienplatz", "80331", "München", "marienplatz 1")
    assert (round(row[4], 4), round(row[5], 4)) == (11.5755, 48.1374)


def test_a_reimport_updates_moved_addresses_and_replace_removes_unlisted(
        session: Session, tmp_path: Path) -> None:
    import_addresses(session, str(SAMPLE))
    moved = tmp_path / "moved.csv"
    moved.write_text("street,housenumber,postcode,lat,lon\n"
                     "Marienplatz,1,80331,48.1375,11.5756\n"
                     "Marienplatz,8,80331,48.1377,11.5762\n"
                     "Tal,1,80331,48.1363,11.5780\n")

    again = import_addresses(session, str(moved))
    assert (again.added, again.updated, again.unchanged, again.removed) == (1, 1, 1, 0)
    assert _count(session) == SAMPLE_ROWS + 1

    replaced = import_addresses(session, str(moved), replace=True)
    assert (replaced.added, replaced.updated, replaced.unchanged, replaced.removed) == \
        (0, 0, 3, SAMPLE_ROWS - 2)
    assert _count(session) == 3


def test_geojson_points_with_osm_or_plain_properties(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "addresses.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [11.5755, 48.1374]},
         "properties": {"addr:street": "Marienplatz", "addr:housenumber": "1",
                        "addr:postcode": "80331", "addr:city": "München"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [11.5799, 48.1376]},
         "properties": {"street": "Platzl", "housenumber": "9", "postcode": "80331"}},
    ]}))

    result = import_addresses(session, str(path), place="Munich")

    assert result.added == 2
    assert sorted(session.execute(select(Address.street, Address.place)).all()) == \
        [("Marienplatz", "München"), ("Platzl", "Munich")]


def test_a_bad_csv_names_each_line_and_changes_nothing(session: Session,
                                                       tmp_path: Path) -> None:
    import_addresses(session, str(SAMPLE))
    bad = tmp_path / "bad.csv"
    bad.write_text("street,housenumber,postcode,lat,lon\n"
                   "Tal,1,80331,48.1363,11.5780\n"
                   ",3,80331,48.1363,11.5780\n"
                   "Tal,5,80331,north,11.5780\n"
                   "Unter den Linden,1,10117,52.517,13.389\n"
                   "Tal,1,80331,48.1364,11.5781\n")

    with pytest.raises(ConfigurationError) as raised:
        import_addresses(session, str(bad), replace=True)

    message = raised.value.message
    assert "4 problems; nothing was changed" in message
    assert "line 3: street is missing" in message
    assert "line 4: lat/lon are not numbers ('north', '11.5780')" in message
    assert "line 5: the point 52.51700/13.38900 (lat/lon) lies outside the city" in message
    assert "line 6: the same address as line 2" in message
    assert _count(session) == SAMPLE_ROWS


def test_a_csv_without_the_needed_columns_is_refused(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("strasse,hausnummer,lat,lon\nTal,1,48.1363,11.5780\n")

    with pytest.raises(ConfigurationError, match="line 1: the header lacks the columns "
                                                 "street, housenumber, postcode"):
        import_addresses(session, str(bad))
