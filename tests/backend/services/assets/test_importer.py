"""Importing asset layers on both backends: formats, re-import (add, update, retire, restore)
with reports kept, licence and attribution, and bad input that changes nothing."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.errors import ConfigurationError
from backend.models import Asset, AssetLayer, Report
from backend.services.assets.importer import LayerSpec, import_assets
from backend.services.assets.queries import get_asset
from backend.services.assets.readers import ReadOptions
from backend.services.reports import NewReport, create_report
from tests.backend.services.assets.helpers import (
    ALLIANZ_ARENA,
    HAUPTBAHNHOF,
    MARIENPLATZ,
    MESSE_RIEM,
    OLYMPIASTADION,
    database_state,
    stored,
    write_geojson,
)
from tests.conftest import SECRET
from tests.shared_data import shared_data_dir

SIGNALS = LayerSpec("lsa-test", "traffic_signal")
MARIENPLATZ_UTM = (691603.0319930979, 5334780.03078066)


def _import(session: Session, path: Path, spec: LayerSpec = SIGNALS,
            options: ReadOptions | None = None, **kwargs: Any):  # noqa: ANN202
    return import_assets(session, str(path), spec, options, **kwargs)


def _report_at_asset(session: Session, layer: str, external_id: str) -> int:
    """A report pointing at the asset (set directly: intake does not choose assets yet)."""
    asset_id = session.scalar(select(Asset.id).join(AssetLayer).where(
        AssetLayer.code == layer, Asset.external_id == external_id))
    created = create_report(session, NewReport("ampel-ausfall", MARIENPLATZ[1], MARIENPLATZ[0],
                                               "Ampel dunkel"), secret_key=SECRET)
    session.execute(update(Report).where(Report.id == created.report.id)
                    .values(asset_id=asset_id))
    session.commit()
    return created.report.id


def test_a_new_layer_is_imported_with_names_numbers_and_licence(
        session: Session, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "lsa.geojson", {"a": MARIENPLATZ, "b": HAUPTBAHNHOF},
                         a={"name": "Marienplatz", "ref": "LSA 0815"})

    result = _import(session, path, LayerSpec("lsa-test", "traffic_signal", "dl-de/by-2-0",
                                              "Datenquelle: Stadt"))

    assert (result.added, result.updated, result.retired, result.unchanged) == (2, 0, 0, 0)
    assert stored(session, "lsa-test") == {
        "a": ("Marienplatz", "LSA 0815", *MARIENPLATZ, False),
        "b": (None, None, *HAUPTBAHNHOF, False),
    }
    layer = session.scalar(select(AssetLayer).where(AssetLayer.code == "lsa-test"))
    assert (layer.licence, layer.attribution, layer.source) == (
        "dl-de/by-2-0", "Datenquelle: Stadt", str(path))
    assert (layer.active_count, layer.retired_count) == (2, 0)


def test_reimport_adds_updates_retires_and_restores_and_keeps_reports(
        session: Session, tmp_path: Path) -> None:
    first = write_geojson(tmp_path / "v1.geojson",
                          {"a": MARIENPLATZ, "b": HAUPTBAHNHOF, "c": OLYMPIASTADION})
    _import(session, first)
    report_id = _report_at_asset(session, "lsa-test", "c")
    version = session.scalar(select(AssetLayer.version).where(AssetLayer.code == "lsa-test"))

    # b moved and got a name, c disappeared, d is new.
    second = write_geojson(tmp_path / "v2.geojson",
                           {"a": MARIENPLATZ, "b": ALLIANZ_ARENA, "d": MESSE_RIEM},
                           b={"name": "Arena"})
    result = _import(session, second)

    assert (result.added, result.updated, result.retired, result.restored,
            result.unchanged) == (1, 1, 1, 0, 1)
    assert stored(session, "lsa-test") == {
        "a": (None, None, *MARIENPLATZ, False),
        "b": ("Arena", None, *ALLIANZ_ARENA, False),
        "c": (None, None, *OLYMPIASTADION, True),
        "d": (None, None, *MESSE_RIEM, False),
    }
    report = session.get(Report, report_id)
    asset = get_asset(session, report.asset_id)
    assert asset is not None and asset.external_id == "c" and asset.retired
    layer = session.scalar(select(AssetLayer).where(AssetLayer.code == "lsa-test"))
    assert (layer.active_count, layer.retired_count) == (3, 1)
    assert layer.version != version

    # c comes back: restored, the same row (the report still points at it).
    third = write_geojson(tmp_path / "v3.geojson",
                          {"a": MARIENPLATZ, "b": ALLIANZ_ARENA, "c": OLYMPIASTADION,
                           "d": MESSE_RIEM}, b={"name": "Arena"})
    result = _import(session, third)

    assert (result.added, result.updated, result.retired, result.restored,
            result.unchanged) == (0, 0, 0, 1, 3)
    assert not stored(session, "lsa-test")["c"][4]
    session.expire_all()
    assert session.get(Report, report_id).asset_id == report.asset_id


def test_reimport_of_the_same_file_changes_nothing(session: Session, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "lsa.geojson", {"a": MARIENPLATZ, "b": HAUPTBAHNHOF})
    _import(session, path)
    before = database_state(session)

    result = _import(session, path)

    assert (result.added, result.updated, result.retired, result.unchanged) == (0, 0, 0, 2)
    assert not result.changed
    assert database_state(session) == before


def test_csv_in_epsg_25832_is_stored_in_lon_lat(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "lsa.csv"
    path.write_text(f"id;x;y;ref\nK1;{MARIENPLATZ_UTM[0]};{MARIENPLATZ_UTM[1]};LSA 1\n")

    _import(session, path, options=ReadOptions(crs="EPSG:25832"))

    (name, number, lon, lat, retired), = stored(session, "lsa-test").values()
    assert number == "LSA 1"
    assert (lon, lat) == pytest.approx(MARIENPLATZ, abs=1e-6)


def test_overpass_json_gets_osm_ids_and_the_odbl_licence(
        session: Session, tmp_path: Path) -> None:
    path = tmp_path / "overpass.json"
    path.write_text(json.dumps({"elements": [
        {"type": "node", "id": 42, "lon": MARIENPLATZ[0], "lat": MARIENPLATZ[1],
         "tags": {"highway": "traffic_signals", "ref": "0815"}}]}))

    _import(session, path)

    assert stored(session, "lsa-test") == {"node/42": (None, "0815", *MARIENPLATZ, False)}
    layer = session.scalar(select(AssetLayer).where(AssetLayer.code == "lsa-test"))
    assert layer.licence.startswith("ODbL") and layer.attribution == "© OpenStreetMap contributors"


def test_the_real_osm_extract_imports_1740_signals(session: Session) -> None:
    source = shared_data_dir() / "munich" / "traffic_signals_osm.geojson"

    result = _import(session, source, LayerSpec("lsa-osm-copy", "traffic_signal"),
                     ReadOptions(id_field="osm_id"))

    assert result.added == 1740
    layer = session.scalar(select(AssetLayer).where(AssetLayer.code == "lsa-osm-copy"))
    assert "OpenStreetMap" in layer.attribution and layer.active_count == 1740


@pytest.fixture(scope="module")
def file_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """An HTTP server on loopback serving a directory; yields (base URL, directory)."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    directory = tmp_path_factory.mktemp("served")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", directory
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_layer_is_imported_from_an_http_url(session: Session,
                                              file_server: tuple[str, Path]) -> None:
    base, directory = file_server
    write_geojson(directory / "signals.geojson", {"a": MARIENPLATZ})

    result = import_assets(session, f"{base}/signals.geojson", SIGNALS)

    assert result.added == 1
    assert session.scalar(select(AssetLayer.source).where(AssetLayer.code == "lsa-test")) \
        == f"{base}/signals.geojson"


