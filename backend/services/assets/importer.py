"""Make a stored asset layer equal a file: add, update, retire and un-retire, in one
transaction; a bad file changes nothing."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from backend.db.report_insert import sqlite_time
from backend.db.spatial import degree_box
from backend.errors import ConfigurationError, ServiceNotReady
from backend.models import Asset, AssetLayer, AssetType
from backend.models.base import utcnow
from backend.services.assets.readers import (
    Area,
    AssetFile,
    AssetRecord,
    ReadOptions,
    read_assets,
)
from backend.services.city_cache import city_snapshot
from backend.services.sources import read_source

MAX_ASSET_FILE_BYTES = 200 * 1024 * 1024
DEFAULT_MARGIN_M = 1000.0
# Coordinates closer than this (degrees, ≈ 1 mm) count as unchanged.
SAME_PLACE = 1e-8


@dataclass
class ImportResult:
    """What an import did to the layer."""

    layer: str
    added: int = 0
    updated: int = 0
    retired: int = 0
    restored: int = 0  # retired before, listed again (counted apart from `updated`)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        """Whether any asset was written."""
        return bool(self.added or self.updated or self.retired or self.restored)

    def summary(self) -> str:
        """One line of counts, for the command line."""
        return (f"{self.added} added, {self.updated} updated, {self.retired} retired, "
                f"{self.restored} restored, {self.unchanged} unchanged")


@dataclass(frozen=True)
class LayerSpec:
    """The layer an import writes to, and what is stored about its source."""

    code: str
    asset_type: str
    licence: str | None = None  # None: keep the stored one (or what the file declares)
    attribution: str | None = None


def number_key(number: str | None) -> str | None:
    """A number as it is matched: no spaces, upper case ("lsa 0815" finds "LSA0815")."""
    key = re.sub(r"\s+", "", number or "").upper()
    return key or None


def import_assets(session: Session, source: str, spec: LayerSpec,
                  options: ReadOptions | None = None, *,
                  margin_m: float = DEFAULT_MARGIN_M) -> ImportResult:
    """Read `source` (a file or http(s) URL), check it, and make the layer equal it; commit.

    Assets are matched by their external id. Assets the file no longer lists are retired,
    never deleted (reports point at them); listed again, they are restored.
    """
    asset_type = session.scalar(select(AssetType).where(AssetType.code == spec.asset_type))
    if asset_type is None or not asset_type.active:
        known = session.scalars(select(AssetType.code).where(AssetType.active)
                                .order_by(AssetType.position)).all()
        raise ConfigurationError(
            f"Unknown asset type {spec.asset_type!r}; the city configuration has: "
            f"{', '.join(known) or 'none'}.", {"type": [f"unknown asset type {spec.asset_type!r}"]})
    area = _city_area(session, margin_m)
    data = read_source(source, what="asset file", max_bytes=MAX_ASSET_FILE_BYTES)
    asset_file = read_assets(data, options or ReadOptions(), source, area)
    try:
        result = _write(session, source, spec, asset_type, asset_file)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def _city_area(session: Session, margin_m: float) -> Area:
    """The districts' bounding box plus `margin_m`: where assets may lie."""
    index = city_snapshot(session).index
    if index is None:
        raise ServiceNotReady("Import a district layer before asset layers.")
    x0, y0, x1, y1 = index.bounds
    minx, miny, _, _ = degree_box(x0, y0, margin_m)
    _, _, maxx, maxy = degree_box(x1, y1, margin_m)
    return Area((minx, miny, maxx, maxy),
                f"the city (the districts' bounding box plus {margin_m:g} m)")


def _layer(session: Session, source: str, spec: LayerSpec, asset_type: AssetType,
           asset_file: AssetFile, now: datetime) -> AssetLayer:
    """The layer row, locked against a concurrent import of the same layer (PostgreSQL)."""
    layer = session.scalar(select(AssetLayer).where(AssetLayer.code == spec.code)
                           .with_for_update())
    if layer is None:
        layer = AssetLayer(code=spec.code, asset_type_id=asset_type.id, source=source,
                           licence="", attribution="", version="", imported_at=now,
                           active_count=0, retired_count=0)
        session.add(layer)
        session.flush()
    elif layer.asset_type_id != asset_type.id:
        stored = session.get(AssetType, layer.asset_type_id)
        raise ConfigurationError(
            f"Layer {spec.code!r} holds {stored.code if stored else '?'} assets, not "
            f"{asset_type.code}; import into a new layer instead.",
            {"type": ["differs from the layer's type"]})
    layer.source = source
    for attr, given, declared in (("licence", spec.licence, asset_file.licence),
                                  ("attribution", spec.attribution, asset_file.attribution)):
        if given is not None:
            setattr(layer, attr, given)
        elif not getattr(layer, attr) and declared:
            setattr(layer, attr, declared)
    layer.imported_at = now
    return layer


