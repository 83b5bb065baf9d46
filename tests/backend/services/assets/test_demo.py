"""The Munich demo loads OpenStreetMap's traffic signals at `init`, idempotently."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.city.config import load_city_config
from backend.errors import ConfigurationError
from backend.models import AssetLayer
from backend.services.assets.demo import load_demo_assets
from backend.services.assets.queries import nearest_asset
from backend.settings import BUNDLED_CITY_CONFIG, Settings
from tests.backend.services.assets.helpers import MARIENPLATZ

DEMO = load_city_config(BUNDLED_CITY_CONFIG)


def test_after_init_the_demo_has_the_osm_signal_layer_with_its_attribution(
        session: Session) -> None:
    layer = session.scalar(select(AssetLayer).where(AssetLayer.code == "lsa-osm"))

    assert layer is not None
    assert (layer.active_count, layer.retired_count) == (1740, 0)
    assert layer.attribution == "© OpenStreetMap contributors"
    assert layer.licence.startswith("ODbL-1.0")
    assert layer.source.endswith("munich/traffic_signals_osm.geojson")
    hit = nearest_asset(session, *MARIENPLATZ, "ampel", 500)
    assert hit is not None and hit.layer == "lsa-osm" and hit.external_id.startswith("node/")


def test_loading_the_demo_layer_again_changes_nothing(session: Session,
                                                      settings: Settings) -> None:
    version = session.scalar(select(AssetLayer.version).where(AssetLayer.code == "lsa-osm"))

    demo = load_demo_assets(session, settings, DEMO)

    assert demo is not None and demo.result is not None
    assert (demo.result.added, demo.result.unchanged, demo.result.changed) == (0, 1740, False)
    assert session.scalar(select(AssetLayer.version).where(AssetLayer.code == "lsa-osm")) \
        == version


def test_off_skips_the_demo_layer(session: Session, settings: Settings) -> None:
    demo = load_demo_assets(session, dataclasses.replace(settings, demo_assets_source="off"),
                            DEMO)

    assert demo is not None and demo.result is None and "off" in demo.skipped


def test_without_the_shared_data_the_default_is_skipped(session: Session, settings: Settings,
                                                        tmp_path: Path) -> None:
    demo = load_demo_assets(session, dataclasses.replace(settings, shared_data=str(tmp_path)),
                            DEMO)

    assert demo is not None and demo.result is None
    assert demo.skipped == f"{tmp_path}/munich/traffic_signals_osm.geojson not found"


def test_an_explicit_source_that_is_missing_fails(session: Session, settings: Settings,
                                                  tmp_path: Path) -> None:
    missing = str(tmp_path / "signals.geojson")

    with pytest.raises(ConfigurationError, match="does not exist"):
        load_demo_assets(session, dataclasses.replace(settings, demo_assets_source=missing),
                         DEMO)


def test_a_configuration_without_demo_assets_loads_none(session: Session,
                                                        settings: Settings) -> None:
    config = dataclasses.replace(DEMO, demo_assets=None)

    assert load_demo_assets(session, settings, config) is None
