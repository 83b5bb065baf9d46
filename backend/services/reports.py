"""Create reports (exactly once per idempotency key) and read them back."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from geoalchemy2 import WKTElement
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import Conflict, NotFound
from backend.models import Report, ReportEvent
from backend.models.base import utcnow
from backend.services.city_cache import city_snapshot
from backend.services.routing import RoutingDecision, route_report
from backend.tokens import (
    derived_tracking_token,
    fingerprint,
    hash_token,
    new_public_id,
    new_tracking_token,
)
from backend.workflow import INITIAL_STATUS

MAX_ID_ATTEMPTS = 5


@dataclass(frozen=True)
class NewReport:
    """A validated report as submitted by a citizen."""

    category: str
    lat: float
    lon: float
    description: str
    address: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class CreatedReport:
    """The stored report, the reporter's token, and whether this call created it."""

    report: Report
    tracking_token: str
    created: bool
    lon: float
    lat: float


def _existing_for_key(session: Session, key: str, request_fingerprint: str, secret_key: str
                      ) -> CreatedReport | None:
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
    return CreatedReport(report, derived_tracking_token(secret_key, key), False, row[1], row[2])


def _new_row(data: NewReport, decision: RoutingDecision, token: str, key: str | None,
             request_fingerprint: str | None, locale: str, source: str) -> Report:
    now = utcnow()
    report = Report(
        public_id=new_public_id(),
        tracking_token_hash=hash_token(token),
        category_id=decision.category.id,
        description=data.description,
        geom=WKTElement(f"POINT({data.lon!r} {data.lat!r})", srid=4326),
        address=data.address,
        district_id=decision.district.id,
        department_id=decision.department.id,
        status=INITIAL_STATUS.value,
        priority=decision.priority,
        reporter_email=data.email,
        reporter_locale=locale,
        idempotency_key=key,
        request_fingerprint=request_fingerprint,
        source=source,
        created_at=now,
        updated_at=now,
    )
    report.events.append(ReportEvent(
        at=now, actor="reporter", from_status=None, to_status=INITIAL_STATUS.value,
    ))
    return report


def create_report(session: Session, data: NewReport, *, secret_key: str,
                  idempotency_key: str | None = None, locale: str = "de",
                  source: str = "api") -> CreatedReport:
    """Route and store a report; a repeated idempotency key returns the first report."""
    request_fingerprint = fingerprint(asdict(data)) if idempotency_key else None
    for _attempt in range(MAX_ID_ATTEMPTS):
        if idempotency_key:
            existing = _existing_for_key(
                session, idempotency_key, request_fingerprint, secret_key
            )
            if existing is not None:
                return existing
            token = derived_tracking_token(secret_key, idempotency_key)
        else:
            token = new_tracking_token()
        decision = route_report(city_snapshot(session), data.category, data.lon, data.lat)
        report = _new_row(
            data, decision, token, idempotency_key, request_fingerprint, locale, source
        )
        session.add(report)
        try:
            session.commit()
        except IntegrityError:
            # Either a concurrent retry with the same key won the race (found on the next
            # pass) or the random public id collided (a new one is drawn on the next pass).
            session.rollback()
            continue
        return CreatedReport(report, token, True, data.lon, data.lat)
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
