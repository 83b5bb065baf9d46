"""Creating reports at service level: exactly once per idempotency key, ids and tokens."""

from __future__ import annotations

import hashlib
import re
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backend.errors import Conflict
from backend.models import Report, ReportEvent
from backend.services.reports import (
    CreatedReport,
    NewReport,
    create_report,
    get_report,
    get_report_by_token,
)
from backend.tokens import PUBLIC_ID_ALPHABET, PUBLIC_ID_LENGTH, tracking_token
from tests.conftest import SECRET

MARIENPLATZ = (11.5755, 48.1374)
ALLIANZ_ARENA = (11.6247, 48.2188)
SIGN_MISSING = NewReport("schild-fehlt", MARIENPLATZ[1], MARIENPLATZ[0], "Stoppschild fehlt")
PUBLIC_ID = re.compile(f"^[{PUBLIC_ID_ALPHABET}]{{{PUBLIC_ID_LENGTH}}}$")


def _count(session: Session, model: type = Report) -> int:
    count = session.scalar(select(func.count()).select_from(model))
    session.commit()
    return count


def _create(engine: Engine, data: NewReport = SIGN_MISSING, **kwargs: Any) -> CreatedReport:
    with Session(engine, expire_on_commit=False) as session:
        return create_report(session, data, secret_key=SECRET, **kwargs)


def test_the_same_idempotency_key_from_two_sessions_stores_one_report(
    engine: Engine, session: Session
) -> None:
    first = _create(engine, idempotency_key="device-1:draft-7")
    second = _create(engine, idempotency_key="device-1:draft-7")

    assert first.created is True
    assert second.created is False
    assert second.report.id == first.report.id
    assert second.report.public_id == first.report.public_id
    assert second.tracking_token == first.tracking_token
    assert (second.lon, second.lat) == pytest.approx(MARIENPLATZ)
    assert _count(session) == 1
    assert _count(session, ReportEvent) == 1


def test_the_same_idempotency_key_with_a_different_body_is_a_conflict(
    engine: Engine, session: Session
) -> None:
    _create(engine, idempotency_key="device-1:draft-8")
    other = NewReport("schild-fehlt", MARIENPLATZ[1], MARIENPLATZ[0], "anderer Text")
    with pytest.raises(Conflict) as err:
        _create(engine, other, idempotency_key="device-1:draft-8")
    assert "Idempotency-Key" in err.value.fields
    assert _count(session) == 1


def test_different_idempotency_keys_store_different_reports(
    engine: Engine, session: Session
) -> None:
    a = _create(engine, idempotency_key="device-1:a")
    b = _create(engine, idempotency_key="device-1:b")
    assert a.report.id != b.report.id
    assert a.tracking_token != b.tracking_token
    assert _count(session) == 2


def test_reports_without_a_key_are_never_deduplicated(engine: Engine, session: Session) -> None:
    a = _create(engine)
    b = _create(engine)
    assert a.created and b.created
    assert a.report.public_id != b.report.public_id
    assert a.tracking_token != b.tracking_token
    assert _count(session) == 2


def test_concurrent_submissions_with_one_key_store_one_report(
    engine: Engine, session: Session
) -> None:
    threads = 4
    barrier = threading.Barrier(threads)
    results: list[CreatedReport] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(_create(engine, idempotency_key="offline-queue:42"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    workers = [threading.Thread(target=submit) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert errors == []
    assert len(results) == threads
    assert sum(r.created for r in results) == 1
    assert {r.report.public_id for r in results} == {results[0].report.public_id}
    assert {r.tracking_token for r in results} == {results[0].tracking_token}
    assert _count(session) == 1
    assert _count(session, ReportEvent) == 1


def test_public_ids_are_eight_characters_of_the_unambiguous_alphabet(
    engine: Engine, session: Session
) -> None:
    created = [_create(engine) for _ in range(20)]
    stored = session.scalars(select(Report.public_id)).all()
    session.commit()
    assert sorted(stored) == sorted(c.report.public_id for c in created)
    assert len(set(stored)) == 20
    for public_id in stored:
        assert PUBLIC_ID.match(public_id), public_id
        assert not set(public_id) & set("ilou")


@pytest.mark.parametrize("key", [None, "device-9:draft-1"], ids=["random", "derived"])
def test_only_the_hash_of_the_tracking_token_is_stored(
    engine: Engine, session: Session, key: str | None
) -> None:
    result = _create(engine, idempotency_key=key)
    token = result.tracking_token
    row = session.scalars(select(Report).where(Report.id == result.report.id)).one()
    session.commit()

    assert row.tracking_token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored_text = [
        str(getattr(row, column.key)) for column in Report.__table__.columns
        if column.key != "geom"
    ]
    assert not any(token in value for value in stored_text)
    assert len(token) >= 32


def test_the_report_is_found_by_its_token_and_by_its_public_id(
    engine: Engine, session: Session
) -> None:
    result = _create(engine, NewReport("schild-fehlt", ALLIANZ_ARENA[1], ALLIANZ_ARENA[0], "x"))
    by_token, lon, lat = get_report_by_token(session, result.tracking_token)
    by_id, *_ = get_report(session, result.report.public_id)
    assert by_token.id == by_id.id == result.report.id
    assert (lon, lat) == pytest.approx(ALLIANZ_ARENA)
    assert by_token.status == "submitted"
    assert by_token.priority == "high"
    assert by_token.department.code == "bezirksinspektion-nord"
    assert by_token.district.number == "12"
    assert [e.to_status for e in by_token.events] == ["submitted"]


def test_the_token_is_derived_from_secret_id_and_salt_and_replays_get_it_back(
    engine: Engine, session: Session,
) -> None:
    result = _create(engine, idempotency_key="device-3:draft-1")
    again = _create(engine, idempotency_key="device-3:draft-1")
    report = session.scalar(select(Report).where(Report.public_id == result.report.public_id))
    token = tracking_token(SECRET, report.public_id, report.tracking_salt)

    assert result.tracking_token == token == again.tracking_token
    assert tracking_token("another-secret", report.public_id, report.tracking_salt) != token
    assert tracking_token(SECRET, report.public_id, "other-salt") != token
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)


def test_a_colliding_public_id_is_drawn_again_and_nothing_half_written(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = create_report(session, SIGN_MISSING, secret_key=SECRET)
    drawn = iter([first.report.public_id, first.report.public_id, "zzzzzzzz"])
    # The random source is the one thing a test cannot steer otherwise: force two collisions.
    monkeypatch.setattr("backend.services.reports.new_public_id", lambda: next(drawn))
    second = create_report(session, SIGN_MISSING, secret_key=SECRET, idempotency_key="k-1")
    assert second.created and second.report.public_id == "zzzzzzzz"
    assert session.scalar(select(func.count()).select_from(Report)) == 2
    assert session.scalar(select(func.count()).select_from(ReportEvent)) == 2