def test_a_missing_url_fails_with_a_clear_error(session: Session,
                                                file_server: tuple[str, Path]) -> None:
    with pytest.raises(ConfigurationError, match="Cannot download the asset file"):
        import_assets(session, f"{file_server[0]}/missing.geojson", SIGNALS)


# -------------------------------------------------------------------- bad input --


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, ReadOptions, str]]:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [{"type": ')
    crs = tmp_path / "crs.geojson"
    crs.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {
        "name": "EPSG:4711000"}}, "features": [{"type": "Feature", "properties": {"id": "a"},
                                                 "geometry": {"type": "Point",
                                                              "coordinates": [1, 2]}}]}))
    duplicate = write_geojson(tmp_path / "dup.geojson",
                              {"a": MARIENPLATZ, "b": HAUPTBAHNHOF})
    duplicate.write_text(duplicate.read_text().replace('"id": "b"', '"id": "a"'))
    outside = write_geojson(tmp_path / "outside.geojson",
                            {"a": MARIENPLATZ, "tuscany": (11.88, 43.47)})
    multipoint = tmp_path / "multi.geojson"
    multipoint.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "m"},
         "geometry": {"type": "MultiPoint", "coordinates": [list(MARIENPLATZ)]}}]}))
    missing_id = tmp_path / "noid.csv"
    missing_id.write_text("id,lon,lat\na,11.5755,48.1374\n,11.56,48.1402\n")
    broken_csv = tmp_path / "broken.csv"
    broken_csv.write_text("id,lon,lat\na,11.5755,48.1374,extra\n")
    return {
        "broken-json": (broken, ReadOptions(), "the file is not valid JSON (line 1"),
        "unknown-crs": (crs, ReadOptions(), "unknown CRS: CRS EPSG:4711000"),
        "duplicate-ids": (duplicate, ReadOptions(), "feature 1 (a): id 'a' is used by feature 0"),
        "outside-city": (outside, ReadOptions(),
                         "feature 1 (tuscany): point (11.880000, 43.470000) is outside the city"),
        "multipoint": (multipoint, ReadOptions(), "feature 0 (m): geometry type 'MultiPoint'"),
        "missing-id": (missing_id, ReadOptions(), "line 3: column 'id' (the id) is empty"),
        "broken-csv": (broken_csv, ReadOptions(), "line 2: more cells than columns"),
    }


