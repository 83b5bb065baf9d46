"""The desk service on both backends: a retry completes a lost audit step, once; crews are
refused before anything is stored, and the slip's PIN is derived, stable and secret-bound."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models import AuditEntry, Notification, Report
from backend.permissions import Forbidden
from backend.services.desk.on_behalf import (
    ON_BEHALF,
    file_for_caller,
    filed_by,
    redeem_slip_code,
    slip_pin,
)
from backend.services.reports import NewReport, create_report
from backend.services.staff.users import create_user
from tests.conftest import SECRET

CALL = NewReport("ampel-ausfall", 48.1374, 11.5755, "Anruf: Ampel dunkel",
                 email="caller@example.org", name="Herr Maier", phone="089 555")


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_retry_after_a_lost_second_step_audits_and_confirms_once(session: Session) -> None:
    user = create_user(session, username="desk", password=None, role="dispatcher",
                       departments=["anliegenmanagement"])
    # As if the process died after the report's commit, before the audit's.
    first = create_report(session, CALL, secret_key=SECRET, locale="de", source="desk",
                          idempotency_key=f"desk:{user.id}:k1")
    assert _count(session, AuditEntry) == 0

    again = file_for_caller(session, user, CALL, secret_key=SECRET, locale="de",
                            idempotency_key="k1", jobs=None)
    third = file_for_caller(session, user, CALL, secret_key=SECRET, locale="de",
                            idempotency_key="k1", jobs=None)
    assert first.created and not again.created and not third.created
    assert first.report.public_id == again.public_id == third.public_id
    assert _count(session, Report) == 1
    assert session.scalar(select(func.count()).where(AuditEntry.action == ON_BEHALF)) == 1
    assert _count(session, Notification) == 1
    report = session.scalar(select(Report))
    assert report is not None and report.source == "desk"
    assert report.reporter_name == "Herr Maier" and report.reporter_phone == "089 555"
    assert filed_by(session, report) == {"username": "desk", "display_name": "desk"}


def test_a_crew_member_is_refused_before_anything_is_stored(session: Session) -> None:
    crew = create_user(session, username="crew", password=None, role="crew",
                       departments=["verkehrstechnik"])
    with pytest.raises(Forbidden):
        file_for_caller(session, crew, CALL, secret_key=SECRET, locale="de",
                        idempotency_key=None, jobs=None)
    assert _count(session, Report) == 0


def test_the_pin_is_stable_and_bound_to_the_secret_and_the_report(session: Session) -> None:
    pin = slip_pin(SECRET, "k7p3xr9q", "salt")
    assert pin == slip_pin(SECRET, "k7p3xr9q", "salt") and len(pin) == 8
    assert pin != slip_pin(SECRET + "x", "k7p3xr9q", "salt")
    assert pin != slip_pin(SECRET, "k7p3xr9r", "salt")
    user = create_user(session, username="desk", password=None, role="admin")
    filed = file_for_caller(session, user, CALL, secret_key=SECRET, locale="en",
                            idempotency_key=None, jobs=None)
    assert redeem_slip_code(session, SECRET, filed.slip_code) == (filed.public_id,
                                                                  filed.tracking_token)
