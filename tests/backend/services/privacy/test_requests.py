"""Retention, access and erasure: personal data goes, reports stay anonymised."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select, update

from backend.cli import main
from backend.extensions import db
from backend.media.storage import FilesystemStorage
from backend.models import AuditEntry, Photo, PushSubscription, Recipient, Report
from backend.models.base import utcnow
from backend.services import privacy
from backend.settings import Settings
from tests.peers.push_service import PushServiceReceiver, make_subscription
from tests.shared_data import shared_data_dir

EMAIL = "Rita_Meier@example.org"


def _report(app: Flask, push_service: PushServiceReceiver, email: str = EMAIL) -> dict:
    client = app.test_client()
    photo = (shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg").read_bytes()
    import io

    created = client.post("/api/v1/reports", data={
        "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755",
        "description": "Schild fehlt", "email": email,
        "photos": (io.BytesIO(photo), "a.jpg")}, content_type="multipart/form-data").get_json()
    subscription, _ = make_subscription(push_service, f"p{created['id']}")
    assert client.post(f"/api/v1/track/{created['tracking_token']}/push-subscriptions", json={
        "endpoint": subscription["endpoint"], "keys": {"p256dh": subscription["p256dh"],
                                                       "auth": subscription["auth"]}}
    ).status_code == 201
    return created


def _app(app_with: Any) -> tuple[Flask, Settings]:
    return app_with(push_allow_insecure_endpoints=True, vapid_subject="mailto:o@mm.test",
                    keep_photo_originals=True)


def test_retention_removes_personal_data_only_after_the_period(
    app_with: Any, push_service: PushServiceReceiver,
) -> None:
    app, cfg = _app(app_with)
    old = _report(app, push_service)
    recent = _report(app, push_service, "other@example.org")
    still_open = _report(app, push_service, "third@example.org")
    from workers.runner import make_worker

    make_worker(cfg).work(burst=True)  # photos ready; originals kept (setting)
    with app.app_context():
        db.session.execute(update(Report).where(Report.public_id == old["id"]).values(
            status="closed", updated_at=utcnow() - timedelta(days=91)))
        db.session.execute(update(Report).where(Report.public_id == recent["id"]).values(
            status="closed", updated_at=utcnow() - timedelta(days=10)))
        db.session.execute(update(Report).where(Report.public_id == still_open["id"]).values(
            updated_at=utcnow() - timedelta(days=200)))
        db.session.commit()
        storage = FilesystemStorage(cfg.media_root)
        removed = privacy.retention_sweep(db.session, storage, 90)
        assert (removed.reports, removed.addresses, removed.subscriptions,
                removed.originals) == (1, 1, 1, 1)
        rows = {r.public_id: r for r in db.session.scalars(select(Report))}
        assert rows[old["id"]].reporter_email is None
        assert rows[recent["id"]].reporter_email == "other@example.org"
        assert rows[still_open["id"]].reporter_email == "third@example.org"
        photo = db.session.scalar(select(Photo).where(Photo.report_id == rows[old["id"]].id))
        assert photo.original_key is None and photo.status == "ready"
        assert privacy.retention_sweep(db.session, storage, 90).reports == 0  # done once
    public = app.test_client().get(f"/api/v1/reports/{old['id']}").get_json()
    assert public["status"] == "closed" and public["photos"]  # the report itself stays


def test_export_and_erase_by_email(app_with: Any, push_service: PushServiceReceiver,
                                   tmp_path: Path) -> None:
    app, cfg = _app(app_with)
    mine = _report(app, push_service)
    other = _report(app, push_service, "RitaXMeier@example.org")  # `_` is not a wildcard
    client = app.test_client()
    client.post(f"/api/v1/reports/{other['id']}/followers", json={"email": EMAIL.upper()})
    env = {"MM_DATABASE_URL": cfg.database_url, "MM_DATA_DIR": str(tmp_path),
           "MM_SECRET_KEY": cfg.secret_key, "MM_MEDIA_ROOT": cfg.media_root,
           "MM_REDIS_URL": cfg.redis_url}
    exported = CliRunner().invoke(main, ["privacy", "export", EMAIL.lower()], env=env,
                                  catch_exceptions=False)
    import json

    data = json.loads(exported.stdout)
    assert [r["id"] for r in data["reports"]] == [mine["id"]]
    assert data["following"] == [other["id"]]
    assert data["notifications"]["push_subscriptions"] == 1
    erased = CliRunner().invoke(main, ["privacy", "erase", EMAIL], env=env,
                                catch_exceptions=False)
    assert erased.exit_code == 0 and "1 report(s) anonymised" in erased.stdout
    with app.app_context():
        emails = set(db.session.scalars(select(Recipient.email)))
        assert EMAIL not in emails and EMAIL.upper() not in emails
        assert "RitaXMeier@example.org" in emails  # someone else's address stays
        reporter = db.session.scalar(select(Report).where(Report.public_id == mine["id"]))
        assert reporter.reporter_email is None
        endpoints = [s.endpoint for s in db.session.scalars(select(PushSubscription))]
        assert sum(e.startswith("erased:") for e in endpoints) == 1
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "erase"))
        assert EMAIL.lower() not in str(entry.details) and entry.details["reports"] == 1
    again = json.loads(CliRunner().invoke(main, ["privacy", "export", EMAIL], env=env).stdout)
    assert again["reports"] == [] and again["following"] == []
