"""The workflow table, enforced by one function, with history and outbox rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput
from backend.models import Notification, PushSubscription, Recipient, Report, ReportEvent
from backend.models.base import utcnow
from backend.permissions import Forbidden
from backend.services import recipients
from backend.services.reports import NewReport, create_report
from backend.services.workflow import StatusChange, change_status
from backend.workflow import ALLOWED_TRANSITIONS, Actor, RejectReason, Status
from tests.conftest import SECRET

MARIENPLATZ = (11.5755, 48.1374)
# How to bring a fresh report into each status through allowed staff moves.
PATHS: dict[Status, list[Status]] = {
    Status.SUBMITTED: [],
    Status.ACKNOWLEDGED: [Status.ACKNOWLEDGED],
    Status.IN_PROGRESS: [Status.IN_PROGRESS],
    Status.RESOLVED: [Status.RESOLVED],
    Status.REOPENED: [Status.RESOLVED, Status.REOPENED],
    Status.REJECTED: [Status.REJECTED],
    Status.CLOSED: [Status.RESOLVED, Status.CLOSED],
}


def _report(session: Session, email: str | None = "rita@example.org") -> str:
    data = NewReport("schild-fehlt", MARIENPLATZ[1], MARIENPLATZ[0], "Schild fehlt", None, email)
    return create_report(session, data, secret_key=SECRET).report.public_id


def _change(target: Status, actor: Actor = Actor.STAFF, **kwargs: object) -> StatusChange:
    if target == Status.REJECTED:
        kwargs.setdefault("reason", RejectReason.CANNOT_FIX)
        kwargs.setdefault("public_note", "Das können wir leider nicht beheben.")
    return StatusChange(target=target, actor=actor, actor_name=f"{actor.value}-1",
                        **kwargs)  # type: ignore[arg-type]


def _in_status(session: Session, status: Status) -> str:
    public_id = _report(session)
    for step in PATHS[status]:
        change_status(session, public_id, _change(step))
    return public_id


ALL_PAIRS = [(a, b) for a in Status for b in Status]


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS,
                         ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_every_transition_is_allowed_or_refused_as_the_table_says(
    session: Session, current: Status, target: Status
) -> None:
    public_id = _in_status(session, current)
    allowed = ALLOWED_TRANSITIONS[current].get(target)
    if allowed is None:
        with pytest.raises(Conflict):
            change_status(session, public_id, _change(target))
        assert _status(session, public_id) == current
        return
    for actor in Actor:
        if actor not in allowed:
            with pytest.raises(Forbidden):
                change_status(session, public_id, _change(target, actor))
    actor = Actor.STAFF if Actor.STAFF in allowed else next(iter(allowed))
    event = change_status(session, public_id, _change(target, actor))
    assert _status(session, public_id) == target
    assert (event.from_status, event.to_status) == (current.value, target.value)


def _status(session: Session, public_id: str) -> Status:
    session.expire_all()
    return Status(session.scalar(select(Report.status).where(Report.public_id == public_id)))


def test_rejecting_needs_a_reason_and_a_public_note(session: Session) -> None:
    public_id = _report(session)
    with pytest.raises(InvalidInput) as err:
        change_status(session, public_id, StatusChange(Status.REJECTED, Actor.STAFF, "s"))
    assert set(err.value.fields) == {"reason", "public_note"}
    with pytest.raises(InvalidInput) as err:
        change_status(session, public_id, StatusChange(
            Status.REJECTED, Actor.STAFF, "s", public_note="Doppelt",
            reason=RejectReason.DUPLICATE))
    assert set(err.value.fields) == {"duplicate_of"}
    assert _status(session, public_id) == Status.SUBMITTED


def test_every_change_appends_history_with_actor_and_notes(session: Session) -> None:
    public_id = _report(session)
    change_status(session, public_id, _change(Status.IN_PROGRESS, public_note="Team unterwegs",
                                              internal_note="Trupp 3"))
    events = session.scalars(select(ReportEvent).join(Report).where(
        Report.public_id == public_id).order_by(ReportEvent.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "submitted"), ("submitted", "in_progress")]
    assert events[1].actor == "staff-1"
    assert (events[1].public_note, events[1].internal_note) == ("Team unterwegs", "Trupp 3")


def test_reporter_may_reopen_within_14_days_only(session: Session) -> None:
    public_id = _in_status(session, Status.RESOLVED)
    session.execute(update(Report).where(Report.public_id == public_id).values(
        resolved_at=utcnow() - timedelta(days=15)))
    session.commit()
    with pytest.raises(Conflict):
        change_status(session, public_id, _change(Status.REOPENED, Actor.REPORTER))
    session.execute(update(Report).where(Report.public_id == public_id).values(
        resolved_at=utcnow() - timedelta(days=13)))
    session.commit()
    change_status(session, public_id, _change(Status.REOPENED, Actor.REPORTER))
    assert _status(session, public_id) == Status.REOPENED


def _outbox(session: Session, public_id: str) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Recipient.role, Notification.channel)
        .join(Recipient, Recipient.id == Notification.recipient_id)
        .join(Report, Report.id == Notification.report_id)
        .where(Report.public_id == public_id).order_by(Notification.id)).all()
    return [(r[0], r[1]) for r in rows]


def test_the_change_and_one_outbox_row_per_recipient_and_channel_commit_together(
    session: Session,
) -> None:
    public_id = _report(session)
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    reporter = recipients.reporter_recipient(session, report)
    recipients.add_push_subscription(session, reporter, "https://push.example/a", "k" * 40,
                                     "a" * 16)
    recipients.add_push_subscription(session, reporter, "https://push.example/b", "k" * 40,
                                     "a" * 16)
    recipients.follow_report(session, report, locale="en", email="fan@example.org", push=None)
    change_status(session, public_id, _change(Status.IN_PROGRESS))
    assert sorted(_outbox(session, public_id)) == sorted([
        ("reporter", "email"), ("reporter", "push"), ("reporter", "push"),
        ("follower", "email")])


def test_unsubscribed_and_removed_channels_get_nothing(session: Session) -> None:
    public_id = _report(session)
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    reporter = recipients.reporter_recipient(session, report)
    sub = recipients.add_push_subscription(session, reporter, "https://push.example/a",
                                           "k" * 40, "a" * 16)
    sub.removed_at = utcnow()
    session.commit()
    recipients.unsubscribe(session, SECRET, recipients.unsubscribe_token(SECRET, reporter.id))
    change_status(session, public_id, _change(Status.ACKNOWLEDGED))
    assert _outbox(session, public_id) == []


def test_the_reporters_own_answer_is_not_sent_back_to_them(session: Session) -> None:
    public_id = _in_status(session, Status.RESOLVED)
    before = len(_outbox(session, public_id))
    change_status(session, public_id, _change(Status.CLOSED, Actor.REPORTER))
    assert len(_outbox(session, public_id)) == before


def test_marking_a_duplicate_moves_followers_to_the_original(session: Session) -> None:
    original = _report(session, email=None)
    duplicate = _report(session, email="second@example.org")
    dup = session.scalar(select(Report).where(Report.public_id == duplicate))
    recipients.follow_report(session, dup, locale="de", email="fan@example.org", push=None)
    change_status(session, duplicate, _change(
        Status.REJECTED, reason=RejectReason.DUPLICATE, duplicate_of=original,
        public_note="Bereits gemeldet."))
    orig = session.scalar(select(Report).where(Report.public_id == original))
    followers = session.scalars(select(Recipient.email).where(
        Recipient.report_id == orig.id, Recipient.role == "follower")).all()
    assert sorted(followers) == ["fan@example.org", "second@example.org"]
    assert session.scalar(select(Report.duplicate_of_id).where(
        Report.public_id == duplicate)) == orig.id
    # The rejection itself still reached the duplicate's reporter and follower.
    assert sorted(_outbox(session, duplicate)) == [("follower", "email"), ("reporter", "email")]
    change_status(session, original, _change(Status.IN_PROGRESS))
    assert sorted(_outbox(session, original)) == [("follower", "email"), ("follower", "email")]
    assert session.scalar(select(func.count()).select_from(PushSubscription)) == 0
