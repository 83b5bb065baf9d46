"""File a report for a caller (hotline, counter, no smartphone): routed like a citizen's,
marked `source = 'desk'`, audited as `report_on_behalf`, and confirmed to the caller by
e-mail when they gave an address. The slip's short code opens the tracking link."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models import AuditEntry, Notification, Report, ReportEvent, StaffUser
from backend.models.base import utcnow
from backend.permissions import require_desk_reporting
from backend.queue import JobQueue
from backend.services import recipients as recipient_service
from backend.services import reports, workflow
from backend.services.city_cache import CitySnapshot
from backend.tokens import PUBLIC_ID_ALPHABET, signed_value, tracking_token

DESK = "desk"
ON_BEHALF = "report_on_behalf"
PIN_LENGTH = 8  # 40 bits from our secret: with the redeem limit, not guessable


@dataclass(frozen=True)
class FiledReport:
    """The caller's report, their tracking token and slip code, whether this call filed it."""

    report_id: int
    public_id: str
    tracking_token: str
    slip_code: str
    created: bool


def slip_pin(secret_key: str, public_id: str, salt: str) -> str:
    """The PIN printed next to the report number (derived, never stored)."""
    digest = signed_value(secret_key, f"slip:{public_id}:{salt}")
    number = int.from_bytes(digest.encode())
    chars = []
    for _ in range(PIN_LENGTH):
        number, index = divmod(number, len(PUBLIC_ID_ALPHABET))
        chars.append(PUBLIC_ID_ALPHABET[index])
    return "".join(chars)


def slip_code(secret_key: str, public_id: str, salt: str) -> str:
    """The short code on the slip: report number and PIN, e.g. `k7p3xr9q-4mzt8c2h`."""
    return f"{public_id}-{slip_pin(secret_key, public_id, salt)}"


def file_for_caller(session: Session, user: StaffUser, data: reports.NewReport, *,
                    secret_key: str, locale: str, idempotency_key: str | None,
                    jobs: JobQueue | None, snapshot: CitySnapshot | None = None
                    ) -> FiledReport:
    """Authorize, then store the report exactly like a citizen's (same routing) with
    `source = 'desk'`; in a second transaction the audit entry and, for a caller's e-mail, the
    confirmation with the tracking link. A retried request (same person, same key) returns
    the first report and completes whatever of the second step is missing."""
    require_desk_reporting(user)
    # Staff keys are per person and never meet a citizen's key in the unique index.
    key = f"desk:{user.id}:{idempotency_key}" if idempotency_key else None
    result = reports.create_report(session, data, secret_key=secret_key, idempotency_key=key,
                                   locale=locale, source=DESK, snapshot=snapshot)
    report_id, public_id = result.report.id, result.report.public_id
    notification_ids: list[int] = []
    audited = session.scalar(select(AuditEntry.id).where(
        AuditEntry.report_id == report_id, AuditEntry.action == ON_BEHALF))
    if audited is None:
        session.add(AuditEntry(
            at=result.report.created_at, user_id=user.id, actor=user.username,
            action=ON_BEHALF, report_id=report_id, details={
                "category": data.category, "caller_email": bool(data.email),
                "caller_phone": bool(data.phone), "caller_name": bool(data.name),
                "locale": locale}, idempotency_key=None))
        if data.email:
            notification_ids = _confirmation(session, report_id)
        session.commit()
    workflow.enqueue_deliveries(jobs, notification_ids)
    salt = result.report.tracking_salt or ""
    return FiledReport(report_id, public_id, result.tracking_token,
                       slip_code(secret_key, public_id, salt), result.created)


def _confirmation(session: Session, report_id: int) -> list[int]:
    """The caller's 'we have received your report' e-mail (with the tracking link), queued
    as an outbox row of the report's first event, like any status notification."""
    report = session.get(Report, report_id)
    event = session.scalar(select(ReportEvent).where(ReportEvent.report_id == report_id)
                           .order_by(ReportEvent.id).limit(1))
    if report is None or event is None:
        return []
    recipient = recipient_service.reporter_recipient(session, report)
    now = utcnow()
    row = Notification(report_id=report.id, event_id=event.id, recipient_id=recipient.id,
                       channel="email", push_subscription_id=None, status="pending",
                       attempts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    session.flush()
    return [row.id]


def filed_by(session: Session, report: Report) -> dict[str, str] | None:
    """Who at the service desk filed a report (staff views only), None for a citizen's."""
    if report.source != DESK:
        return None
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.report_id == report.id, AuditEntry.action == ON_BEHALF).limit(1))
    person = session.get(StaffUser, entry.user_id) if entry and entry.user_id else None
    return {"username": entry.actor if entry else "",
            "display_name": person.display_name if person else ""}


def redeem_slip_code(session: Session, secret_key: str, code: str) -> tuple[str, str]:
    """The report number and tracking token a slip's code stands for (desk reports only);
    a wrong code is 404 like an unknown one (the caller rate-limits the attempts)."""
    public_id, _, pin = code.strip().lower().replace(" ", "").partition("-")
    report = session.scalar(select(Report).where(Report.public_id == public_id,
                                                 Report.source == DESK))
    if report is None or not report.tracking_salt or not hmac.compare_digest(
            pin, slip_pin(secret_key, public_id, report.tracking_salt)):
        raise NotFound("No report with this code.", {"code": ["not found"]})
    return public_id, tracking_token(secret_key, public_id, report.tracking_salt)
