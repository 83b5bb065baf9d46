"""Response templates: texts staff start from when they change a status or write to the
reporter (issue 20.1), per category or group and target status, in several languages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, UTCDateTime, utcnow


class ResponseTemplate(Base):
    """A text with placeholders ({report_number}, {category}, …) per language; it only
    pre-fills the public note: what staff send (possibly edited) is what is stored."""

    __tablename__ = "response_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # At most one of the two; neither: for every category.
    category_code: Mapped[str | None] = mapped_column(String(64))
    group_code: Mapped[str | None] = mapped_column(String(64))
    # The status the report moves to (None: any, e.g. a note to the reporter).
    status: Mapped[str | None] = mapped_column(String(16))
    # {"de": "...", "en": "...", "tr": "..."}; German and English are required.
    texts: Mapped[dict] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
