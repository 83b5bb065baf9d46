"""Asset registers: the things reports are about (a traffic signal, a sign post), per layer."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, UTCDateTime, utcnow
from backend.models.report import BigId


class AssetType(Base):
    """A kind of asset (traffic signal, sign post), tied to the category groups it serves;
    loaded from the city configuration like the categories."""

    __tablename__ = "asset_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # Codes of the category groups whose reports can point at assets of this type.
    group_codes: Mapped[list[str]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AssetLayer(Base):
    """One imported register (e.g. `lsa-osm`, the OpenStreetMap traffic signals) with where it
    came from and the licence and attribution that must be shown with it."""

    __tablename__ = "asset_layer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    asset_type_id: Mapped[int] = mapped_column(ForeignKey("asset_type.id"))
    source: Mapped[str] = mapped_column(Text)
    licence: Mapped[str] = mapped_column(Text, default="")
    attribution: Mapped[str] = mapped_column(Text, default="")
    # Changes on every import that changed an asset (caches and ETags can key on it).
    version: Mapped[str] = mapped_column(String(32))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active_count: Mapped[int] = mapped_column(Integer, default=0)
    retired_count: Mapped[int] = mapped_column(Integer, default=0)

    asset_type: Mapped[AssetType] = relationship()


class Asset(Base):
    """One asset at a point. Never deleted: a re-import that no longer lists it retires it,
    so reports that point at it keep working."""

    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("asset_layer.id"))
    # The source's own stable id (`node/128226`, an LSA number): re-imports match on it.
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    number: Mapped[str | None] = mapped_column(String(100))
    # `number` without spaces, upper case: what a citizen types from a controller box matches.
    number_key: Mapped[str | None] = mapped_column(String(100))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    properties: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    layer: Mapped[AssetLayer] = relationship()

    __table_args__ = (
        UniqueConstraint("layer_id", "external_id", name="uq_asset_layer_external_id"),
        Index("ix_asset_number_key", "number_key"),
    )
