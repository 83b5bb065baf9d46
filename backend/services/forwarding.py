"""Open311 client: hand reports of departments with their own Open311 system on to it, and
bring the remote status back into our workflow (so reporters still get their updates).

The database records every forwarding and its state. A worker claims a due forwarding
(pending → sending, attempt counted, committed) before it talks to the remote system, sends
it with an `Idempotency-Key` that stays the same for that forwarding, and records the
outcome whatever happened. A worker killed in between leaves a `sending` row that
`recover_stale_claims` puts back; the repeated POST carries the same key, so the remote
system creates the request once. Failures back off with jitter; a system that keeps failing
gets its circuit opened (`destinations.circuits`): one probe per interval instead of one
POST per report; after the last attempt a forwarding is `failed`, for an admin to retry.
"""

from __future__ import annotations

import logging
import os
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from backend.models import Department, Forwarding, Report
from backend.models.base import utcnow
from backend.queue import JobQueue
from backend.services import workflow
from backend.services.destinations import backoff, circuits, keys, outbox
from backend.services.destinations.policy import DEFAULT_FORWARDING, RetryPolicy
from backend.workflow import OPEN_STATUSES, Actor, Status

log = logging.getLogger(__name__)

SEND_JOB = "workers.forwarding_jobs.send_forwarding"
PULL_JOB = "workers.forwarding_jobs.pull_open311_updates"
TIMEOUT_S = 10
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
PULL_BATCH = 50
DUE_BATCH = 500
# Far longer than a send can take (TIMEOUT_S): a claim this old belongs to a dead worker.
STALE_CLAIM = timedelta(minutes=5)
MAX_ERROR = 1000


def destination_key(department: Department | None) -> str | None:
    """The circuit key of a department's Open311 system (None: no usable URL)."""
    return keys.open311_key(_config(department) if department else None)


def create_missing(session: Session) -> int:
    """A pending forwarding for each report in a forwarding department that has none yet
    (new reports, and reports forwarded there by staff); commits; returns how many."""
    departments = {d.id: destination_key(d) for d in session.scalars(select(Department).where(
        Department.open311.is_not(None), Department.active))}
    if not departments:
        return 0
    now = utcnow()
    missing = select(Report.id, Report.department_id).where(
        Report.department_id.in_(sorted(departments)),
        Report.status.in_(sorted(s.value for s in OPEN_STATUSES)),
        ~select(Forwarding.id).where(and_(Forwarding.report_id == Report.id,
                                          Forwarding.department_id == Report.department_id)
                                     ).exists())
    rows = session.execute(missing).all()
    if rows:
        session.execute(insert(Forwarding), [
            {"report_id": r[0], "department_id": r[1], "state": PENDING, "attempts": 0,
             "next_attempt_at": now, "created_at": now, "destination": departments[r[1]]}
            for r in rows])
    session.commit()
    return len(rows)


def due_ids(session: Session, now: datetime | None = None, limit: int = DUE_BATCH) -> list[int]:
    """Forwardings whose (next) attempt is due; of a system whose circuit is open only one,
    and only when its probe is due."""
    now = now or utcnow()
    return outbox.due_ids(session, Forwarding.id, Forwarding.destination,
                          [Forwarding.state == PENDING, Forwarding.next_attempt_at <= now],
                          now, limit)


def enqueue_due(session: Session, jobs: JobQueue | None, *,
                stale_claim: timedelta = STALE_CLAIM) -> int:
    """Put back claims of dead workers (older than `stale_claim`), create what is missing,
    and hand the due forwardings to the workers."""
    recover_stale_claims(session, stale_claim)
    create_missing(session)
    ids = due_ids(session)
    session.commit()  # hold no transaction (SQLite: the write lock) while enqueueing
    if jobs is not None:
        jobs.submit_each(SEND_JOB, ids, "forward")
    return len(ids)


def recover_stale_claims(session: Session, older_than: timedelta = STALE_CLAIM) -> int:
    """Put back forwardings whose worker died while sending them (they go out again with the
    same Idempotency-Key, so the remote system does not create a second request)."""
    now = utcnow()
    result = session.execute(update(Forwarding).where(
        Forwarding.state == SENDING, Forwarding.claimed_at < now - older_than,
    ).values(state=PENDING, next_attempt_at=now))
    session.commit()
    return result.rowcount or 0


def _config(department: Department | None) -> dict[str, Any]:
    return (department.open311 if department else None) or {}


def _endpoint(config: dict[str, Any], path: str) -> str:
    return config["url"].rstrip("/") + path


def idempotency_key(forwarding_id: int, report_public_id: str) -> str:
    """The Idempotency-Key of every POST of one forwarding, first or repeated."""
    return f"forwarding-{forwarding_id}-{report_public_id}"


