"""Erasures repeated from the ledger: after an older database backup was restored, the data
of everyone who asked for erasure since then is back, and goes again."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from backend.media.storage import PhotoStorage
from backend.models import AuditEntry, Recipient, Report
from backend.services.privacy.ledger import ErasureLedger, LedgerEntry, LedgerError, normalise
from backend.services.privacy.requests import erase_rows, record_erasure

log = logging.getLogger(__name__)
BATCH = 500  # addresses per IN (…) list


@dataclass
class Reapplied:
    """What re-applying the ledger removed again."""

    entries: int = 0  # lines in the ledger
    erasures: int = 0  # addresses (ledger keys) whose data was found again
    reports: int = 0
    addresses: int = 0
    subscriptions: int = 0
    originals: int = 0


def reapply_erasures(session: Session, storage: PhotoStorage,
                     ledger: ErasureLedger) -> Reapplied:
    """Erase again, as `erase` does, what each ledger entry's address had stored before the
    entry's time: reports and recipients created later stay (commits; idempotent). A ledger
    that is unreadable, or lacks an erasure the database records, raises `LedgerError`
    before anything changes."""
    entries = ledger.read()
    _check_complete(session, ledger, entries)
    result = Reapplied(entries=len(entries))
    if not entries:
        log.info("erasure ledger: empty")
        return result
    cutoffs: dict[str, tuple[datetime, str]] = {}  # key → (latest erasure, its entry id)
    for entry in entries:
        if entry.key not in cutoffs or entry.at > cutoffs[entry.key][0]:
            cutoffs[entry.key] = (entry.at, entry.id)
    addresses: dict[str, str] = {}
    reports = _erased_rows(session, ledger, cutoffs, addresses, Report.id,
                           Report.reporter_email, Report.created_at)
    recipients = _erased_rows(session, ledger, cutoffs, addresses, Recipient.id,
                              Recipient.email, Recipient.created_at)
    for key in sorted(reports.keys() | recipients.keys()):
        removed = erase_rows(session, storage, reports.get(key, []), recipients.get(key, []))
        record_erasure(session, "erase-reapplied", addresses[key], removed, cutoffs[key][1])
        result.erasures += 1
        result.reports += len(removed.report_ids)
        result.addresses += removed.addresses
        result.subscriptions += removed.subscriptions
        result.originals += removed.originals
    session.commit()
    log.info("erasure ledger: %d erasure(s) re-applied to %d report(s)",
             result.erasures, result.reports)
    return result


def _erased_rows(session: Session, ledger: ErasureLedger,
                 cutoffs: dict[str, tuple[datetime, str]], addresses: dict[str, str],
                 row_id: InstrumentedAttribute, email: InstrumentedAttribute,
                 created_at: InstrumentedAttribute) -> dict[str, list[int]]:
    """Ids of rows whose address is in the ledger and that were created before its latest
    erasure, by ledger key. Hashes each distinct stored address once (one pass), then reads
    only the rows of erased addresses."""
    erased: dict[str, str] = {}  # stored value → key
    stored = select(email).where(email.is_not(None)).distinct()
    for value in session.scalars(stored.execution_options(yield_per=10_000)):
        key = ledger.key(value)
        if key in cutoffs:
            erased[value] = key
            addresses[key] = normalise(value)
    found: dict[str, list[int]] = {}
    values = sorted(erased)
    for start in range(0, len(values), BATCH):
        rows = session.execute(select(row_id, email, created_at).where(
            email.in_(values[start:start + BATCH])).order_by(row_id))
        for ident, value, created in rows:
            key = erased[value]
            if created < cutoffs[key][0]:
                found.setdefault(key, []).append(ident)
    return found


def _check_complete(session: Session, ledger: ErasureLedger,
                    entries: Iterable[LedgerEntry]) -> None:
    """Every erasure the database records must be in the ledger; if not, this is an older
    copy of it or the wrong file, and erasures since would silently stay undone."""
    ids = {entry.id for entry in entries}
    missing = sum(
        1 for details in session.scalars(select(AuditEntry.details).where(
            AuditEntry.actor == "privacy", AuditEntry.action == "erase"))
        if details and details.get("ledger_id") and details["ledger_id"] not in ids)
    if missing:
        raise LedgerError(
            f"The database records {missing} erasure(s) that the erasure ledger {ledger.path} "
            "lacks: it is an older copy or not this installation's (MM_ERASURE_LEDGER); "
            "nothing was changed. Put the newest ledger there.", {"missing": missing})
