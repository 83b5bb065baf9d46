"""Reports (Meldungen) and their append-only status history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from geoalchemy2 import Geometry
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, UTCDateTime, utcnow
from backend.models.city import Category, Department
from backend.models.district import District

if TYPE_CHECKING:
    from backend.models.photo import Photo

# The open statuses as the SQL predicate of the partial queue indexes; queries use this exact
# text so the planner can match them (a bound parameter list could not be proven to match).
OPEN_STATUS_SQL = "status IN ('submitted','acknowledged','in_progress','reopened')"

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer, "sqlite")


class Report(Base):
    """A citizen's report of a defect at a point, routed to a department."""

    __tablename__ = "report"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    tracking_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    description: Mapped[str] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=False)
    address: Mapped[str | None] = mapped_column(Text)
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("district.id", ondelete="SET NULL")
    )
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reporter_locale: Mapped[str] = mapped_column(String(8), default="de")
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="api")
    # Reasons staff should look at this report (e.g. "photo_far_from_pin"); not public.
    review_flags: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    # With the public id and MM_SECRET_KEY this yields the tracking token, so links in
    # e-mails can be built although only the token's hash is stored.
    tracking_salt: Mapped[str | None] = mapped_column(String(32))
    reject_reason: Mapped[str | None] = mapped_column(String(32))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    # Closed as "not our responsibility": who is, {"name": ..., "url": ...} (public).
    responsible: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # How often the reporter said "not fixed" (each raised the priority; against the fix rate).
    reporter_reopens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The service-level target: creation (or reopening) time + the city's time for the priority.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # Aggregation cells, fixed at intake: metres in the city's metric CRS, H3 at resolution 10.
    x_m: Mapped[float | None] = mapped_column()
    y_m: Mapped[float | None] = mapped_column()
    h3_r10: Mapped[int | None] = mapped_column(BigInteger)
    # Private, from Open311 clients: never in a public view, export or log.
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_phone: Mapped[str | None] = mapped_column(String(50))
    # Category attribute values.
    attributes: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    api_key_id: Mapped[int | None] = mapped_column()  # the Open311 client that sent it
    # The asset (traffic signal, sign post) the report is about; a retired asset stays.
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship()
    district: Mapped[District | None] = relationship()
    department: Mapped[Department] = relationship()
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", order_by="ReportEvent.id", lazy="selectin"
    )
    photos: Mapped[list[Photo]] = relationship(order_by="Photo.position", lazy="selectin")

    __table_args__ = (
        Index("ix_report_status_created", "status", "created_at"),
        Index("ix_report_category_id", "category_id"),
        Index("ix_report_created_at", "created_at"),
        Index("ix_report_department_status", "department_id", "status"),
        Index("ix_report_asset_id", "asset_id"),
        # The staff queue: open reports of a department in due order, and open reports in a
        # viewport (PostGIS; see ADR 0006).
        Index("ix_report_queue", "department_id", "due_at",
              sqlite_where=text(OPEN_STATUS_SQL), postgresql_where=text(OPEN_STATUS_SQL)),
        Index("ix_report_open_geom", "geom", postgresql_using="gist",
              postgresql_where=text(OPEN_STATUS_SQL)).ddl_if(dialect="postgresql"),
    )


class ReportEvent(Base):
    """One entry of a report's history; rows are never updated or deleted (database triggers)."""

    __tablename__ = "report_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)

    report: Mapped[Report] = relationship(back_populates="events")
