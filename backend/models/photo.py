"""Photos of a report: the private original and the public web-size derivatives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, UTCDateTime, utcnow
from backend.models.report import BigId


class PhotoStatus:
    """Where a photo stands in the pipeline."""

    PENDING = "pending"
    READY = "ready"  # its public copies exist (faces and plates hidden)
    WITHHELD = "withheld"  # redaction failed: kept private until staff review it
    FAILED = "failed"


class Photo(Base):
    """One uploaded photo; its EXIF facts are kept for staff and never shown publicly."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8), default="report")  # report | after (staff)
    status: Mapped[str] = mapped_column(String(16), default=PhotoStatus.PENDING)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    original_sha256: Mapped[str] = mapped_column(String(64))
    original_key: Mapped[str | None] = mapped_column(Text)  # None once the original is deleted
    original_size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    exif_lat: Mapped[float | None] = mapped_column()
    exif_lon: Mapped[float | None] = mapped_column()
    taken_at: Mapped[str | None] = mapped_column(String(40))  # camera's local time, as written
    # What the public copies hide: {"version": detectors, "auto": [regions], "staff": [...]}
    # (see backend.media.redaction.regions); None for photos published before redaction.
    redaction: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    rotation: Mapped[int] = mapped_column(Integer, default=0)  # staff: degrees clockwise
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # staff hid it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    derivatives: Mapped[list[PhotoDerivative]] = relationship(
        order_by="PhotoDerivative.id", lazy="selectin"
    )

    __table_args__ = (
        UniqueConstraint("report_id", "original_sha256"),
        Index("ix_photo_status_updated", "status", "updated_at"),
    )


class PhotoDerivative(Base):
    """A re-encoded web size of a photo, without any metadata; public, named by its hash."""

    __tablename__ = "photo_derivative"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), index=True)
    name: Mapped[str] = mapped_column(String(16))  # display | thumb
    format: Mapped[str] = mapped_column(String(8))  # jpeg | webp
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("photo_id", "name", "format"),)
