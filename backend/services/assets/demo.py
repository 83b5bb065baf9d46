"""The asset layer a demo city configuration names (`demo_assets`), loaded at every `init`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from backend.city.config import CityConfig
from backend.services.assets.importer import ImportResult, LayerSpec, import_assets
from backend.services.assets.readers import ReadOptions
from backend.settings import Settings

OFF = "off"


@dataclass
class DemoAssets:
    """What `init` did about the demo layer: imported it (result), or skipped it (why)."""

    layer: str
    source: str
    result: ImportResult | None = None
    skipped: str = ""


def demo_assets_source(settings: Settings, config: CityConfig) -> tuple[str, bool]:
    """(source, given): MM_DEMO_ASSETS_SOURCE, else the configuration's file inside
    MM_SHARED_DATA (not given explicitly: it may be missing)."""
    if settings.demo_assets_source:
        return settings.demo_assets_source, True
    assert config.demo_assets is not None
    return str(Path(settings.shared_data) / config.demo_assets["file"]), False


def load_demo_assets(session: Session, settings: Settings, config: CityConfig
                     ) -> DemoAssets | None:
    """Import (or re-check) the demo layer; None when the configuration names none.

    Idempotent: an unchanged file writes nothing but the assets' last-seen time. A source
    set explicitly must work; the default one is skipped when the shared data is absent.
    """
    demo = config.demo_assets
    if demo is None:
        return None
    if settings.demo_assets_source.strip().lower() == OFF:
        return DemoAssets(demo["layer"], "", skipped=f"MM_DEMO_ASSETS_SOURCE={OFF}")
    source, given = demo_assets_source(settings, config)
    if not given and not Path(source).is_file():
        return DemoAssets(demo["layer"], source, skipped=f"{source} not found")
    result = import_assets(
        session, source,
        LayerSpec(demo["layer"], demo["type"], demo["licence"], demo["attribution"]),
        ReadOptions(id_field=demo["id_field"], name_field=demo["name_field"],
                    number_field=demo["number_field"]),
    )
    return DemoAssets(demo["layer"], source, result)
