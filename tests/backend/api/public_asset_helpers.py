"""Small asset layers for the API tests: a few traffic signals and sign posts near
Marienplatz (one sign post retired by a re-import), imported through the real importer."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models import Asset
from backend.services.assets.importer import LayerSpec, import_assets
from tests.backend.api.helpers import MARIENPLATZ, offset
from tests.backend.services.assets.helpers import write_geojson

ASSETS_URL = "/api/v1/assets"
SIGNALS = "test-lsa"
SIGNS = "test-schilder"
SIGN_ATTRIBUTION = "Landeshauptstadt München, Baureferat"

SIGNAL_POINTS = {"lsa-1": offset(MARIENPLATZ, north_m=30), "lsa-2": offset(MARIENPLATZ, 400)}
SIGN_POINTS = {"vz-1": offset(MARIENPLATZ, east_m=40), "vz-2": offset(MARIENPLATZ, -500),
               "vz-old": offset(MARIENPLATZ, east_m=-60)}


SIGN_PROPS = {"vz-1": {"name": "Halteverbot", "ref": "VZ 283-1"}, "vz-old": {"name": "Alt"}}
SIGN_SPEC = LayerSpec(SIGNS, "sign_post", "dl-de/by-2-0", SIGN_ATTRIBUTION)


def reimport_signs(session: Session, tmp_path: Path) -> None:
    """Import the sign posts without `vz-old` (which retires it)."""
    kept = {k: v for k, v in SIGN_POINTS.items() if k != "vz-old"}
    import_assets(session, str(write_geojson(tmp_path / "vz2.geojson", kept, **SIGN_PROPS)),
                  SIGN_SPEC)


def load_test_layers(session: Session, tmp_path: Path) -> dict[str, int]:
    """Import the layers; external id → asset id."""
    signals = write_geojson(tmp_path / "lsa.geojson", SIGNAL_POINTS,
                            **{"lsa-1": {"name": "Marienplatz Nord", "ref": "LSA 0815"},
                               "lsa-2": {"name": "Tal", "ref": "LSA 0816"}})
    import_assets(session, str(signals), LayerSpec(SIGNALS, "traffic_signal", "CC0-1.0",
                                                   "Testdaten"))
    signs = write_geojson(tmp_path / "vz.geojson", SIGN_POINTS, **SIGN_PROPS)
    import_assets(session, str(signs), SIGN_SPEC)
    reimport_signs(session, tmp_path)
    session.commit()
    rows = session.execute(select(Asset.external_id, Asset.id).where(
        Asset.external_id.in_([*SIGNAL_POINTS, *SIGN_POINTS])))
    found = {row[0]: row[1] for row in rows}
    session.commit()  # no transaction left open (SQLite: the app's writes would wait on it)
    return found
