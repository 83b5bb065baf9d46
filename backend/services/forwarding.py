"""Open311 client: hand reports of departments with their own Open311 system on to it, and
bring the remote status back into our workflow (so reporters still get their updates).

The database records every forwarding and its state; workers send what is due (with
backoff on failure, visible to staff) and pull remote statuses periodically. Sending is
idempotent per (report, department): a row is sent until the remote id is stored.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from datetime import timedelta
from typing import Any

import requests
from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from backend.models import Department, Forwarding, Report
from backend.models.base import utcnow
from backend.queue import JobQueue
from backend.services import workflow
from backend.workflow import OPEN_STATUSES, Actor, Status

log = logging.getLogger(__name__)

SEND_JOB = "workers.forwarding_jobs.send_forwarding"
PULL_JOB = "workers.forwarding_jobs.pull_open311_updates"
TIMEOUT_S = 10
PENDING, SENT = "pending", "sent"
MAX_BACKOFF = timedelta(hours=1)
PULL_BATCH = 50


def _backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=30 * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def create_missing(session: Session) -> int:
    """A pending forwarding for each report in a forwarding department that has none yet
    (new reports, and reports forwarded there by staff); commits; returns how many."""
    departments = [d.id for d in session.scalars(select(Department).where(
        Department.open311.is_not(None), Department.active))]
    if not departments:
        return 0
    now = utcnow()
    missing = select(Report.id, Report.department_id).where(
        Report.department_id.in_(departments),
        Report.status.in_(sorted(s.value for s in OPEN_STATUSES)),
        ~select(Forwarding.id).where(and_(Forwarding.report_id == Report.id,
                                          Forwarding.department_id == Report.department_id)
                                     ).exists())
    rows = session.execute(missing).all()
    if rows:
        session.execute(insert(Forwarding), [
            {"report_id": r[0], "department_id": r[1], "state": PENDING, "attempts": 0,
             "next_attempt_at": now, "created_at": now} for r in rows])
    session.commit()
    return len(rows)


def due_ids(session: Session) -> list[int]:
    """Forwardings whose (next) attempt is due."""
    return list(session.scalars(select(Forwarding.id).where(
        Forwarding.state == PENDING, Forwarding.next_attempt_at <= utcnow())
        .order_by(Forwarding.id).limit(500)))


def enqueue_due(session: Session, jobs: JobQueue | None) -> int:
    """Create what is missing and hand the due forwardings to the workers."""
    create_missing(session)
    ids = due_ids(session)
    if jobs is not None:
        jobs.submit_each(SEND_JOB, ids, "forward")
    return len(ids)


def _config(department: Department) -> dict[str, Any]:
    return department.open311 or {}


def _endpoint(config: dict[str, Any], path: str) -> str:
    return config["url"].rstrip("/") + path


def send(session: Session, forwarding_id: int, http: requests.Session | None = None) -> str:
    """POST the report to the department's Open311 system; store the remote id, or the
    error and when to try again. Returns the new state."""
    row = session.get(Forwarding, forwarding_id)
    if row is None or row.state != PENDING:
        return row.state if row else "gone"
    report = session.get(Report, row.report_id)
    department = session.get(Department, row.department_id)
    config = _config(department)
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
    row.attempts += 1
    try:
        response = (http or requests).post(_endpoint(config, "/requests.json"), data=form,
                                           timeout=TIMEOUT_S)
        if response.status_code >= 400:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
        answer = response.json()
        first = answer[0] if isinstance(answer, list) and answer else {}
        remote = first.get("service_request_id") or first.get("token")
        if not remote:
            raise RuntimeError(f"no service_request_id in the answer: {str(answer)[:300]}")
    except (requests.RequestException, RuntimeError, ValueError) as exc:
        row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        row.next_attempt_at = utcnow() + _backoff(row.attempts)
        session.commit()
        log.warning("forwarding %s failed (attempt %d): %s", row.id, row.attempts,
                    row.last_error)
        return PENDING
    row.state, row.remote_id, row.sent_at = SENT, str(remote), utcnow()
    row.last_error = None
    session.commit()
    return SENT


def pull_updates(session: Session, jobs: JobQueue | None = None,
                 http: requests.Session | None = None) -> int:
    """Ask each department's system for the status of our open forwarded reports; a remote
    `closed` resolves ours (with the remote notes), so the reporter hears of it."""
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
        config = _config(department)
        for start in range(0, len(items), PULL_BATCH):
            batch = {row.remote_id: row for row in items[start:start + PULL_BATCH]}
            params = {"service_request_id": ",".join(batch)}
            if config.get("jurisdiction_id"):
                params["jurisdiction_id"] = config["jurisdiction_id"]
            try:
                response = (http or requests).get(_endpoint(config, "/requests.json"),
                                                  params=params, timeout=TIMEOUT_S)
                response.raise_for_status()
                remote = response.json()
            except (requests.RequestException, ValueError) as exc:
                log.warning("pulling from %s failed: %s", department.code, exc)
                for row in batch.values():
                    row.last_error = f"pull: {type(exc).__name__}: {exc}"[:1000]
                session.commit()
                continue
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
