"""Bring a database up to date: schema, erasures since a restored backup, city configuration,
district layer, the demo city's asset layer."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from backend.city.config import CityConfig, load_city_config
from backend.db import migrate
from backend.errors import ConfigurationError
from backend.media.storage import storage_from_settings
from backend.services.assets.demo import DemoAssets, load_demo_assets
from backend.services.city_config import ConfigChanges, apply_city_config
from backend.services.deliveries import ensure_vapid_key
from backend.services.districts import LayerChanges, read_layer_source, replace_district_layer
from backend.services.privacy import ErasureLedger, Reapplied, reapply_erasures
from backend.services.report_cells import fill_missing_cells
from backend.services.templates import seed_templates
from backend.settings import Settings
from geo.district_layer import parse_district_layer
from geo.errors import LayerError


@dataclass
class InitResult:
    """What `init` did."""

    config: ConfigChanges
    layer: LayerChanges
    districts_source: str
    erasures: Reapplied
    assets: DemoAssets | None = None  # the demo configuration's asset layer


def import_districts(session: Session, source: str, *, number_field: str, name_field: str,
                     attribution: str) -> LayerChanges:
    """Read, validate and store a district layer; a broken file changes nothing."""
    data = read_layer_source(source)
    try:
        shapes = parse_district_layer(data, number_field=number_field, name_field=name_field)
    except LayerError as exc:
        raise ConfigurationError(
            f"The district layer {source} cannot be used: {exc.message}",
            {"problems": exc.problems},
        ) from exc
    return replace_district_layer(session, shapes, source, attribution)


def districts_source(settings: Settings, config: CityConfig) -> str:
    """MM_DISTRICTS_SOURCE, or the official download named in the city configuration."""
    return settings.districts_source or config.districts["source"]


def initialize(engine: Engine, settings: Settings, *, reapply_config: bool = False
               ) -> InitResult:
    """Create or upgrade the schema, re-apply the erasure ledger, load the city configuration,
    import the districts and the demo asset layer (if the configuration names one).

    The ledger comes first: after a restore, erasures made since the backup are repeated
    before anything else runs, and an unusable ledger stops `init` with nothing changed. The
    configuration file is applied when it is new or changed (or with `reapply_config`);
    otherwise the database's configuration, possibly edited by dispatchers, stands.
    """
    config = load_city_config(settings.city_config)
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        erasures = reapply_erasures(session, storage_from_settings(settings),
                                    ErasureLedger.from_settings(settings))
        config_changes = apply_city_config(session, config,
                                           unless_applied=not reapply_config)
        source = districts_source(settings, config)
        layer_changes = import_districts(
            session, source,
            number_field=config.districts["number_field"],
            name_field=config.districts["name_field"],
            attribution=config.districts["attribution"],
        )
        assets = load_demo_assets(session, settings, config)  # needs the districts
        fill_missing_cells(session)  # rows from before the cells existed, or a new metric CRS
        seed_templates(session, config.response_templates)  # once: admins keep them
        session.commit()
        ensure_vapid_key(session)  # created once; browsers subscribe with its public half
    return InitResult(config_changes, layer_changes, source, erasures, assets)
