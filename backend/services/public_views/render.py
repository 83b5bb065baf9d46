"""A report's public data → its JSON fragments (with markers; see `markers`).

This is the only place the public JSON of a report is built: the map feature, the report page
(also the reporter's tracking view and the answer to a new report) and the Open311 request.
Views are built directly (no schema dump: a bulk rendering does this for every report); tests
check each against its output schema's own dump, the contract the OpenAPI document states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.api.asset_schemas import asset_ref
from backend.jsonout import safe_json
from backend.services.assets.queries import AssetHit
from backend.services.public_views.markers import BASE, finish, fold, value
from backend.workflow import OPEN311_STATE, OPEN_STATUSES, Outcome, Status


@dataclass(frozen=True)
class PhotoFile:
    """One derivative of a ready photo (never the original)."""

    name: str  # display | thumb
    format: str  # jpeg | webp
    width: int
    height: int
    sha256: str


@dataclass(frozen=True)
class PublicPhoto:
    """A ready photo and its files, in file order."""

    public_id: str
    files: tuple[PhotoFile, ...]
    kind: str = "report"  # report (the reporter's) | after (the crew's, once fixed)


@dataclass(frozen=True)
class Event:
    """One history entry."""

    to_status: str
    at: datetime
    public_note: str | None


@dataclass(frozen=True)
class ReportData:
    """Everything public about a report (ids where the city's configuration names things)."""

    id: int
    public_id: str
    category_id: int
    department_id: int
    district_id: int | None
    status: str
    priority: str
    description: str
    address: str | None
    lon: float
    lat: float
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    events: tuple[Event, ...] = ()
    photos: tuple[PublicPhoto, ...] = field(default=())  # ready ones, by position
    asset: AssetHit | None = None  # the asset the report points at
    approximate: bool = False  # placed only by district (no map, no address)
    outcome: Outcome | None = None  # how it ended (None while open)
    responsible: tuple[str, str | None] | None = None  # not ours: (name, link) of who is


@dataclass(frozen=True)
class Fragments:
    """The rendered views of one report (UTF-8 JSON with markers)."""

    feature: bytes
    detail: bytes
    open311: bytes
    open311_ext: bytes


def photo_path(sha256: str, fmt: str) -> str:
    """The path of a derivative under the base URL."""
    return f"/media/photos/{sha256}.{'jpg' if fmt == 'jpeg' else fmt}"


def report_path(public_id: str) -> str:
    """The path of a report's public API view."""
    return f"/api/v1/reports/{public_id}"


def _photo_view(photo: PublicPhoto) -> dict[str, Any]:
    sizes: dict[str, dict[str, Any]] = {}
    for f in photo.files:
        size = sizes.setdefault(f.name, {"width": f.width, "height": f.height})
        size[f.format] = BASE + photo_path(f.sha256, f.format)
    return {"id": photo.public_id, "kind": photo.kind, "display": sizes.get("display"),
            "thumb": sizes.get("thumb")}


def _first_file(report: ReportData, name: str) -> str | None:
    for photo in report.photos:
        for f in photo.files:
            if f.name == name and f.format == "jpeg":
                return BASE + photo_path(f.sha256, "jpeg")
    return None


def _display(photo: PublicPhoto) -> str | None:
    files = [f for f in photo.files if f.name == "display" and f.format == "jpeg"]
    return BASE + photo_path(files[0].sha256, "jpeg") if files else None


def _asset(report: ReportData) -> dict[str, Any] | None:
    # The one representation of an asset (AssetRefSchema); register data, no user text.
    return asset_ref(report.asset) if report.asset is not None else None


def _iso(value: datetime) -> str:
    return value.isoformat()  # what the output schemas' DateTime fields write


def _expected(report: ReportData) -> str | None:
    """The service-level date while the report is open (readers mark it overdue once past:
    a stored view cannot know the time it is read at)."""
    if report.due_at is None or Status(report.status) not in OPEN_STATUSES:
        return None
    return _iso(report.due_at)


def _responsible(report: ReportData) -> dict[str, str | None] | None:
    if report.responsible is None:
        return None
    return {"name": report.responsible[0], "url": report.responsible[1]}


def _status_notes(report: ReportData) -> str | None:
    """Open311's status_notes: the last public note, and who is responsible instead."""
    notes = [e.public_note for e in report.events if e.public_note]
    text = notes[-1] if notes else None
    if report.responsible is not None:
        name, url = report.responsible
        who = f"{name} ({url})" if url else name
        text = f"{text} — {who}" if text else who
    return text


def feature(report: ReportData) -> bytes:
    """The map's GeoJSON Feature (ReportFeatureSchema, built directly: this runs for every
    report of a bulk rendering; tests check it against the schema's own dump)."""
    status = Status(report.status)
    properties = {
        "id": report.public_id,
        "url": BASE + report_path(report.public_id),
        "category": value("cc", report.category_id),
        "category_name": value("cn", report.category_id),
        "group": value("cg", report.category_id),
        "status": report.status,
        "open311_status": OPEN311_STATE[status],
        "priority": report.priority,
        "district": value("dn", report.district_id) if report.district_id is not None else None,
        "created_at": _iso(report.created_at),
        "updated_at": _iso(report.updated_at),
        "asset": _asset(report),
        "approximate": report.approximate,
        "outcome": report.outcome.value if report.outcome else None,
        "expected_at": _expected(report),
        "thumb": _first_file(report, "thumb"),
    }
    return fold(finish(safe_json({
        "type": "Feature",
        "id": report.public_id,
        "geometry": {"type": "Point", "coordinates": [float(report.lon), float(report.lat)]},
        "properties": properties,
    })))


def detail(report: ReportData) -> bytes:
    """The report page: what anyone may see of a report (ReportSchema, built directly)."""
    status = Status(report.status)
    district = report.district_id
    return finish(safe_json({
        "id": report.public_id,
        "url": BASE + report_path(report.public_id),
        "category": value("cd", report.category_id),
        "description": report.description,
        "address": report.address,
        "location": {"lat": float(report.lat), "lon": float(report.lon)},
        "district": value("dd", district) if district is not None else None,
        "department": value("pd", report.department_id),
        "status": report.status,
        "open311_status": OPEN311_STATE[status],
        "priority": report.priority,
        "created_at": _iso(report.created_at),
        "updated_at": _iso(report.updated_at),
        "history": [{"status": e.to_status, "at": _iso(e.at), "note": e.public_note}
                    for e in report.events],
        "photos": [_photo_view(p) for p in report.photos],
        "asset": _asset(report),
        "approximate": report.approximate,
        "outcome": report.outcome.value if report.outcome else None,
        "responsible": _responsible(report),
        "expected_at": _expected(report),
    }))


def open311(report: ReportData) -> tuple[bytes, bytes]:
    """The GeoReport v2 service request, and its `extended_attributes` (extensions=true)."""
    status = Status(report.status)
    media = [_display(p) for p in report.photos]
    view: dict[str, Any] = {
        "service_request_id": report.public_id,
        "status": OPEN311_STATE[status],
        "status_notes": _status_notes(report),
        "service_name": value("cn", report.category_id),
        "service_code": value("cc", report.category_id),
        "description": report.description,
        "agency_responsible": value("an", report.department_id),
        "service_notice": None,
        "requested_datetime": report.created_at.isoformat(timespec="seconds"),
        "updated_datetime": report.updated_at.isoformat(timespec="seconds"),
        "expected_datetime": report.due_at.isoformat(timespec="seconds")
        if report.due_at and status in OPEN_STATUSES else None,
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": media[0] if media else None,
    }
    district = report.district_id
    extended = {
        "detailed_status": report.status,
        "district": value("xn", district) if district is not None else None,
        "district_name": value("xm", district) if district is not None else None,
        "department": value("ac", report.department_id),
        "media_urls": media,
        # Our extension: the asset the request is about (the API's one representation).
        "asset": _asset(report),
        # Our extension: the point is only the chosen district's (the address/description
        # says where); standard clients see an ordinary lat/long.
        "approximate": report.approximate,
        # Our extension: how it ended (fixed, not_fixed, not_responsible, duplicate) and,
        # when it is not the city's, who is responsible.
        "outcome": report.outcome.value if report.outcome else None,
        "responsible": _responsible(report),
    }
    return finish(safe_json(view)), finish(safe_json(extended))


def render(report: ReportData) -> Fragments:
    """All views of one report."""
    request, extended = open311(report)
    return Fragments(feature(report), detail(report), request, extended)


def with_extensions(request: bytes, extended: bytes) -> bytes:
    """An Open311 request with its `extended_attributes` (the last member)."""
    return request[:-1] + b',"extended_attributes":' + extended + b"}"


def with_distance(feature: bytes, distance_m: float, same_asset: bool | None = None) -> bytes:
    """A map feature with `distance_m` (nearby results) and, when given, `same_asset`, where
    the schema orders them: just before `thumb`, the last property (a feature holds no user
    text, and a string's quotes are escaped, so the match is exact)."""
    at = feature.rindex(b',"thumb":')
    added = b',"distance_m":' + safe_json(round(float(distance_m), 1))
    if same_asset is not None:
        added += b',"same_asset":' + (b"true" if same_asset else b"false")
    return feature[:at] + added + feature[at:]
