"""Create reports (exactly once per idempotency key) and read them back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.db.report_insert import PublicIdTaken, insert_report
from backend.errors import Conflict, NotFound
from backend.media.imaging import InspectedPhoto
from backend.models import Report
from backend.models.base import utcnow
from backend.services.approximate import APPROXIMATE_LOCATION
from backend.services.assets.queries import AssetHit
from backend.services.assets.reporting import asset_for_report
from backend.services.city_cache import CitySnapshot, last_snapshot, snapshot_for_versions
from backend.services.photos import insert_photo_rows, photo_rows
from backend.services.public_views.render import Event, Fragments, ReportData, render
from backend.services.public_views.store import store
from backend.services.routing import RoutingDecision, active_category, route_report
from backend.tokens import (
    fingerprint,
    hash_token,
    new_public_id,
    new_salt,
    tracking_token,
)
from backend.workflow import INITIAL_STATUS
from geo.cells import h3_cells, metric_xy

MAX_ATTEMPTS = 5
REPORTER = "reporter"


@dataclass(frozen=True)
class NewReport:
    """A validated report as submitted by a citizen."""

    category: str
    lat: float
    lon: float
    description: str
    address: str | None = None
    email: str | None = None
    location_source: str | None = None
    photo_lat: float | None = None  # the photo's own GPS, read on the device
    photo_lon: float | None = None
    # From Open311 clients: private reporter details, category attribute values, the key.
    name: str | None = None
    phone: str | None = None
    attributes: dict[str, Any] | None = None
    api_key_id: int | None = None
    # The asset (traffic signal, sign post) the report is about: its point becomes the
    # report's location.
    asset_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (cheaper than dataclasses.asdict on the hot path)."""
        data = {"category": self.category, "lat": self.lat, "lon": self.lon,
                "description": self.description, "address": self.address, "email": self.email,
                "location_source": self.location_source, "photo_lat": self.photo_lat,
                "photo_lon": self.photo_lon}
        if self.name or self.phone or self.attributes:
            data.update(name=self.name, phone=self.phone, attributes=self.attributes)
        if self.asset_id is not None:  # absent otherwise: older fingerprints stay valid
            data["asset_id"] = self.asset_id
        return data


@dataclass(frozen=True)
class CreatedReport:
    """The stored report, the reporter's token, and whether this call created it."""

    report: Report | SimpleNamespace
    tracking_token: str
    created: bool
    lon: float
    lat: float
    snapshot: CitySnapshot
    photo_ids: list[int] = field(default_factory=list)
    photos: list[dict[str, Any]] = field(default_factory=list)  # rows, for the uploader only
    views: Fragments | None = None  # the public views, when this call rendered them


def _new_report_views(session: Session, report_id: int, values: dict[str, Any], lon: float,
                      lat: float, asset: AssetHit | None) -> Fragments:
    """Render and store the public views of a report just inserted (from what was inserted:
    no photo is ready yet, the history is its first entry)."""
    data = ReportData(
        id=report_id, public_id=values["public_id"], category_id=values["category_id"],
        department_id=values["department_id"], district_id=values["district_id"],
        status=values["status"], priority=values["priority"],
        description=values["description"], address=values["address"], lon=lon, lat=lat,
        created_at=values["created_at"], updated_at=values["updated_at"],
        due_at=values["due_at"], events=(Event(values["status"], values["created_at"], None),),
        asset=asset, approximate=APPROXIMATE_LOCATION in (values["review_flags"] or ()))
    views = render(data)
    store(session, [(report_id, views)])
    return views


def _existing_for_key(session: Session, key: str, request_fingerprint: str | None,
                      secret_key: str, snapshot: CitySnapshot) -> CreatedReport | None:
    row = session.execute(
        select(Report, func.ST_X(Report.geom), func.ST_Y(Report.geom))
        .where(Report.idempotency_key == key)
    ).first()
    if row is None:
        return None
    report = row[0]
    if report.request_fingerprint != request_fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different report.",
            {"Idempotency-Key": ["already used with a different request body"]},
        )
    return CreatedReport(
        report, tracking_token(secret_key, report.public_id, report.tracking_salt or ""), False,
        row[1], row[2], snapshot
    )


def cell_values(snapshot: CitySnapshot, lon: float, lat: float) -> dict[str, Any]:
    """The aggregation cells of a point (metric x/y, H3 resolution 10)."""
    x, y = metric_xy([lon], [lat], snapshot.metric_crs)
    return {"x_m": float(x[0]), "y_m": float(y[0]), "h3_r10": h3_cells([lon], [lat])[0]}


