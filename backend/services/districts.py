"""Fetch a district layer from a file or URL and replace the stored layer in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import District
from backend.models.base import utcnow
from backend.services.city_state import bump_layer_version
from backend.services.sources import read_source
from geo.district_layer import DistrictShape

MAX_LAYER_BYTES = 200 * 1024 * 1024


@dataclass
class LayerChanges:
    """What an import changed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether the stored layer differs from before."""
        return bool(self.added or self.updated or self.removed)


def read_layer_source(source: str, timeout: float = 60.0) -> bytes:
    """Read a GeoJSON file, or download it from an http(s) URL, with a size limit."""
    return read_source(
        source, what="district layer", max_bytes=MAX_LAYER_BYTES, timeout=timeout,
        download_hint="Download it elsewhere and provide the file instead: set "
        "MM_DISTRICTS_SOURCE=/path/to/districts.geojson, or run "
        "`maengelmelder districts import /path/to/districts.geojson`.",
    )


def replace_district_layer(session: Session, shapes: list[DistrictShape], source: str,
                           attribution: str) -> LayerChanges:
    """Make the stored districts equal `shapes` (matched by number) and commit, or change nothing.

    Districts are updated in place rather than dropped and re-created so that reports keep
    their district; numbers missing from the new layer are removed (reports keep their
    department and lose only the district link).
    """
    changes = LayerChanges()
    existing = {
        row[0].number: (row[0], bytes(row[1]) if row[1] is not None else b"")
        for row in session.execute(select(District, func.ST_AsBinary(District.geom)))
    }
    now = utcnow()
    try:
        for shape in shapes:
            wkb = shapely.to_wkb(shape.geometry)
            current = existing.get(shape.number)
            if current is None:
                session.add(District(
                    number=shape.number, name=shape.name, geom=from_shape(shape.geometry, 4326),
                    source=source, attribution=attribution, imported_at=now,
                ))
                changes.added.append(shape.number)
                continue
            district, stored = current
            same_geom = stored and shapely.equals_exact(
                shapely.from_wkb(stored), shape.geometry, tolerance=1e-12
            )
            if not same_geom or district.name != shape.name or district.source != source \
                    or district.attribution != attribution:
                district.name = shape.name
                district.source, district.attribution = source, attribution
                district.imported_at = now
                if not same_geom:
                    district.geom = from_shape(shapely.from_wkb(wkb), 4326)
                changes.updated.append(shape.number)
        wanted = {shape.number for shape in shapes}
        for number, (district, _) in existing.items():
            if number not in wanted:
                session.delete(district)
                changes.removed.append(number)
        if changes.changed:
            bump_layer_version(session)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return changes