def _write(session: Session, source: str, spec: LayerSpec, asset_type: AssetType,
           asset_file: AssetFile) -> ImportResult:
    now = utcnow()
    layer = _layer(session, source, spec, asset_type, asset_file, now)
    stored = {
        row.external_id: row for row in session.execute(
            select(Asset.id, Asset.external_id, Asset.name, Asset.number,
                   func.ST_X(Asset.geom).label("lon"), func.ST_Y(Asset.geom).label("lat"),
                   Asset.properties, Asset.retired_at)
            .where(Asset.layer_id == layer.id))
    }
    result = ImportResult(spec.code)
    new: list[AssetRecord] = []
    changed: list[tuple[int, AssetRecord]] = []
    for record in asset_file.records:
        row = stored.get(record.external_id)
        if row is None:
            new.append(record)
        elif row.retired_at is not None or _differs(row, record):
            changed.append((row.id, record))
            if row.retired_at is not None:
                result.restored += 1
            else:
                result.updated += 1
        else:
            result.unchanged += 1
    listed = {record.external_id for record in asset_file.records}
    gone = [row.id for ext, row in stored.items() if ext not in listed and row.retired_at is None]
    result.added, result.retired = len(new), len(gone)
    writer = _Writer(session, layer.id, now)
    writer.insert(new)
    writer.update(changed)
    writer.retire(gone)
    writer.mark_seen()
    layer.active_count = len(asset_file.records)
    layer.retired_count = sum(1 for ext in stored if ext not in listed)
    if result.changed or not layer.version:
        layer.version = uuid.uuid4().hex
    return result


def _differs(row: Any, record: AssetRecord) -> bool:
    return (row.name != record.name or row.number != record.number
            or abs(row.lon - record.lon) > SAME_PLACE or abs(row.lat - record.lat) > SAME_PLACE
            or (row.properties or {}) != record.properties)


class _Writer:
    """Bulk statements on the session's connection (inside its transaction), per dialect."""

    def __init__(self, session: Session, layer_id: int, now: datetime) -> None:
        self.session = session
        self.layer_id = layer_id
        self.now = now
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.point = ("ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)" if self.postgres
                      else "MakePoint(:lon, :lat, 4326)")

    def _time(self, value: datetime) -> Any:
        return value if self.postgres else sqlite_time(value)

    def _values(self, record: AssetRecord) -> dict[str, Any]:
        return {"name": record.name, "number": record.number,
                "number_key": number_key(record.number), "lon": record.lon, "lat": record.lat,
                "properties": json.dumps(record.properties, ensure_ascii=False)}

    def insert(self, records: list[AssetRecord]) -> None:
        """Add new assets (COPY on PostgreSQL)."""
        if not records:
            return
        columns = ("layer_id, external_id, name, number, number_key, geom, properties, "
                   "first_seen_at, last_seen_at")
        if self.postgres:
            raw = self.session.connection().connection.driver_connection
            with raw.cursor() as cursor, \
                    cursor.copy(f"COPY asset ({columns}) FROM STDIN") as copy:
                for r in records:
                    copy.write_row((
                        self.layer_id, r.external_id, r.name, r.number, number_key(r.number),
                        f"SRID=4326;POINT({r.lon!r} {r.lat!r})",
                        json.dumps(r.properties, ensure_ascii=False), self.now, self.now))
            return
        now = self._time(self.now)
        raw = self.session.connection().connection.driver_connection
        # Plain tuples on the driver: SQLAlchemy's per-row parameter handling would cost
        # about a second per 100,000 rows.
        raw.executemany(
            f"INSERT INTO asset ({columns}) VALUES (?, ?, ?, ?, ?, MakePoint(?, ?, 4326), ?, ?, ?)",
            [(self.layer_id, r.external_id, r.name, r.number, number_key(r.number), r.lon, r.lat,
              json.dumps(r.properties, ensure_ascii=False), now, now) for r in records])

    def update(self, changes: list[tuple[int, AssetRecord]]) -> None:
        """Write changed (or restored) assets."""
        if not changes:
            return
        cast = "CAST(:properties AS json)" if self.postgres else ":properties"
        self.session.execute(text(
            f"UPDATE asset SET name = :name, number = :number, number_key = :number_key, "
            f"geom = {self.point}, properties = {cast}, retired_at = NULL, "
            "last_seen_at = :now WHERE id = :id"),
            [{**self._values(r), "id": asset_id, "now": self._time(self.now)}
             for asset_id, r in changes])

    def retire(self, ids: list[int]) -> None:
        """Retire assets the file no longer lists."""
        if ids:
            self.session.execute(text("UPDATE asset SET retired_at = :now WHERE id = :id"),
                                 [{"id": i, "now": self._time(self.now)} for i in ids])

    def mark_seen(self) -> None:
        """Every listed asset was seen by this import."""
        self.session.execute(text(
            "UPDATE asset SET last_seen_at = :now WHERE layer_id = :layer "
            "AND retired_at IS NULL AND last_seen_at < :now"),
            {"now": self._time(self.now), "layer": self.layer_id})
