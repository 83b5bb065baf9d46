"""Which photos the public sees: processed with faces and plates hidden (`ready`), not hidden
by staff, of a category whose photos may be public. One rule, used by every public view,
the public files and the map thumbnails."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, select

from backend.models import Category, Photo, PhotoStatus, Report

# For SQL written out (the public-view loader): `p` is the photo, `r` its report.
PUBLIC_PHOTO_SQL = (
    "p.status = 'ready' AND p.hidden_at IS NULL AND EXISTS (SELECT 1 FROM category c "
    "WHERE c.id = r.category_id AND c.photos_public)")


def public_photo() -> Any:
    """The same rule as a SQLAlchemy condition on `Photo` (joined to nothing)."""
    return and_(
        Photo.status == PhotoStatus.READY, Photo.hidden_at.is_(None),
        exists(select(Category.id).join(Report, Report.category_id == Category.id)
               .where(Report.id == Photo.report_id, Category.photos_public)),
    )
