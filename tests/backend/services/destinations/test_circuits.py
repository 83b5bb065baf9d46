"""The circuit breaker per destination: opens after N failures in a row, then lets exactly
one probe through per interval however many workers race for it, and closes on a success;
one log line per change of state."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from backend.models import DestinationCircuit
from backend.models.base import utcnow
from backend.services.destinations import circuits
from backend.services.destinations.policy import RetryPolicy

KEY = "open311:http://127.0.0.1:9"
POLICY = RetryPolicy(failures_to_open=3, probe_interval_s=30)


def _circuit(session: Session) -> DestinationCircuit:
    return session.scalars(select(DestinationCircuit).where(DestinationCircuit.key == KEY)
                           .execution_options(populate_existing=True)).one()


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == circuits.__name__]


def test_the_circuit_opens_after_n_failures_in_a_row_with_one_log_line(
    session: Session, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger=circuits.__name__)
    now = utcnow()
    assert circuits.may_send(session, KEY, POLICY, now)  # unknown: closed
    assert not circuits.record_failure(session, KEY, "ConnectionError: refused", POLICY, now)
    circuits.record_success(session, KEY, now)  # a success in between starts the count anew
    for _ in range(2):
        assert not circuits.record_failure(session, KEY, "ConnectionError: refused", POLICY, now)
    assert circuits.may_send(session, KEY, POLICY, now)
    assert circuits.record_failure(session, KEY, "RuntimeError: HTTP 500", POLICY, now)
    for _ in range(5):  # further failures change nothing, and say nothing
        assert not circuits.record_failure(session, KEY, "RuntimeError: HTTP 500", POLICY, now)
    circuit = _circuit(session)
    assert (circuit.state, circuit.consecutive_failures) == ("open", 8)
    assert circuit.next_probe_at == now + timedelta(seconds=30)
    assert circuit.last_error == "RuntimeError: HTTP 500"
    assert circuits.open_circuits(session) == {KEY: now + timedelta(seconds=30)}
    assert _lines(caplog) == [f"destination {KEY} failing, circuit open: RuntimeError: HTTP 500"]
    assert [r.levelname for r in caplog.records if r.name == circuits.__name__] == ["WARNING"]


def test_an_open_circuit_lets_one_probe_through_per_interval(session: Session) -> None:
    now = utcnow()
    for _ in range(3):
        circuits.record_failure(session, KEY, "boom", POLICY, now)
    assert not circuits.may_send(session, KEY, POLICY, now + timedelta(seconds=29))
    probe_time = now + timedelta(seconds=30)
    assert circuits.may_send(session, KEY, POLICY, probe_time)  # the probe
    assert not circuits.may_send(session, KEY, POLICY, probe_time)  # nobody else
    assert not circuits.may_send(session, KEY, POLICY, probe_time + timedelta(seconds=29))
    assert circuits.next_probe_at(session, KEY) == probe_time + timedelta(seconds=30)
    assert circuits.may_send(session, KEY, POLICY, probe_time + timedelta(seconds=30))


@pytest.mark.parametrize("workers", [2, 6])
def test_racing_workers_get_exactly_one_probe(engine: Engine, workers: int) -> None:
    now = utcnow()
    with Session(engine) as session:
        for _ in range(3):
            circuits.record_failure(session, KEY, "boom", POLICY, now)
    probe_time = now + timedelta(seconds=31)
    start = threading.Barrier(workers)
    answers: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with Session(engine) as own:  # each its own connection, as workers have
                own.execute(select(DestinationCircuit.key)).all()  # connected before the race
                own.commit()
                start.wait()
                answers.append(circuits.may_send(own, KEY, POLICY, probe_time))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(answers) == [False] * (workers - 1) + [True]


def test_a_success_closes_the_circuit_with_one_log_line(
    session: Session, caplog: pytest.LogCaptureFixture,
) -> None:
    now = utcnow()
    for _ in range(3):
        circuits.record_failure(session, KEY, "boom", POLICY, now)
    caplog.set_level(logging.DEBUG, logger=circuits.__name__)
    caplog.clear()
    assert circuits.may_send(session, KEY, POLICY, now + timedelta(seconds=30))
    circuits.record_success(session, KEY)
    circuits.record_success(session, KEY)
    circuit = _circuit(session)
    assert (circuit.state, circuit.consecutive_failures, circuit.next_probe_at) == (
        "closed", 0, None)
    assert circuits.may_send(session, KEY, POLICY, now)
    assert circuits.open_circuits(session) == {}
    assert _lines(caplog) == [f"destination {KEY} recovered, circuit closed"]


def test_destinations_have_circuits_of_their_own(session: Session) -> None:
    now = utcnow()
    for _ in range(3):
        circuits.record_failure(session, KEY, "boom", POLICY, now)
    assert not circuits.may_send(session, KEY, POLICY, now)
    assert circuits.may_send(session, "smtp:mail.example:25", POLICY, now)
    assert circuits.may_send(session, None, POLICY, now)  # no destination: nothing to guard
