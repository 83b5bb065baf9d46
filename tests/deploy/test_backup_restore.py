"""Backup and restore as README.md describes it: `pg_dump -Fc` of the database and a tar of
the photos; restored into an empty database and an empty photo directory, every report, photo
and tracking link works again, the service takes new reports, and an erasure requested after
the backup is repeated by `init` from the erasure ledger, which the restore leaves alone."""

from __future__ import annotations

import io
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db.engine import make_engine
from backend.media.storage import storage_from_settings
from backend.models import Report
from backend.services import privacy
from backend.services.setup import initialize
from tests import servers
from tests.conftest import base_settings
from tests.shared_data import shared_data_dir
from workers.runner import make_worker

pytestmark = pytest.mark.slow

PHOTO = shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg"
ERASED = "Erika.Mustermann@example.org"


def _tool(name: str) -> str:
    return str(servers._pg_bindir() / name)


def test_a_restored_backup_serves_every_report_photo_and_tracking_link(
    postgis_server: servers.RunningServer, redis_server: servers.RunningServer,
    districts_file: Path, tmp_path: Path,
) -> None:
    suffix = uuid.uuid4().hex[:8]
    source_url = servers.create_database(postgis_server.url, f"mm_backup_{suffix}")
    redis_url = redis_server.url.rsplit("/", 1)[0] + "/6"
    settings = base_settings(source_url, tmp_path / "live", redis_url=redis_url,
                             districts_source=str(districts_file))
    engine = make_engine(source_url)
    initialize(engine, settings)
    engine.dispose()
    client = create_app(settings).test_client()
    created = client.post("/api/v1/reports", data={
        "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
        "description": "Vor der Sicherung gemeldet", "email": ERASED,
        "photos": (io.BytesIO(PHOTO.read_bytes()), "p.jpg", "image/jpeg")},
        content_type="multipart/form-data").get_json()
    make_worker(settings).work(burst=True)  # the photo's web sizes
    photo_url = client.get(f"/api/v1/reports/{created['id']}").get_json()["photos"][0][
        "display"]["jpeg"].removeprefix(settings.base_url)
    photo = client.get(photo_url).data

    # Backup: the database as a custom-format dump, the photos as a tarball.
    dump = tmp_path / "maengelmelder.dump"
    subprocess.run([_tool("pg_dump"), "-Fc", "-f", str(dump), servers.libpq_url(source_url)],
                   check=True)
    media = tmp_path / "media.tar.gz"
    subprocess.run(["tar", "czf", str(media), "-C", settings.media_root, "."], check=True)

    # After the backup, the reporter asks for erasure on the live system.
    engine = make_engine(source_url)
    with Session(engine) as session:
        privacy.erase(session, storage_from_settings(settings), ERASED,
                      ledger=privacy.ErasureLedger.from_settings(settings))
    engine.dispose()

    # Restore into an empty database (no extensions: the dump creates them) and directory.
    restored_name = f"mm_restored_{suffix}"
    with psycopg.connect(servers.libpq_url(postgis_server.url).rsplit("/", 1)[0] + "/postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{restored_name}"')
    restored_url = source_url.rsplit("/", 1)[0] + f"/{restored_name}"
    subprocess.run([_tool("pg_restore"), "--no-owner", "--exit-on-error", "-d",
                    servers.libpq_url(restored_url), str(dump)], check=True)
    # The erasure ledger is kept where it was (MM_ERASURE_LEDGER), not restored.
    restored = base_settings(restored_url, tmp_path / "restored", redis_url=redis_url,
                             districts_source=str(districts_file),
                             erasure_ledger=str(settings.erasure_ledger_path))
    Path(restored.media_root).mkdir(parents=True)
    subprocess.run(["tar", "xzf", str(media), "-C", restored.media_root], check=True)

    engine = make_engine(restored_url)
    with Session(engine) as session:
        assert privacy.export(session, ERASED)["reports"]  # the backup had the address
    # What `init` does on the next start: the erasure again, otherwise nothing to change.
    assert initialize(engine, restored).erasures.reports == 1
    with Session(engine) as session:
        assert privacy.export(session, ERASED)["reports"] == []
        assert session.scalar(select(func.count()).select_from(Report).where(
            Report.reporter_email.is_not(None))) == 0
    engine.dispose()
    after = create_app(restored).test_client()
    report = after.get(f"/api/v1/reports/{created['id']}")
    assert report.status_code == 200
    assert report.get_json()["description"] == "Vor der Sicherung gemeldet"
    assert after.get(photo_url).data == photo
    assert after.get(f"/api/v1/track/{created['tracking_token']}").status_code == 200
    new = after.post("/api/v1/reports", json={"category": "schild-fehlt", "lat": 48.14,
                                              "lon": 11.57, "description": "Danach"})
    assert new.status_code == 201 and new.get_json()["id"] != created["id"]
