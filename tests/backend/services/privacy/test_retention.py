"""Retention: personal data of closed reports goes after the period; the reports stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from backend.extensions import db
from backend.media.storage import FilesystemStorage
from backend.models import Photo, Report
from backend.models.base import utcnow
from backend.services import privacy
from tests.backend.services.privacy.citizens import file_report, privacy_app
from tests.peers.push_service import PushServiceReceiver
from workers.runner import make_worker


def test_retention_removes_personal_data_only_after_the_period(
    app_with: Any, push_service: PushServiceReceiver,
) -> None:
    app, cfg = privacy_app(app_with)
    old = file_report(app, push_service)
    recent = file_report(app, push_service, "other@example.org")
    still_open = file_report(app, push_service, "third@example.org")
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
