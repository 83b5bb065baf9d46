"""Forwarding to systems that fail: every attempt is recorded whatever the error, a failing
system gets one probe per interval instead of one POST per report, the last attempt leaves
the forwarding `failed`, and a worker killed between the remote system's answer and our
commit still creates the remote request once (Idempotency-Key)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from backend.models import Department, DestinationCircuit, Forwarding, Report
from backend.models.base import utcnow
from backend.queue import JobQueue
from backend.services import forwarding
from backend.services.city_state import bump_config_version
from backend.services.destinations.policy import RetryPolicy
from backend.services.reports import NewReport, create_report
from backend.settings import Settings
from tests.peers.open311_server import Open311Server
from tests.servers import free_port
from workers.runner import make_worker

KEY = "remote-secret-key"
ROOT = Path(__file__).resolve().parents[3]
MITTE, NORD = "bezirksinspektion-mitte", "bezirksinspektion-nord"
MARIENPLATZ = (48.1374, 11.5755)  # lat, lon: Mitte
ALLIANZ_ARENA = (48.2188, 11.6247)  # Nord


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MM_TEST_OPEN311_KEY", KEY)  # the name the configuration points to


@pytest.fixture
def remote() -> Iterator[Open311Server]:
    server = Open311Server(api_key=KEY).start()
    yield server
    server.stop()


def _forward(session: Session, department: str, config: dict | None) -> None:
    session.execute(update(Department).where(Department.code == department)
                    .values(open311=config))
    bump_config_version(session)
    session.commit()


def _config(url: str) -> dict:
    return {"url": url, "api_key_env": "MM_TEST_OPEN311_KEY", "send_contact": False}


def _reports(session: Session, settings: Settings, where: tuple[float, float], n: int) -> None:
    for i in range(n):
        create_report(session, NewReport("schild-fehlt", where[0], where[1], f"Schild {i}"),
                      secret_key=settings.secret_key)
        session.commit()


def _rows(session: Session, department: str | None = None) -> list[Forwarding]:
    """The forwardings as stored now; ends the transaction (on SQLite it holds the write
    lock, which a worker would wait for)."""
    query = select(Forwarding).order_by(Forwarding.id).execution_options(populate_existing=True)
    if department:
        query = query.join(Department, Department.id == Forwarding.department_id).where(
            Department.code == department)
    rows = list(session.scalars(query))
    session.commit()
    return rows


def _time_passes(session: Session) -> None:
    """Probe intervals and back-offs run out (instead of waiting for them)."""
    past = utcnow() - timedelta(days=1)
    session.execute(update(DestinationCircuit).where(DestinationCircuit.state == "open")
                    .values(next_probe_at=past))
    session.execute(update(Forwarding).where(Forwarding.state == "pending")
                    .values(next_attempt_at=past))
    session.commit()


def _dead_url() -> tuple[str, int]:
    port = free_port()  # bound and closed again: connection refused
    return f"http://127.0.0.1:{port}/open311/v2", port


def test_a_missing_url_is_recorded_as_an_attempt_not_retried_forever(
    session: Session, settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    # The bug of issue 15: a send raising KeyError left attempts at 0 and was retried forever.
    _forward(session, MITTE, {"api_key_env": "MM_TEST_OPEN311_KEY"})
    _reports(session, settings, MARIENPLATZ, 1)
    forwarding.create_missing(session)
    [row] = _rows(session)
    policy = RetryPolicy(max_attempts=2)
    assert forwarding.send(session, row.id, policy=policy) == "pending"
    [row] = _rows(session)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "KeyError: 'url'")
    assert row.next_attempt_at > utcnow()
    assert forwarding.send(session, row.id, policy=policy) == "pending"  # not due: untouched
    _time_passes(session)
    assert forwarding.send(session, row.id, policy=policy) == "failed"
    [row] = _rows(session)
    assert (row.state, row.attempts, row.failed_at is not None) == ("failed", 2, True)
    assert forwarding.due_ids(session) == []
    session.commit()
    failed_lines = [r for r in caplog.records if "failed after" in r.getMessage()]
    assert len(failed_lines) == 1 and failed_lines[0].levelname == "WARNING"
    assert not any(r.exc_info for r in caplog.records)  # no traceback


def test_an_odd_answer_is_an_attempt_with_its_error(
    session: Session, settings: Settings, remote: Open311Server,
) -> None:
    remote.answer = [1]  # a list of numbers: our parsing meets an AttributeError
    _forward(session, MITTE, _config(remote.url))
    _reports(session, settings, MARIENPLATZ, 1)
    forwarding.create_missing(session)
    [row] = _rows(session)
    assert forwarding.send(session, row.id) == "pending"
    [row] = _rows(session)
    assert row.attempts == 1 and row.last_error.startswith("AttributeError: ")
    assert row.destination == f"open311:http://127.0.0.1:{urlsplit(remote.url).port}"


def test_failing_systems_get_one_probe_per_round_and_everything_arrives_once_after(
    session: Session, settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    cfg = replace(settings, destination_failures_to_open=3, forwarding_max_attempts=50)
    dead_url, dead_port = _dead_url()
    broken = Open311Server(api_key=KEY, fail_with=500).start()
    try:
        _forward(session, MITTE, _config(dead_url))
        _forward(session, NORD, _config(broken.url))
        _reports(session, settings, MARIENPLATZ, 25)
        _reports(session, settings, ALLIANZ_ARENA, 25)
        jobs = JobQueue(cfg.redis_url)
        assert forwarding.enqueue_due(session, jobs) == 50  # nothing known to fail yet
        make_worker(cfg).work(burst=True)
        # Three failures each opened both circuits; the other 44 jobs waited without a try.
        assert broken.posts == 3
        for department in (MITTE, NORD):
            rows = _rows(session, department)
            assert sum(r.attempts for r in rows) == 3
            assert {r.state for r in rows} == {"pending"}
        keys = {f"open311:http://127.0.0.1:{dead_port}",
                f"open311:http://127.0.0.1:{urlsplit(broken.url).port}"}
        assert set(session.scalars(select(DestinationCircuit.key).where(
            DestinationCircuit.state == "open"))) == keys
        session.commit()
        assert forwarding.enqueue_due(session, jobs) <= 2  # the probes are not even due

        for _round in range(3):  # each probe interval: one probe per system, no more
            _time_passes(session)
            assert forwarding.enqueue_due(session, jobs) == 2
            assert forwarding.enqueue_due(session, jobs) <= 2
            make_worker(cfg).work(burst=True)
        assert broken.posts == 3 + 3
        assert sum(r.attempts for r in _rows(session)) == 2 * (3 + 3)

        # Both come back: the dead one on its old port, the broken one answers again.
        revived = Open311Server(api_key=KEY, port=dead_port).start()
        broken.fail_with = None
        try:
            _time_passes(session)
            assert forwarding.enqueue_due(session, jobs) == 2  # the probes, which succeed
            make_worker(cfg).work(burst=True)
            assert forwarding.enqueue_due(session, jobs) == 48  # circuits closed: the rest
            make_worker(cfg).work(burst=True)
            assert {r.state for r in _rows(session)} == {"sent"}
            assert forwarding.enqueue_due(session, jobs) == 0
            for server in (revived, broken):
                assert server.created == 25 and server.replays == 0
                assert len({r.idempotency_key for r in server.requests.values()}) == 25
        finally:
            revived.stop()
    finally:
        broken.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("circuit open" in m for m in messages) == 2
    assert sum("recovered" in m for m in messages) == 2
    assert not any(r.exc_info for r in caplog.records)  # no traceback per attempt
    assert not [m for m in messages if m.startswith("forwarding ")]  # nothing per report


def test_a_forwarding_fails_after_its_last_attempt_and_is_shown_with_its_error(
    session: Session, settings: Settings,
) -> None:
    dead_url, _ = _dead_url()
    _forward(session, MITTE, _config(dead_url))
    _reports(session, settings, MARIENPLATZ, 1)
    forwarding.create_missing(session)
    [row] = _rows(session)
    policy = RetryPolicy(max_attempts=3, failures_to_open=100)
    for _ in range(3):
        _time_passes(session)
        forwarding.send(session, row.id, policy=policy)
    [row] = _rows(session)
    assert (row.state, row.attempts) == ("failed", 3)
    assert "ConnectionError" in row.last_error
    _time_passes(session)
    assert forwarding.send(session, row.id, policy=policy) == "failed"  # stays failed
    assert _rows(session)[0].attempts == 3


def test_a_worker_killed_between_the_remote_answer_and_its_commit_creates_it_once(
    session: Session, settings: Settings, remote: Open311Server,
) -> None:
    _forward(session, MITTE, _config(remote.url))
    _reports(session, settings, MARIENPLATZ, 1)
    forwarding.create_missing(session)
    [row] = _rows(session)
    # The worker's steps, up to the moment it dies: claimed and committed, POSTed and
    # answered, the outcome never committed.
    assert forwarding.claim(session, row.id)
    remote_id = forwarding.post_request(session, row.id)
    session.rollback()
    [row] = _rows(session)
    assert (row.state, row.attempts, remote.created) == ("sending", 1, 1)
    assert forwarding.due_ids(session) == []  # a claimed row is not handed out ...
    session.commit()
    assert forwarding.recover_stale_claims(session) == 0  # ... until the claim is stale
    assert forwarding.recover_stale_claims(session, older_than=timedelta(0)) == 1
    assert forwarding.due_ids(session) == [row.id]
    session.commit()
    assert forwarding.send(session, row.id) == "sent"
    [row] = _rows(session)
    assert (row.remote_id, row.attempts) == (remote_id, 2)
    assert (remote.posts, remote.created, remote.replays) == (2, 1, 1)
    report = session.scalar(select(Report.public_id).where(Report.id == row.report_id))
    assert remote.requests[remote_id].idempotency_key == f"forwarding-{row.id}-{report}"


def test_kill_9_of_the_job_while_the_system_answers_late_still_creates_it_once(
    session: Session, settings: Settings, remote: Open311Server, engine: Engine,
) -> None:
    _forward(session, MITTE, _config(remote.url))
    _reports(session, settings, MARIENPLATZ, 1)
    forwarding.create_missing(session)
    [row] = _rows(session)  # (and no transaction is left open for the job to wait for)
    remote.delay_s = 30  # accepted at once, answered late: the job is killed while waiting
    env = dict(os.environ, MM_DATABASE_URL=settings.database_url,
               MM_REDIS_URL=settings.redis_url, MM_DATA_DIR=settings.data_dir,
               MM_SECRET_KEY=settings.secret_key, MM_LOG_LEVEL="WARNING")
    job = subprocess.Popen([sys.executable, "-c", "import sys; from workers.forwarding_jobs "
                            "import send_forwarding; send_forwarding(int(sys.argv[1]))",
                            str(row.id)], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while remote.created == 0:
            assert job.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(job.pid, signal.SIGKILL)
        job.wait(10)
    finally:
        if job.poll() is None:
            job.kill()
    remote.delay_s = 0
    assert _rows(session)[0].state == "sending"
    assert forwarding.recover_stale_claims(session, older_than=timedelta(0)) == 1
    assert forwarding.send(session, row.id) == "sent"
    [row] = _rows(session)
    assert row.remote_id == "R-1" and row.attempts == 2
    assert (remote.created, remote.replays) == (1, 1)
    assert session.scalar(select(func.count()).select_from(Forwarding)) == 1


def test_departments_without_open311_get_no_forwardings(
    session: Session, settings: Settings,
) -> None:
    _reports(session, settings, MARIENPLATZ, 2)
    assert forwarding.create_missing(session) == 0
    assert forwarding.enqueue_due(session, None) == 0
