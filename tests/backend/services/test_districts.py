"""Importing the district layer: file or URL, any CRS, all-or-nothing, reports keep districts."""

from __future__ import annotations

import functools
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.city.config import load_city_config
from backend.errors import ConfigurationError, OutsideServiceArea
from backend.models import District, Report
from backend.services.city_cache import city_snapshot
from backend.services.city_state import read_versions
from backend.services.districts import LayerChanges
from backend.services.reports import NewReport, create_report
from backend.services.routing import route_report
from backend.services.setup import import_districts
from backend.settings import BUNDLED_CITY_CONFIG
from tests.conftest import SECRET

MARIENPLATZ = (11.5755, 48.1374)
NUMBERS = [f"{n:02d}" for n in range(1, 26)]
ATTRIBUTION = load_city_config(BUNDLED_CITY_CONFIG).districts["attribution"]
_TO_UTM = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


def _import(session: Session, source: str | Path) -> LayerChanges:
    return import_districts(session, str(source), number_field="sb_nummer",
                            name_field="sb_name", attribution=ATTRIBUTION)


def _layer(session: Session) -> dict[str, tuple[int, str, float]]:
    """number -> (id, name, area in m² in EPSG:25832) of the stored districts."""
    rows = session.execute(
        select(District.id, District.number, District.name, func.ST_AsBinary(District.geom))
    ).all()
    session.commit()  # end the read transaction (on SQLite it holds the write lock)
    return {
        number: (id_, name, _utm_area(shapely.from_wkb(bytes(wkb))))
        for id_, number, name, wkb in rows
    }


def _utm_area(geometry: shapely.Geometry) -> float:
    return shapely.transform(
        geometry, lambda xy: np.column_stack(_TO_UTM.transform(xy[:, 0], xy[:, 1]))
    ).area


def _state(session: Session) -> tuple[dict[str, tuple[int, str, float]], str]:
    layer = _layer(session)
    version = read_versions(session)[1]
    session.commit()
    return layer, version


def _official_areas(raw_file: Path) -> dict[str, float]:
    """flaeche_qm per district from the raw WFS answer (each part of 18 and 19 repeats it)."""
    features = json.loads(raw_file.read_text(encoding="utf-8"))["features"]
    return {f["properties"]["sb_nummer"]: f["properties"]["flaeche_qm"] for f in features}


def _write(tmp_path: Path, name: str, content: str | dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content),
                    encoding="utf-8")
    return path


def _report_at_marienplatz(session: Session, category: str = "schild-fehlt") -> int:
    created = create_report(
        session, NewReport(category, MARIENPLATZ[1], MARIENPLATZ[0], "Schild fehlt"),
        secret_key=SECRET,
    )
    session.commit()
    return created.report.id


@pytest.fixture(scope="module")
def layer_server(raw_districts_file: Path) -> Iterator[str]:
    """An HTTP server on loopback serving the shared Munich directory; yields its base URL."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    handler = functools.partial(QuietHandler, directory=str(raw_districts_file.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port_url() -> str:
    """An http URL on a loopback port that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/stadtbezirke.geojson"


# ---------------------------------------------------------------- equal layers --


def test_the_lonlat_file_yields_the_25_munich_districts(
    session: Session, districts_file: Path
) -> None:
    changes = _import(session, districts_file)
    assert not changes.changed  # the standard test database holds exactly this file
    layer = _layer(session)
    assert sorted(layer) == NUMBERS
    assert layer["01"][1] == "Altstadt-Lehel"
    assert layer["12"][1] == "Schwabing-Freimann"


