"""Staff views of users and reports (never the reporter's e-mail: that has its own, audited
endpoint)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from backend.api.asset_schemas import asset_ref
from backend.api.presenters import photo_url
from backend.api.staff.photo_view import staff_photo_view
from backend.models import StaffUser
from backend.permissions import ReportAction
from backend.services.approximate import approximate
from backend.services.assets.queries import AssetHit
from backend.services.city_cache import CitySnapshot
from backend.services.staff.assets import AssetReport
from backend.services.staff.detail import StaffReport
from backend.workflow import OPEN_STATUSES, Status, outcome_of


def user_view(user: StaffUser, locale: str) -> dict[str, Any]:
    """A staff member as the apps show them."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
        "departments": [{"code": d.code, "name": d.name_en if locale == "en" else d.name_de}
                        for d in user.departments],
    }


def _person(user: StaffUser | None) -> dict[str, str] | None:
    return {"username": user.username, "display_name": user.display_name} if user else None


def _overdue(due_at: datetime | None, status: str, now: datetime) -> bool:
    return due_at is not None and Status(status) in OPEN_STATUSES and due_at < now


def _outcome(status: str, reject_reason: str | None) -> str | None:
    outcome = outcome_of(status, reject_reason)
    return outcome.value if outcome else None


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def _names(snapshot: CitySnapshot, row: Any, locale: str) -> dict[str, Any]:
    category = snapshot.categories_by_id[row.category_id]
    department = snapshot.departments_by_id[row.department_id]
    district = snapshot.districts_by_id.get(row.district_id) if row.district_id else None
    return {
        "category": {"code": category.code, "name": category.name.get(locale),
                     "group": category.group.code},
        "department": {"code": department.code, "name": department.name.get(locale)},
        "district": {"number": district.number, "name": district.name} if district else None,
    }


def queue_feature(row: Any, snapshot: CitySnapshot, locale: str, base_url: str, now: datetime,
                  assignee: StaffUser | None, thumb: str | None,
                  near: tuple[float, float] | None, asset: AssetHit | None = None
                  ) -> dict[str, Any]:
    """One queue entry as a GeoJSON Feature."""
    properties: dict[str, Any] = {
        "id": row.public_id,
        "status": row.status,
        "priority": row.priority,
        "overdue": _overdue(row.due_at, row.status, now),
        "due_at": row.due_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        **_names(snapshot, row, locale),
        "address": row.address,
        "description": row.description,
        "assigned_to": _person(assignee),
        "thumbnail": photo_url(base_url, thumb, "jpeg") if thumb else None,
        "review_flags": list(row.review_flags or []),
        "approximate": approximate(row.review_flags),
        "asset": asset_ref(asset) if asset else None,
        # The reporter said "not fixed" this often (each time one priority higher).
        "reporter_not_fixed": row.reporter_reopens or 0,
    }
    if near is not None:
        properties["distance_m"] = round(_haversine_m(near[0], near[1], row.lon, row.lat), 1)
    return {"type": "Feature", "id": row.public_id,
            "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
            "properties": properties}


def staff_report_view(view: StaffReport, snapshot: CitySnapshot, locale: str, base_url: str,
                      now: datetime) -> dict[str, Any]:
    """Everything staff may see of one report, with what this person may do to it."""
    report = view.report
    moderate = ReportAction.PHOTOS in view.actions
    photos = [staff_photo_view(photo, report.public_id, base_url, view.photos_public, moderate)
              for photo in report.photos]
    return {
        "id": report.public_id,
        "status": report.status,
        "priority": report.priority,
        "overdue": _overdue(report.due_at, report.status, now),
        "due_at": report.due_at,
        "created_at": report.created_at,
        "updated_at": report.updated_at,
        "resolved_at": report.resolved_at,
        **_names(snapshot, report, locale),
        "address": report.address,
        "description": report.description,
        "asset": asset_ref(view.asset) if view.asset else None,
        "lat": view.lat,
        "lon": view.lon,
        "assigned_to": _person(view.assigned_to),
        "review_flags": list(report.review_flags or []),
        "approximate": approximate(report.review_flags),
        "reject_reason": report.reject_reason,
        "outcome": _outcome(report.status, report.reject_reason),
        "responsible": report.responsible,
        "reporter_not_fixed": report.reporter_reopens or 0,
        "duplicate_of": view.duplicate_of,
        "has_reporter_email": bool(report.reporter_email),
        "filed_by_desk": view.filed_by,  # {username, display_name}: filed for a caller
        "photos": photos,
        "history": [{"at": e.at, "actor": e.actor, "from_status": e.from_status,
                     "to_status": e.to_status, "public_note": e.public_note,
                     "internal_note": e.internal_note} for e in report.events],
        "notes": [{"at": n.at, "author": n.author, "text": n.text} for n in view.notes],
        "photo_log": [{"at": e.at, "actor": e.actor, "action": e.action,
                       "photo": (e.details or {}).get("photo")} for e in view.photo_log],
        "forwardings": view.forwardings,
        "actions": sorted(a.value for a in view.actions),
        "forward_targets": [{"code": d.code, "name": d.name.get(locale)}
                            for d in sorted(snapshot.departments_by_id.values(),
                                            key=lambda d: d.code)
                            if d.active and d.id != report.department_id]
        if "forward" in {a.value for a in view.actions} else [],
        "transitions": view.transitions,
    }


def asset_history_view(asset: AssetHit, reports: list[AssetReport], snapshot: CitySnapshot,
                       locale: str) -> dict[str, Any]:
    """An asset with the reports about it."""
    return {
        "asset": asset_ref(asset),
        "count": len(reports),
        "open_count": sum(1 for r in reports if Status(r.status) in OPEN_STATUSES),
        "reports": [{
            "id": r.public_id,
            "status": r.status,
            **_names(snapshot, r, locale),
            "created_at": r.created_at,
            "resolved_at": r.resolved_at,
            "closed_at": r.closed_at,
            "hours_to_fix": r.hours_to_fix,
        } for r in reports],
    }