def claim(session: Session, forwarding_id: int, now: datetime | None = None) -> bool:
    """Take a due, pending forwarding for sending and count the attempt (committed before
    anything is sent); False when it is not due or someone else has it."""
    now = now or utcnow()
    result = session.execute(update(Forwarding).where(
        Forwarding.id == forwarding_id, Forwarding.state == PENDING,
        Forwarding.next_attempt_at <= now,
    ).values(state=SENDING, claimed_at=now, attempts=Forwarding.attempts + 1))
    session.commit()
    return result.rowcount == 1


def post_request(session: Session, forwarding_id: int,
                 http: requests.Session | None = None) -> str:
    """POST one forwarding's report to its department's system; the remote id, or raise."""
    row = session.get(Forwarding, forwarding_id, populate_existing=True)
    report = session.get(Report, row.report_id)
    config = _config(session.get(Department, row.department_id))
    lon, lat = session.execute(select(func.ST_X(Report.geom), func.ST_Y(Report.geom))
                               .where(Report.id == report.id)).one()
    category = report.category.code
    form = {
        "api_key": os.environ.get(config.get("api_key_env", ""), ""),
        "service_code": config.get("service_codes", {}).get(category, category),
        "lat": f"{lat:.6f}", "long": f"{lon:.6f}",
        "description": report.description or "",
        "address_string": report.address or "",
    }
    if config.get("jurisdiction_id"):
        form["jurisdiction_id"] = config["jurisdiction_id"]
    if config.get("send_contact") and report.reporter_email:
        form["email"] = report.reporter_email
    url = _endpoint(config, "/requests.json")
    headers = {"Idempotency-Key": idempotency_key(row.id, report.public_id)}
    session.commit()  # no transaction (SQLite: the write lock) while waiting for the network
    response = (http or requests).post(url, data=form, headers=headers, timeout=TIMEOUT_S)
    if response.status_code >= 400:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    answer = response.json()
    first = answer[0] if isinstance(answer, list) and answer else {}
    remote = first.get("service_request_id") or first.get("token")
    if not remote:
        raise RuntimeError(f"no service_request_id in the answer: {str(answer)[:300]}")
    return str(remote)


def send(session: Session, forwarding_id: int, http: requests.Session | None = None,
         policy: RetryPolicy = DEFAULT_FORWARDING, *,
         rand: backoff.Random = random.random) -> str:
    """Send one due forwarding unless its system's circuit is open (then it waits for the
    probe, no attempt counted); record the outcome whatever the error. Returns the state."""
    now = utcnow()
    row = session.get(Forwarding, forwarding_id, populate_existing=True)
    if row is None:
        return "gone"
    if row.state != PENDING or row.next_attempt_at > now:
        return row.state
    key = destination_key(session.get(Department, row.department_id))
    if key != row.destination:
        _relocate(session, row.department_id, key)
    if not circuits.may_send(session, key, policy, now):
        return _defer(session, forwarding_id, key, policy, now)
    if not claim(session, forwarding_id, now):
        return session.scalar(select(Forwarding.state).where(Forwarding.id == forwarding_id))
    try:
        remote = post_request(session, forwarding_id, http)
    except Exception as exc:  # noqa: BLE001 - any failure is one recorded attempt, no traceback
        session.rollback()
        return _record_failure(session, forwarding_id, key, f"{type(exc).__name__}: {exc}",
                               policy, rand)
    session.execute(update(Forwarding).where(Forwarding.id == forwarding_id).values(
        state=SENT, remote_id=remote, sent_at=utcnow(), last_error=None, failed_at=None))
    session.commit()
    circuits.record_success(session, key)
    return SENT


def _relocate(session: Session, department_id: int, key: str | None) -> None:
    """The department's system moved (its URL was edited): its waiting rows follow."""
    session.execute(update(Forwarding).where(
        Forwarding.department_id == department_id, Forwarding.state == PENDING,
    ).values(destination=key))
    session.commit()


def _defer(session: Session, forwarding_id: int, key: str | None, policy: RetryPolicy,
           now: datetime) -> str:
    """The circuit is open and the probe is someone else's: wait for the next probe."""
    at = circuits.next_probe_at(session, key) or now + policy.probe_interval
    session.execute(update(Forwarding).where(
        Forwarding.id == forwarding_id, Forwarding.state == PENDING,
    ).values(next_attempt_at=at))
    session.commit()
    return PENDING