@pytest.mark.parametrize("case", ["broken-json", "unknown-crs", "duplicate-ids",
                                  "outside-city", "multipoint", "missing-id", "broken-csv"])
def test_bad_input_changes_nothing_and_names_the_row(session: Session, tmp_path: Path,
                                                     case: str) -> None:
    good = write_geojson(tmp_path / "good.geojson", {"a": MARIENPLATZ, "b": HAUPTBAHNHOF})
    _import(session, good)
    before = database_state(session)
    path, options, expected = _bad_files(tmp_path)[case]

    with pytest.raises(ConfigurationError) as caught:
        _import(session, path, options=options)

    problems = caught.value.fields["problems"]
    assert any(expected in problem for problem in problems), problems
    assert str(path) in caught.value.message
    assert database_state(session) == before


def test_a_failure_while_writing_rolls_everything_back(session: Session, tmp_path: Path) -> None:
    good = write_geojson(tmp_path / "good.geojson", {"a": MARIENPLATZ, "b": HAUPTBAHNHOF})
    _import(session, good)
    before = database_state(session)
    # A readable file whose layer check fails inside the transaction, after reading.
    changed = write_geojson(tmp_path / "changed.geojson", {"a": HAUPTBAHNHOF, "c": MARIENPLATZ})

    with pytest.raises(ConfigurationError, match="holds traffic_signal assets, not sign_post"):
        _import(session, changed, LayerSpec("lsa-test", "sign_post"))

    assert database_state(session) == before


def test_an_unknown_asset_type_is_refused_listing_the_known_ones(
        session: Session, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "lsa.geojson", {"a": MARIENPLATZ})

    with pytest.raises(ConfigurationError, match="traffic_signal, sign_post"):
        _import(session, path, LayerSpec("lsa-test", "street_light"))


def test_the_margin_admits_points_just_outside_the_districts(
        session: Session, tmp_path: Path) -> None:
    # 0.02° (≈ 1.5 km) east of the easternmost district point.
    path = write_geojson(tmp_path / "edge.geojson", {"edge": (11.7429, 48.1360)})

    with pytest.raises(ConfigurationError) as caught:
        _import(session, path, margin_m=1000)
    assert "outside the city" in caught.value.fields["problems"][0]
    assert _import(session, path, margin_m=2000).added == 1