def test_the_raw_epsg25832_file_yields_the_same_districts_as_the_lonlat_file(
    session: Session, districts_file: Path, raw_districts_file: Path
) -> None:
    _import(session, districts_file)
    lonlat = _layer(session)

    changes = _import(session, raw_districts_file)

    assert changes.added == []
    assert changes.removed == []
    raw = _layer(session)
    assert sorted(raw) == NUMBERS
    official = _official_areas(raw_districts_file)
    for number in NUMBERS:
        _, lonlat_name, lonlat_area = lonlat[number]
        _, raw_name, raw_area = raw[number]
        assert raw_name == lonlat_name
        assert raw_area == pytest.approx(lonlat_area, rel=0.005), number
        assert raw_area == pytest.approx(official[number], rel=0.005), number


def test_the_raw_file_merges_the_two_parts_of_districts_18_and_19(
    session: Session, raw_districts_file: Path
) -> None:
    _import(session, raw_districts_file)
    parts = dict(session.execute(
        select(District.number, func.ST_NumGeometries(District.geom))
        .where(District.number.in_(["18", "19", "01"]))
    ).all())
    assert parts["18"] >= 2
    assert parts["19"] >= 2
    assert parts["01"] == 1


def test_the_raw_file_imports_from_a_url(
    session: Session, layer_server: str
) -> None:
    lonlat = _layer(session)
    url = f"{layer_server}/stadtbezirke_epsg25832_raw.geojson"

    changes = _import(session, url)

    assert changes.changed
    layer = _layer(session)
    assert sorted(layer) == NUMBERS
    for number in NUMBERS:
        assert layer[number][0] == lonlat[number][0]  # updated in place
        assert layer[number][2] == pytest.approx(lonlat[number][2], rel=0.005)
    sources = set(session.scalars(select(District.source)))
    assert sources == {url}
    decision = route_report(city_snapshot(session), "schild-fehlt", *MARIENPLATZ)
    assert decision.district.number == "01"


# -------------------------------------------------------- unusable sources --


def test_an_unreachable_url_says_how_to_provide_a_file_and_changes_nothing(
    session: Session, closed_port_url: str
) -> None:
    before = _state(session)
    with pytest.raises(ConfigurationError) as err:
        _import(session, closed_port_url)
    assert closed_port_url in err.value.message
    assert "MM_DISTRICTS_SOURCE" in err.value.message
    assert "districts import" in err.value.message
    assert _state(session) == before


def test_a_url_answering_404_says_how_to_provide_a_file_and_changes_nothing(
    session: Session, layer_server: str
) -> None:
    before = _state(session)
    url = f"{layer_server}/no-such-layer.geojson"
    with pytest.raises(ConfigurationError) as err:
        _import(session, url)
    assert url in err.value.message
    assert "HTTPError" in err.value.message
    assert "MM_DISTRICTS_SOURCE" in err.value.message
    assert _state(session) == before


def test_a_missing_file_is_named_and_changes_nothing(session: Session, tmp_path: Path) -> None:
    before = _state(session)
    missing = tmp_path / "nope.geojson"
    with pytest.raises(ConfigurationError) as err:
        _import(session, missing)
    assert str(missing) in err.value.message
    assert _state(session) == before


