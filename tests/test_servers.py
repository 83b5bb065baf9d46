"""Tests for tests/servers.py: real PostGIS and Redis servers on loopback."""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from tests.servers import (
    ServerUnavailable,
    create_database,
    free_port,
    libpq_url,
    postgis_unavailable_reason,
    redis_unavailable_reason,
    servers_required,
    start_postgis,
    start_redis,
)


def _skip_or_fail(reason: str) -> None:
    if servers_required():
        pytest.fail(f"server required on CI but unavailable: {reason}")
    pytest.skip(reason)


def _port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def _port_closed(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def short_tmp():
    # PostgreSQL's unix-socket path must stay short: not pytest's tmp_path.
    path = Path(tempfile.mkdtemp(prefix="mm-pg-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_free_port_is_bindable():
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", port))


def test_free_ports_picked_one_after_the_other_differ():
    # Two ports picked before either is bound (a proxy's HTTP and HTTPS ports) once came
    # back equal in CI, and nginx refused "a duplicate default server".
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)


def test_servers_required_follows_ci_env(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert servers_required()
    monkeypatch.setenv("CI", "false")
    assert not servers_required()
    monkeypatch.delenv("CI")
    assert not servers_required()


def test_libpq_url_drops_driver():
    assert (
        libpq_url("postgresql+psycopg://postgres@127.0.0.1:5/db")
        == "postgresql://postgres@127.0.0.1:5/db"
    )


def test_postgis_server(short_tmp):
    reason = postgis_unavailable_reason()
    if reason:
        _skip_or_fail(reason)
    try:
        server = start_postgis(short_tmp)
    except ServerUnavailable as exc:
        _skip_or_fail(str(exc))
    port = _port_of(server.url)
    with server:
        assert server.url == f"postgresql+psycopg://postgres@127.0.0.1:{port}/maengelmelder"
        assert server.log_path.exists()
        with psycopg.connect(libpq_url(server.url)) as conn:
            (version,) = conn.execute("SELECT postgis_version()").fetchone()
            assert version and "USE_GEOS=1" in version
            (dist,) = conn.execute(
                "SELECT ST_Distance(ST_MakePoint(0, 0), ST_MakePoint(3, 4))"
            ).fetchone()
            assert dist == pytest.approx(5.0)
            exts = {r[0] for r in conn.execute("SELECT extname FROM pg_extension")}
            assert {"postgis", "btree_gist"} <= exts
            (fsync,) = conn.execute("SHOW fsync").fetchone()
            assert fsync == "off"

        other = create_database(server.url, "mm_other")
        assert other.endswith(f":{port}/mm_other")
        with psycopg.connect(libpq_url(other)) as conn:
            (name,) = conn.execute("SELECT current_database()").fetchone()
            assert name == "mm_other"
            assert conn.execute("SELECT postgis_version()").fetchone()[0]

        copy = create_database(server.url, "mm_copy", template="mm_other")
        with psycopg.connect(libpq_url(copy)) as conn:
            assert conn.execute("SELECT postgis_version()").fetchone()[0]

    assert _port_closed(port)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(libpq_url(server.url), connect_timeout=2)
    server.stop()  # idempotent


def test_redis_server(short_tmp):
    reason = redis_unavailable_reason()
    if reason:
        _skip_or_fail(reason)
    server = start_redis(short_tmp)
    port = _port_of(server.url)
    assert server.url == f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(server.url)
        client.set("mm:key", "wert")
        assert client.get("mm:key") == b"wert"
        client.close()
    finally:
        server.stop()
    assert _port_closed(port)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=1).ping()
    server.stop()  # idempotent