def _row_values(data: NewReport, decision: RoutingDecision, secret_key: str, key: str | None,
                request_fingerprint: str | None, locale: str, source: str,
                snapshot: CitySnapshot) -> dict[str, Any]:
    now = utcnow()
    public_id, salt = new_public_id(), new_salt()
    return {
        "public_id": public_id,
        "tracking_salt": salt,
        "tracking_token_hash": hash_token(tracking_token(secret_key, public_id, salt)),
        "category_id": decision.category.id,
        "description": data.description,
        "address": data.address,
        "district_id": decision.district.id,
        "department_id": decision.department.id,
        "status": INITIAL_STATUS.value,
        "priority": decision.priority,
        "reporter_email": data.email,
        "reporter_name": data.name,
        "reporter_phone": data.phone,
        "attributes": data.attributes or None,
        "api_key_id": data.api_key_id,
        "asset_id": data.asset_id,
        "reporter_locale": locale,
        "idempotency_key": key,
        "request_fingerprint": request_fingerprint,
        "source": source,
        "created_at": now,
        "updated_at": now,
        "due_at": snapshot.due_at(decision.priority, now),
        **cell_values(snapshot, data.lon, data.lat),
    }


def _stored(report_id: int, values: dict[str, Any], actor: str) -> SimpleNamespace:
    """The just-inserted report as a plain object with the model's attribute names.

    Shown without re-reading it; plain rather than a detached model instance because ORM
    instrumentation is a noticeable share of the intake's time.
    """
    event = SimpleNamespace(
        report_id=report_id, at=values["created_at"], actor=actor, from_status=None,
        to_status=values["status"], public_note=None, internal_note=None,
    )
    return SimpleNamespace(id=report_id, events=[event], photos=[], **values)


def create_report(session: Session, data: NewReport, *, secret_key: str,
                  idempotency_key: str | None = None, locale: str = "de",
                  source: str = "api", snapshot: CitySnapshot | None = None,
                  photos: Sequence[InspectedPhoto] = (),
                  review_flags: Callable[[float, float], list[str]] | None = None
                  ) -> CreatedReport:
    """Route and store a report (with its photo rows); a repeated idempotency key returns the
    first report.

    Routing uses the process's snapshot of the city; the insert checks in the same statement
    that the snapshot is still current, and on a change the report is routed again.
    With an `asset_id` the asset must be active and of a type tied to the category's group;
    the report is placed at the asset's point (and routed by it).
    `review_flags(lon, lat)` gives the reasons for staff to look twice at the report placed
    there (after snapping: a photo is compared with where the report ends up).
    """
    request_fingerprint = None
    if idempotency_key:
        payload = data.as_dict()
        if photos:
            payload["photos"] = [photo.sha256 for photo in photos]
        request_fingerprint = fingerprint(payload)
    snap = snapshot or last_snapshot(session)
    asset = None
    if data.asset_id is not None:
        group = active_category(snap, data.category).group.code
        asset = asset_for_report(session, data.asset_id, group)
        data = replace(data, lon=asset.lon, lat=asset.lat)
    for _attempt in range(MAX_ATTEMPTS):
        decision = route_report(snap, data.category, data.lon, data.lat)
        values = _row_values(
            data, decision, secret_key, idempotency_key, request_fingerprint, locale, source,
            snap,
        )
        flags = list(review_flags(data.lon, data.lat)) if review_flags else []
        if data.location_source == "district":
            flags.append(APPROXIMATE_LOCATION)
        values["review_flags"] = flags or None
        photo_ids: list[int] = []
        rows: list[dict[str, Any]] = []
        try:
            outcome = insert_report(
                session.connection(), values, data.lon, data.lat, snap.versions, REPORTER
            )
            if outcome.report_id is not None and photos:
                rows = photo_rows(outcome.report_id, photos, 0)
                photo_ids = insert_photo_rows(session, rows)
            if outcome.report_id is not None:
                views = _new_report_views(session, outcome.report_id, values, data.lon,
                                          data.lat, asset)
        except (PublicIdTaken, IntegrityError):
            # A random public id (of the report or a photo) collided: draw new ones.
            session.rollback()
            continue
        if outcome.report_id is not None:
            session.commit()
            return CreatedReport(
                _stored(outcome.report_id, values, REPORTER),
                tracking_token(secret_key, values["public_id"], values["tracking_salt"]),
                True, data.lon, data.lat,
                snap, photo_ids, rows, views,
            )
        session.rollback()
        if outcome.versions != snap.versions:
            snap = snapshot_for_versions(session, outcome.versions)
            continue
        existing = _existing_for_key(session, idempotency_key or "", request_fingerprint,
                                     secret_key, snap)
        if existing is not None:
            return existing
    raise RuntimeError("could not store the report after several attempts")


def get_report(session: Session, public_id: str) -> tuple[Report, float, float]:
    """A report by its public id, with its lon/lat."""
    row = session.execute(
        select(Report, func.ST_X(Report.geom), func.ST_Y(Report.geom))
        .where(Report.public_id == public_id)
    ).first()
    if row is None:
        raise NotFound("No report with this id.", {"id": ["not found"]})
    return row[0], row[1], row[2]


def get_report_by_token(session: Session, tracking_token: str) -> tuple[Report, float, float]:
    """The reporter's own report, found by the hash of their tracking token."""
    row = session.execute(
        select(Report, func.ST_X(Report.geom), func.ST_Y(Report.geom))
        .where(Report.tracking_token_hash == hash_token(tracking_token))
    ).first()
    if row is None:
        raise NotFound("No report with this tracking token.", {"token": ["not found"]})
    return row[0], row[1], row[2]
