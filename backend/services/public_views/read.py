"""Stored views for readers, a missing one rendered on the spot; expansions and ETags."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.statements import Source, orm_session, rows
from backend.errors import NotFound
from backend.models.public_view import ReportPublicView
from backend.services.city_cache import CitySnapshot
from backend.services.public_views.markers import Expansion
from backend.services.public_views.render import render
from backend.services.public_views.store import load
from backend.tokens import hash_token

UPLOAD_FIELDS = ("public_id", "status", "exif_lat", "exif_lon", "taken_at")
View = Literal["feature", "detail", "open311", "open311_ext"]
_expansions: dict[tuple[int, tuple[str, str], str, str], Expansion] = {}


def expansion(snapshot: CitySnapshot, locale: str, base_url: str) -> Expansion:
    """The marker expansion for this snapshot, language and base URL (built once)."""
    key = (id(snapshot), snapshot.versions, locale, base_url)
    found = _expansions.get(key)
    if found is None:
        if len(_expansions) > 32:
            _expansions.clear()
        found = _expansions[key] = Expansion(snapshot, locale, base_url)
    return found


def complete(source: Source, found: Sequence[tuple[int, str | None]], view: View) -> list[str]:
    """The stored fragment of each (report id, fragment or None) row, rendering the missing
    ones from the database now (they are not stored: readers never write)."""
    missing = [report_id for report_id, fragment in found if fragment is None]
    if not missing:
        return [fragment for _, fragment in found]  # type: ignore[misc]
    live = {data.id: getattr(render(data), view).decode()
            for data in load(orm_session(source), missing)}
    return [fragment if fragment is not None else live[report_id]
            for report_id, fragment in found if fragment is not None or report_id in live]


def etag(*parts: bytes | str) -> str:
    """A strong ETag over what an answer is made of (before expansion)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x00")
    return digest.hexdigest()


_DETAIL_SQL = ("SELECT r.id, v.detail FROM report r LEFT JOIN report_public v "
               "ON v.report_id = r.id WHERE r.public_id = :public_id")
# The report, its view and every photo (the reporter sees pending and failed uploads too).
# A processed photo the public does not see (hidden by staff, or of a category whose photos
# are staff-only) is "withheld" for its reporter, as one the detectors could not check.
_TRACKED_SQL = ("SELECT r.id, r.reporter_email IS NOT NULL, v.detail, p.public_id, "
                "CASE WHEN p.status = 'ready' AND (p.hidden_at IS NOT NULL OR NOT EXISTS "
                "(SELECT 1 FROM category c WHERE c.id = r.category_id AND c.photos_public)) "
                "THEN 'withheld' ELSE p.status END, "
                "p.exif_lat, p.exif_lon, p.taken_at FROM report r "
                "LEFT JOIN report_public v ON v.report_id = r.id "
                "LEFT JOIN photo p ON p.report_id = r.id "
                "WHERE r.tracking_token_hash = :token_hash ORDER BY p.position, p.id")


def detail_by_public_id(session: Source, public_id: str) -> str:
    """A report's page fragment, by its public id."""
    found = rows(session, _DETAIL_SQL, {"public_id": public_id})
    row = found[0] if found else None
    if row is None:
        raise NotFound("No report with this id.", {"id": ["not found"]})
    return complete(session, [(row[0], row[1])], "detail")[0]


def tracked(session: Source, tracking_token: str) -> tuple[str, bool, list[dict[str, Any]]]:
    """The reporter's report: its page fragment, whether an e-mail address is on file, and
    the reporter's uploads (every photo with its status and EXIF place, for them only)."""
    found = rows(session, _TRACKED_SQL, {"token_hash": hash_token(tracking_token)})
    if not found:
        raise NotFound("No report with this tracking token.", {"token": ["not found"]})
    report_id, email_on_file, detail = found[0][:3]
    uploads = [dict(zip(UPLOAD_FIELDS, row[3:], strict=True))
               for row in found if row[3] is not None]
    return complete(session, [(report_id, detail)], "detail")[0], bool(email_on_file), uploads


def by_report_id(session: Session, report_id: int, view: View) -> str:
    """One view of a report by its row id."""
    stored = session.scalar(select(getattr(ReportPublicView, view))
                            .where(ReportPublicView.report_id == report_id))
    return complete(session, [(report_id, stored)], view)[0]
