"""Each report's public JSON, rendered once when the report changes (see
backend/services/public_views): the public map, Open311 and the report page concatenate these
fragments instead of building every report's JSON on every read."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base
from backend.models.report import BigId


class ReportPublicView(Base):
    """The rendered public views of one report.

    A row is deleted by database triggers whenever anything it shows changes (the report's
    public columns, a history event, a photo or its files), so a row that exists is never
    stale; the write services render it again in the same transaction, and readers render a
    missing one on the spot. `revision` grows with every (re)rendering: the largest one says
    whether anything public changed.
    """

    __tablename__ = "report_public"
    __table_args__ = {"sqlite_autoincrement": True}

    revision: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("report.id", ondelete="CASCADE"), unique=True)
    # With markers (<b>, <cn12>, ...) for what belongs to the city's configuration or the
    # deployment: names in the asked language, the base URL. See public_views.markers.
    feature: Mapped[str] = mapped_column(Text)  # a GeoJSON Feature of the map
    detail: Mapped[str] = mapped_column(Text)  # the report page (GET /api/v1/reports/<id>)
    open311: Mapped[str] = mapped_column(Text)  # a GeoReport v2 service request
    open311_ext: Mapped[str] = mapped_column(Text)  # its extended_attributes
