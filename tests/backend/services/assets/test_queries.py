"""Finding assets on both backends, checked against a brute-force oracle over every asset."""

from __future__ import annotations

import random
from pathlib import Path

import pyproj
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.models import Asset, AssetLayer, AssetType
from backend.services.assets.importer import LayerSpec, import_assets
from backend.services.assets.queries import (
    assets_by_number,
    assets_in_bbox,
    list_layers,
    nearest_asset,
    nearest_assets,
)
from tests.backend.services.assets.helpers import MARIENPLATZ, write_geojson

GEOD = pyproj.Geod(ellps="WGS84")
CENTRE = (11.50, 48.10, 11.65, 48.18)


def _random_points(rng: random.Random, n: int) -> list[tuple[float, float]]:
    return [(rng.uniform(CENTRE[0], CENTRE[2]), rng.uniform(CENTRE[1], CENTRE[3]))
            for _ in range(n)]


@pytest.fixture
def layers(session: Session, tmp_path: Path) -> None:
    """1,500 random signals (some retired by a re-import) and 500 sign posts."""
    rng = random.Random(18)
    signals = {f"s{i}": p for i, p in enumerate(_random_points(rng, 1500))}
    props = {f"s{i}": {"ref": f"LSA {i:04d}"} for i in range(1500)}
    import_assets(session, str(write_geojson(tmp_path / "s.geojson", signals, **props)),
                  LayerSpec("lsa-random", "traffic_signal"))
    kept = {k: v for i, (k, v) in enumerate(signals.items()) if i % 10}
    import_assets(session, str(write_geojson(tmp_path / "s2.geojson", kept, **props)),
                  LayerSpec("lsa-random", "traffic_signal"))
    signs = {f"v{i}": p for i, p in enumerate(_random_points(rng, 500))}
    import_assets(session, str(write_geojson(tmp_path / "v.geojson", signs)),
                  LayerSpec("schilder", "sign_post"))


def _active(session: Session, type_code: str) -> list[tuple[int, float, float]]:
    """Every active asset of a type (the oracle's input), straight from the table."""
    return [tuple(row) for row in session.execute(
        select(Asset.id, func.ST_X(Asset.geom), func.ST_Y(Asset.geom))
        .join(AssetLayer, AssetLayer.id == Asset.layer_id)
        .join(AssetType, AssetType.id == AssetLayer.asset_type_id)
        .where(AssetType.code == type_code, Asset.retired_at.is_(None)))]


def _oracle(assets: list, lon: float, lat: float, max_m: float, k: int) -> list[int]:
    ranked = sorted((GEOD.inv(lon, lat, x, y)[2], i) for i, x, y in assets)
    return [i for d, i in ranked if d <= max_m][:k]


@pytest.mark.usefixtures("layers")
def test_nearest_assets_equal_the_brute_force_answer(session: Session) -> None:
    rng = random.Random(7)
    signals, signs = _active(session, "traffic_signal"), _active(session, "sign_post")
    cases = 0
    for lon, lat in _random_points(rng, 40) + [(11.40, 48.20), (11.70, 48.07)]:
        for code, assets in (("ampel", signals), ("traffic_signal", signals),
                             ("schild", signs)):
            for max_m, k in ((30.0, 1), (250.0, 1), (3000.0, 3), (20_000.0, 1)):
                found = nearest_assets(session, lon, lat, code, max_m, k)
                assert [h.id for h in found] == _oracle(assets, lon, lat, max_m, k), \
                    (lon, lat, code, max_m, k)
                for hit in found:
                    assert hit.distance_m == pytest.approx(
                        GEOD.inv(lon, lat, hit.lon, hit.lat)[2], abs=0.01)
                cases += 1
    assert cases == 42 * 3 * 4


@pytest.mark.usefixtures("layers")
def test_nearest_asset_skips_retired_assets_and_other_types(session: Session) -> None:
    retired = session.execute(
        select(Asset.id, func.ST_X(Asset.geom), func.ST_Y(Asset.geom))
        .where(Asset.retired_at.is_not(None))).first()
    assert retired is not None

    hit = nearest_asset(session, retired[1], retired[2], "ampel", 5000)

    assert hit is not None and hit.id != retired[0] and hit.asset_type == "traffic_signal"
    assert not hit.retired and hit.distance_m > 0


@pytest.mark.usefixtures("layers")
def test_assets_in_a_street_viewport_equal_the_brute_force_answer(session: Session) -> None:
    rng = random.Random(11)
    signals = _active(session, "traffic_signal")
    for lon, lat in _random_points(rng, 25):
        box = (lon, lat, lon + 0.008, lat + 0.0045)
        expected = sorted(i for i, x, y in signals
                          if box[0] <= x <= box[2] and box[1] <= y <= box[3])

        found = assets_in_bbox(session, box, "ampel", limit=10_000)

        assert [h.id for h in found] == expected
    big = (11.3, 48.0, 11.8, 48.3)
    assert [h.id for h in assets_in_bbox(session, big, "ampel", limit=7)] == \
        sorted(i for i, _, _ in signals)[:7]


@pytest.mark.usefixtures("layers")
def test_assets_by_number_ignore_spaces_and_case(session: Session) -> None:
    found = assets_by_number(session, " lsa0011 ", "ampel")

    assert [(h.external_id, h.number) for h in found] == [("s11", "LSA 0011")]
    assert assets_by_number(session, "LSA 0010", "ampel") == []  # retired
    assert [h.external_id for h in assets_by_number(session, "LSA 0010", "ampel",
                                                    include_retired=True)] == ["s10"]
    assert assets_by_number(session, "LSA 0011", "schild") == []


def test_a_group_without_assets_finds_nothing_and_an_unknown_code_is_refused(
        session: Session) -> None:
    assert nearest_asset(session, *MARIENPLATZ, "schild", 500) is None  # no sign layer yet
    with pytest.raises(InvalidInput, match="neither an asset type nor a category group"):
        nearest_asset(session, *MARIENPLATZ, "sonstiges", 500)


def test_the_layer_list_shows_counts_licence_and_attribution(session: Session,
                                                              tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "v.geojson", {"a": MARIENPLATZ})
    import_assets(session, str(path), LayerSpec("schilder", "sign_post", "CC0", "Stadt"))

    infos = {info.code: info for info in list_layers(session)}

    assert (infos["schilder"].asset_type, infos["schilder"].active_count,
            infos["schilder"].licence, infos["schilder"].attribution) == (
        "sign_post", 1, "CC0", "Stadt")