def _truncated(lonlat: dict[str, Any], text: str) -> str:
    return text[: len(text) // 2]


def _with_linestring(lonlat: dict[str, Any], text: str) -> dict[str, Any]:
    lonlat["features"][3]["geometry"] = {
        "type": "LineString", "coordinates": [[11.5, 48.1], [11.6, 48.2]],
    }
    return lonlat


def _without_number(lonlat: dict[str, Any], text: str) -> dict[str, Any]:
    del lonlat["features"][5]["properties"]["sb_nummer"]
    return lonlat


def _linestring_and_no_number(lonlat: dict[str, Any], text: str) -> dict[str, Any]:
    return _without_number(_with_linestring(lonlat, text), text)


@pytest.mark.parametrize(
    ("breakage", "expected_problems"),
    [
        (_truncated, ["not valid JSON"]),
        (_with_linestring, ["feature 3", "'LineString' is not Polygon or MultiPolygon"]),
        (_without_number, ["feature 5", "'sb_nummer' is missing"]),
        (_linestring_and_no_number, ["'LineString'", "'sb_nummer' is missing"]),
    ],
    ids=["truncated-json", "linestring-feature", "missing-sb_nummer", "two-problems"],
)
def test_a_broken_file_lists_its_problems_and_leaves_the_layer_untouched(
    session: Session, districts_file: Path, tmp_path: Path,
    breakage: Callable[[dict[str, Any], str], str | dict[str, Any]],
    expected_problems: list[str],
) -> None:
    text = districts_file.read_text(encoding="utf-8")
    broken = _write(tmp_path, "broken.geojson", breakage(json.loads(text), text))
    report_id = _report_at_marienplatz(session)
    before = _state(session)

    with pytest.raises(ConfigurationError) as err:
        _import(session, broken)

    assert str(broken) in err.value.message
    problems = err.value.fields["problems"]
    for fragment in expected_problems:
        assert any(fragment in problem for problem in problems), (fragment, problems)
    assert _state(session) == before
    assert session.scalar(select(Report.district_id).where(Report.id == report_id)) \
        == before[0]["01"][0]


# ------------------------------------------------------------- re-imports --


def test_re_importing_the_same_file_changes_nothing(
    session: Session, districts_file: Path
) -> None:
    before = _state(session)
    changes = _import(session, districts_file)
    assert not changes.changed
    assert (changes.added, changes.updated, changes.removed) == ([], [], [])
    assert _state(session) == before


@pytest.mark.parametrize("source", ["same-file", "raw-file"])
def test_a_report_keeps_its_district_across_a_re_import(
    session: Session, districts_file: Path, raw_districts_file: Path, source: str
) -> None:
    report_id = _report_at_marienplatz(session)
    district_id = session.scalar(select(Report.district_id).where(Report.id == report_id))
    session.commit()
    assert district_id == _layer(session)["01"][0]

    _import(session, districts_file if source == "same-file" else raw_districts_file)

    assert session.scalar(select(Report.district_id).where(Report.id == report_id)) \
        == district_id
    assert _layer(session)["01"][0] == district_id


def test_a_layer_without_district_01_removes_it_and_reports_lose_only_the_district(
    session: Session, districts_file: Path, tmp_path: Path
) -> None:
    report_id = _report_at_marienplatz(session)
    department_before = session.scalar(
        select(Report.department_id).where(Report.id == report_id)
    )
    _, version_before = _state(session)
    lonlat = json.loads(districts_file.read_text(encoding="utf-8"))
    lonlat["features"] = [
        f for f in lonlat["features"] if f["properties"]["sb_nummer"] != "01"
    ]
    smaller = _write(tmp_path, "without-01.geojson", lonlat)

    changes = _import(session, smaller)

    assert changes.removed == ["01"]
    assert changes.added == []
    layer, version = _state(session)
    assert sorted(layer) == NUMBERS[1:]
    assert version != version_before
    district_id, department_id = session.execute(
        select(Report.district_id, Report.department_id).where(Report.id == report_id)
    ).one()
    assert district_id is None
    assert department_id == department_before
    with pytest.raises(OutsideServiceArea):
        route_report(city_snapshot(session), "schild-fehlt", *MARIENPLATZ)


def test_importing_district_01_again_adds_it_back(
    session: Session, districts_file: Path, tmp_path: Path
) -> None:
    lonlat = json.loads(districts_file.read_text(encoding="utf-8"))
    lonlat["features"] = [
        f for f in lonlat["features"] if f["properties"]["sb_nummer"] != "01"
    ]
    _import(session, _write(tmp_path, "without-01.geojson", lonlat))

    changes = _import(session, districts_file)

    assert changes.added == ["01"]
    assert sorted(_layer(session)) == NUMBERS
    decision = route_report(city_snapshot(session), "schild-fehlt", *MARIENPLATZ)
    assert decision.district.number == "01"
    assert decision.department.code == "bezirksinspektion-mitte"
