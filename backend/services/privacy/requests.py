"""Access and erasure requests (GDPR Art. 15 and 17), by e-mail address."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.media.storage import PhotoStorage
from backend.models import AuditEntry, PushSubscription, Recipient, Report
from backend.models.base import utcnow
from backend.services.privacy.ledger import ErasureLedger, normalise
from backend.services.privacy.scrub import Removed, scrub


def _by_email(session: Session, email: str) -> tuple[list[Report], list[Recipient]]:
    address = normalise(email)
    # Exact, case-insensitive comparison (not LIKE: `_` and `%` are valid in addresses).
    reports = list(session.scalars(select(Report).where(
        func.lower(Report.reporter_email) == address).order_by(Report.id)))
    recipients = list(session.scalars(select(Recipient).where(
        func.lower(Recipient.email) == address).order_by(Recipient.id)))
    return reports, recipients


def export(session: Session, email: str) -> dict[str, Any]:
    """Everything stored about an e-mail address (access request)."""
    reports, recipients = _by_email(session, email)
    followed = {r.report_id for r in recipients if r.role != "reporter"}
    public_ids = dict(session.execute(select(Report.id, Report.public_id).where(
        Report.id.in_({r.report_id for r in recipients} | {r.id for r in reports}))).all())
    subscriptions = list(session.scalars(select(PushSubscription).where(
        PushSubscription.recipient_id.in_([r.id for r in recipients]))))
    return {
        "email": email,
        "reports": [{
            "id": r.public_id, "created_at": r.created_at.isoformat(),
            "status": r.status, "description": r.description, "address": r.address,
            "name": r.reporter_name, "phone": r.reporter_phone, "attributes": r.attributes,
            "photos": [p.public_id for p in r.photos],
        } for r in reports],
        "following": sorted(public_ids[i] for i in followed if i in public_ids),
        "notifications": {
            "email_subscriptions": [{"report": public_ids.get(r.report_id), "role": r.role,
                                     "unsubscribed": r.email_unsubscribed_at is not None}
                                    for r in recipients],
            "push_subscriptions": len([s for s in subscriptions if s.removed_at is None]),
        },
    }


def erase_rows(session: Session, storage: PhotoStorage, report_ids: list[int],
               recipient_ids: list[int]) -> Removed:
    """Remove the personal data of these reports (with their reporters' subscriptions) and
    of these recipients (no commit)."""
    reporters = list(session.scalars(select(Recipient.id).where(
        Recipient.report_id.in_(report_ids), Recipient.role == "reporter"))) if report_ids else []
    removed = Removed(report_ids=list(report_ids))
    scrub(session, storage, list(report_ids), sorted({*recipient_ids, *reporters}), removed)
    return removed


def record_erasure(session: Session, action: str, address: str, removed: Removed,
                   ledger_id: str) -> None:
    """Add the audit entry of an erasure: a hash prefix of the address, never the address."""
    digest = hashlib.sha256(normalise(address).encode()).hexdigest()[:16]
    session.add(AuditEntry(at=utcnow(), user_id=None, actor="privacy", action=action,
                           details={"email_sha256_16": digest,
                                    "reports": len(removed.report_ids),
                                    "addresses": removed.addresses, "ledger_id": ledger_id}))


def erase(session: Session, storage: PhotoStorage, email: str, *,
          ledger: ErasureLedger) -> Removed:
    """Remove an e-mail address and everything that identifies its owner (erasure request,
    commits); the reports stay, anonymised. The audit log keeps only a hash of the address;
    the erasure ledger a keyed hash, so that the erasure survives restoring an older backup."""
    reports, recipients = _by_email(session, email)
    # In the ledger before anything changes, stamped after the rows were found: every report
    # erased here is older than the entry, as `reapply_erasures` expects after a restore.
    entry = ledger.append(email)
    removed = erase_rows(session, storage, [r.id for r in reports],
                         [r.id for r in recipients])
    record_erasure(session, "erase", email, removed, entry.id)
    session.commit()
    return removed