def _record_failure(session: Session, forwarding_id: int, key: str | None, error: str,
                    policy: RetryPolicy, rand: backoff.Random) -> str:
    error = error[:MAX_ERROR]
    attempts = session.scalar(select(Forwarding.attempts).where(Forwarding.id == forwarding_id))
    now = utcnow()
    final = attempts >= policy.max_attempts
    values: dict[str, Any] = {"state": FAILED if final else PENDING, "last_error": error}
    if final:
        values["failed_at"] = now
    else:
        values["next_attempt_at"] = backoff.next_attempt_at(attempts, policy, now, rand)
    session.execute(update(Forwarding).where(Forwarding.id == forwarding_id,
                                             Forwarding.state == SENDING).values(**values))
    session.commit()
    circuits.record_failure(session, key, error, policy, now)
    if final:
        log.warning("forwarding %d failed after %d attempts: %s", forwarding_id, attempts,
                    error)
        return FAILED
    log.debug("forwarding %d: attempt %d failed: %s", forwarding_id, attempts, error)
    return PENDING


def pull_updates(session: Session, jobs: JobQueue | None = None,
                 http: requests.Session | None = None,
                 policy: RetryPolicy = DEFAULT_FORWARDING) -> int:
    """Ask each department's system for the status of our open forwarded reports; a remote
    `closed` resolves ours (with the remote notes), so the reporter hears of it. A system
    whose circuit is open is asked only when the probe is ours."""
    rows = list(session.scalars(select(Forwarding).join(Report, Report.id == Forwarding.report_id)
                                .where(Forwarding.state == SENT,
                                       Report.status.in_(sorted(s.value
                                                                for s in OPEN_STATUSES)))))
    by_department: dict[int, list[Forwarding]] = defaultdict(list)
    for row in rows:
        by_department[row.department_id].append(row)
    changed = 0
    for department_id, items in by_department.items():
        department = session.get(Department, department_id)
        changed += _pull_department(session, department, items, jobs, http, policy)
    return changed


def _pull_department(session: Session, department: Department, items: list[Forwarding],
                     jobs: JobQueue | None, http: requests.Session | None,
                     policy: RetryPolicy) -> int:
    config, key = _config(department), destination_key(department)
    if not circuits.may_send(session, key, policy):
        return 0
    changed = 0
    for start in range(0, len(items), PULL_BATCH):
        batch = {row.remote_id: row for row in items[start:start + PULL_BATCH]}
        params = {"service_request_id": ",".join(batch)}
        if config.get("jurisdiction_id"):
            params["jurisdiction_id"] = config["jurisdiction_id"]
        session.commit()  # no transaction while waiting for the network
        try:
            response = (http or requests).get(_endpoint(config, "/requests.json"),
                                              params=params, timeout=TIMEOUT_S)
            response.raise_for_status()
            remote = response.json()
        except Exception as exc:  # noqa: BLE001 - recorded on the rows and the circuit
            session.rollback()
            error = f"pull: {type(exc).__name__}: {exc}"[:MAX_ERROR]
            for row in batch.values():
                row.last_error = error
            session.commit()
            circuits.record_failure(session, key, error, policy)
            log.debug("pulling from %s failed: %s", department.code, error)
            return changed
        circuits.record_success(session, key)
        for item in remote if isinstance(remote, list) else []:
            row = batch.get(str(item.get("service_request_id")))
            if row is not None:
                changed += _apply(session, row, item, department, jobs)
    return changed


def _apply(session: Session, row: Forwarding, item: dict[str, Any], department: Department,
           jobs: JobQueue | None) -> int:
    status = item.get("status")
    row.synced_at, row.last_error = utcnow(), None
    if status == row.remote_status:
        session.commit()
        return 0
    row.remote_status = status
    report = session.get(Report, row.report_id)
    target = None
    if status == "closed":
        target = Status.RESOLVED
    elif status == "open" and report.status == Status.SUBMITTED.value:
        target = Status.ACKNOWLEDGED
    ids: list[int] = []
    if target is not None and target.value != report.status:
        note = (item.get("status_notes") or "").strip() or None
        change = workflow.StatusChange(target=target, actor=Actor.STAFF,
                                       actor_name=f"open311:{department.code}",
                                       public_note=note)
        _, ids = workflow.apply_status_change(session, report, change)
    session.commit()
    workflow.enqueue_deliveries(jobs, ids)
    return 1 if target is not None else 0


def forwarding_states(session: Session, report_id: int) -> list[dict[str, Any]]:
    """What staff see: where a report was forwarded, and how that went."""
    rows = session.execute(select(Forwarding, Department.code)
                           .join(Department, Department.id == Forwarding.department_id)
                           .where(Forwarding.report_id == report_id)
                           .order_by(Forwarding.id)).all()
    return [{"department": code, "state": row.state, "attempts": row.attempts,
             "last_error": row.last_error, "remote_id": row.remote_id,
             "remote_status": row.remote_status, "next_attempt_at": row.next_attempt_at,
             "synced_at": row.synced_at} for row, code in rows]
