"""The reporter's "not fixed": back to the same department one priority higher with the comment,
once per answer however often it is sent; and staff closing a report as not the city's."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput
from backend.models import Notification, Report, ReportEvent
from backend.services import recipients
from backend.services.outcomes.feedback import answer_fixed
from backend.services.reports import NewReport, create_report
from backend.services.workflow import StatusChange, change_status
from backend.workflow import Actor, Outcome, Priority, RejectReason, Status, outcome_of
from tests.conftest import SECRET

MARIENPLATZ = (11.5755, 48.1374)
STAFF = dict(actor=Actor.STAFF, actor_name="staff:mitte")


def _resolved(session: Session, category: str = "schild-unleserlich") -> tuple[Report, str]:
    data = NewReport(category, MARIENPLATZ[1], MARIENPLATZ[0], "Schild zugewachsen", None,
                     "rita@example.org")
    created = create_report(session, data, secret_key=SECRET)
    public_id = created.report.public_id
    change_status(session, public_id, StatusChange(Status.RESOLVED, public_note="Frei.", **STAFF))
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    assert report is not None
    return report, created.tracking_token


def _notifications(session: Session, report: Report) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.report_id == report.id)) or 0


def test_not_fixed_reopens_in_the_same_department_one_priority_higher_with_the_comment(
    session: Session,
) -> None:
    report, token = _resolved(session)
    department, priority, due = report.department_id, report.priority, report.due_at
    assert priority == Priority.NORMAL
    answer_fixed(session, token, False, "  Immer noch zugewachsen.  ")
    session.refresh(report)
    assert report.status == Status.REOPENED and report.department_id == department
    assert report.priority == Priority.HIGH and report.reporter_reopens == 1
    assert report.due_at is not None and due is not None and report.due_at != due
    last = report.events[-1]
    assert (last.actor, last.to_status, last.public_note) == (
        "reporter", "reopened", "Immer noch zugewachsen.")
    assert last.internal_note == "priority: normal → high"


def test_the_same_not_fixed_twice_reopens_once_and_notifies_once(session: Session) -> None:
    report, token = _resolved(session)
    recipients.follow_report(session, report, locale="de", email="fan@example.org", push=None)
    before = _notifications(session, report)
    answer_fixed(session, token, False, "Kaputt.")
    answer_fixed(session, token, False, "Kaputt.")  # a double tap, an offline retry
    session.refresh(report)
    events = session.scalar(select(func.count()).select_from(ReportEvent).where(
        ReportEvent.report_id == report.id, ReportEvent.to_status == "reopened"))
    assert events == 1 and report.reporter_reopens == 1 and report.priority == Priority.HIGH
    assert _notifications(session, report) == before + 1  # the follower, once


def test_fixed_twice_closes_once_but_not_fixed_after_fixed_is_a_conflict(
    session: Session,
) -> None:
    report, token = _resolved(session)
    answer_fixed(session, token, True, None)
    answer_fixed(session, token, True, None)
    session.refresh(report)
    assert report.status == Status.CLOSED and len(report.events) == 3
    with pytest.raises(Conflict):
        answer_fixed(session, token, False, None)


def test_a_second_not_fixed_after_the_crew_resolves_again_raises_again_up_to_urgent(
    session: Session,
) -> None:
    report, token = _resolved(session, category="schild-fehlt")  # high
    answer_fixed(session, token, False, None)
    change_status(session, report.public_id, StatusChange(Status.RESOLVED,
                                                          public_note="Neu.", **STAFF))
    answer_fixed(session, token, False, "Wieder weg.")
    session.refresh(report)
    assert report.priority == Priority.URGENT and report.reporter_reopens == 2
    change_status(session, report.public_id, StatusChange(Status.RESOLVED,
                                                          public_note="Neu.", **STAFF))
    answer_fixed(session, token, False, None)
    session.refresh(report)
    assert report.priority == Priority.URGENT and report.reporter_reopens == 3


def test_staff_reopening_does_not_raise_the_priority(session: Session) -> None:
    report, _ = _resolved(session)
    change_status(session, report.public_id, StatusChange(Status.REOPENED, **STAFF))
    session.refresh(report)
    assert report.priority == Priority.NORMAL and report.reporter_reopens == 0


def _reject(reason: RejectReason, responsible: dict | None) -> StatusChange:
    return StatusChange(Status.REJECTED, public_note="Nicht städtisch.", reason=reason,
                        responsible=responsible, **STAFF)


def test_not_our_responsibility_names_who_is(session: Session) -> None:
    report, _ = _resolved(session)
    change_status(session, report.public_id, StatusChange(Status.REOPENED, **STAFF))
    with pytest.raises(InvalidInput) as missing:
        change_status(session, report.public_id, _reject(RejectReason.NOT_RESPONSIBLE, None))
    assert "responsible" in missing.value.fields
    with pytest.raises(InvalidInput) as bad_link:
        change_status(session, report.public_id, _reject(
            RejectReason.NOT_RESPONSIBLE, {"name": "DB", "url": "javascript:alert(1)"}))
    assert "responsible" in bad_link.value.fields
    change_status(session, report.public_id, _reject(
        RejectReason.NOT_RESPONSIBLE,
        {"name": " Deutsche Bahn AG ", "url": "https://www.bahn.de/kontakt"}))
    session.refresh(report)
    assert report.responsible == {"name": "Deutsche Bahn AG", "url": "https://www.bahn.de/kontakt"}
    assert outcome_of(report.status, report.reject_reason) == Outcome.NOT_RESPONSIBLE


def test_only_not_our_responsibility_takes_a_responsible_body(session: Session) -> None:
    report, _ = _resolved(session)
    change_status(session, report.public_id, StatusChange(Status.REOPENED, **STAFF))
    with pytest.raises(InvalidInput):
        change_status(session, report.public_id,
                      _reject(RejectReason.CANNOT_FIX, {"name": "Jemand"}))
    change_status(session, report.public_id, _reject(RejectReason.CANNOT_FIX, None))
    session.refresh(report)
    assert outcome_of(report.status, report.reject_reason) == Outcome.NOT_FIXED
    assert report.responsible is None


@pytest.mark.parametrize(("status", "reason", "outcome"), [
    ("submitted", None, None), ("reopened", None, None), ("resolved", None, Outcome.FIXED),
    ("closed", None, Outcome.FIXED), ("rejected", "cannot_fix", Outcome.NOT_FIXED),
    ("rejected", "not_responsible", Outcome.NOT_RESPONSIBLE),
    ("rejected", "duplicate", Outcome.DUPLICATE), ("rejected", None, Outcome.NOT_FIXED),
])
def test_every_status_and_reason_has_its_outcome(
    status: str, reason: str | None, outcome: Outcome | None,
) -> None:
    assert outcome_of(status, reason) == outcome


def test_the_reporter_is_told_once_that_it_is_not_ours(session: Session) -> None:
    report, _ = _resolved(session)
    change_status(session, report.public_id, StatusChange(Status.REOPENED, **STAFF))
    before = _notifications(session, report)
    change_status(session, report.public_id, _reject(
        RejectReason.NOT_RESPONSIBLE, {"name": "Deutsche Bahn AG", "url": None}))
    assert _notifications(session, report) == before + 1  # the reporter's e-mail, once


def test_a_responsible_body_without_closing_is_refused(session: Session) -> None:
    report, _ = _resolved(session)
    with pytest.raises(InvalidInput) as refused:
        change_status(session, report.public_id, StatusChange(
            Status.REOPENED, responsible={"name": "DB"}, **STAFF))
    assert "responsible" in refused.value.fields
