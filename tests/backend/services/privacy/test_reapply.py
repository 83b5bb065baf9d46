"""Erasures made after a backup are repeated when that backup is restored: by `init` on every
start, or by `privacy reapply-erasures`. Both backends, with real backups and restores."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.cli import main
from backend.db.engine import make_engine
from backend.extensions import db
from backend.media.storage import storage_from_settings
from backend.models import AuditEntry, Photo, PushSubscription, Recipient, Report
from backend.services import privacy
from backend.settings import Settings
from tests.backend.services.privacy.citizens import EMAIL, file_report, follow, privacy_app
from tests.backend.services.privacy.conftest import Backups
from tests.peers.push_service import PushServiceReceiver
from workers.runner import make_worker

OTHER = "other.person@example.org"


def _personal(url: str) -> dict[str, Any]:
    """The personal data a database holds, by what it belongs to."""
    engine = make_engine(url)
    with Session(engine) as session:
        reports = dict(session.execute(select(Report.description, Report.reporter_email)).all())
        recipients = sorted(
            (description, role, email or "-") for description, role, email in session.execute(
                select(Report.description, Recipient.role, Recipient.email).join(
                    Report, Report.id == Recipient.report_id)))
        live_push = dict(session.execute(
            select(Report.description, func.count()).join(
                Recipient, Recipient.report_id == Report.id).join(
                PushSubscription, PushSubscription.recipient_id == Recipient.id).where(
                ~PushSubscription.endpoint.startswith("erased:")).group_by(
                Report.description)).all())
        originals = dict(session.execute(
            select(Report.description, func.count()).join(
                Photo, Photo.report_id == Report.id).where(
                Photo.original_key.is_not(None)).group_by(Report.description)).all())
        audits = [(e.action, e.details) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.actor == "privacy").order_by(AuditEntry.id))]
    engine.dispose()
    return {"reports": reports, "recipients": recipients, "push": live_push,
            "originals": originals, "audits": audits}


def _erased_since_backup(app_with: Any, push_service: PushServiceReceiver,
                         backups: Backups) -> tuple[Settings, str]:
    """Rita reports a defect and follows another; a backup is taken; then she asks for
    erasure. Returns the live settings and a database restored from that backup."""
    app, cfg = privacy_app(app_with)
    file_report(app, push_service, description="Ritas alte Meldung")
    others = file_report(app, push_service, OTHER, description="Eine andere Meldung")
    follow(app, others, EMAIL.upper())
    make_worker(cfg).work(burst=True)  # photos ready; originals kept (setting)
    dump = backups.take(cfg.database_url)
    engine = make_engine(cfg.database_url)
    with Session(engine) as session:
        privacy.erase(session, storage_from_settings(cfg), EMAIL,
                      ledger=privacy.ErasureLedger.from_settings(cfg))
    engine.dispose()
    return cfg, backups.restore(dump)


@contextmanager
def _app_on(url: str, cfg: Settings) -> Iterator[Flask]:
    """The app on the restored database, with the live system's ledger and media."""
    app = create_app(replace(cfg, database_url=url,
                             erasure_ledger=str(cfg.erasure_ledger_path)))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_restored_backup_loses_again_what_was_erased_since_and_keeps_the_rest(
    app_with: Any, push_service: PushServiceReceiver, backups: Backups,
) -> None:
    cfg, restored_url = _erased_since_backup(app_with, push_service, backups)
    before = _personal(restored_url)
    assert before["reports"]["Ritas alte Meldung"] == EMAIL  # the restore brought it back
    # After the erasure, Rita reports again: that report is not part of her erasure.
    with _app_on(restored_url, cfg) as restored_app:
        file_report(restored_app, push_service, description="Ritas neue Meldung")

    engine = make_engine(restored_url)
    ledger = privacy.ErasureLedger.from_settings(cfg)
    with Session(engine) as session:
        done = privacy.reapply_erasures(session, storage_from_settings(cfg), ledger)
    assert (done.entries, done.erasures, done.reports, done.subscriptions, done.originals) == \
        (1, 1, 1, 1, 1)
    assert done.addresses == 2  # her reporter subscription and her following
    after = _personal(restored_url)
    assert after["reports"] == {"Ritas alte Meldung": None, "Eine andere Meldung": OTHER,
                                "Ritas neue Meldung": EMAIL}
    assert after["recipients"] == [
        ("Eine andere Meldung", "follower", "-"), ("Eine andere Meldung", "reporter", OTHER),
        ("Ritas alte Meldung", "reporter", "-"), ("Ritas neue Meldung", "reporter", EMAIL)]
    assert before["push"] == before["originals"] == {"Ritas alte Meldung": 1,
                                                     "Eine andere Meldung": 1}
    assert after["push"] == after["originals"] == {"Eine andere Meldung": 1,
                                                   "Ritas neue Meldung": 1}
    [(action, details)] = after["audits"]
    assert action == "erase-reapplied" and details["reports"] == 1
    assert "rita" not in str(details).lower() and ledger.key(EMAIL) not in str(details)

    with Session(engine) as session:  # idempotent: the second run finds nothing to do
        again = privacy.reapply_erasures(session, storage_from_settings(cfg), ledger)
    engine.dispose()
    assert (again.entries, again.erasures, again.reports, again.addresses) == (1, 0, 0, 0)
    assert _personal(restored_url) == after


def _cli_env(cfg: Settings, url: str, workdir: Path, districts_file: Path) -> dict[str, str]:
    return {"MM_DATABASE_URL": url, "MM_DATA_DIR": str(workdir), "MM_SECRET_KEY": cfg.secret_key,
            "MM_MEDIA_ROOT": cfg.media_root, "MM_REDIS_URL": cfg.redis_url,
            "MM_DISTRICTS_SOURCE": str(districts_file),
            "MM_ERASURE_LEDGER": str(cfg.erasure_ledger_path)}


def test_init_repeats_the_erasures_after_a_restore(
    app_with: Any, push_service: PushServiceReceiver, backups: Backups, tmp_path: Path,
    districts_file: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    cfg, restored_url = _erased_since_backup(app_with, push_service, backups)
    env = _cli_env(cfg, restored_url, tmp_path / "restored", districts_file)
    with caplog.at_level(logging.INFO, logger="backend.services.privacy"):
        first = CliRunner().invoke(main, ["init"], env=env, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "Erasure ledger: 1 erasure(s) re-applied to 1 report(s)" in first.stdout
    assert "erasure ledger: 1 erasure(s) re-applied to 1 report(s)" in caplog.messages
    assert all("rita" not in m.lower() for m in caplog.messages + [first.output])
    assert _personal(restored_url)["reports"]["Ritas alte Meldung"] is None
    second = CliRunner().invoke(main, ["init"], env=env, catch_exceptions=False)
    assert "Erasure ledger: 0 erasure(s) re-applied to 0 report(s)" in second.stdout
    manual = CliRunner().invoke(main, ["privacy", "reapply-erasures", "--ledger",
                                       str(cfg.erasure_ledger_path)], env=env)
    assert manual.exit_code == 0
    assert "1 entr(ies); 0 erasure(s) re-applied to 0 report(s)" in manual.stdout


def test_a_corrupt_ledger_line_stops_init_by_its_number_and_changes_nothing(
    app_with: Any, push_service: PushServiceReceiver, backups: Backups, tmp_path: Path,
    districts_file: Path,
) -> None:
    cfg, restored_url = _erased_since_backup(app_with, push_service, backups)
    with cfg.erasure_ledger_path.open("a") as fh:
        fh.write("this is no entry\n")
    privacy.ErasureLedger.from_settings(cfg).append(OTHER)
    before = _personal(restored_url)
    env = _cli_env(cfg, restored_url, tmp_path / "restored", districts_file)
    for command in (["init"], ["privacy", "reapply-erasures"]):
        failed = CliRunner().invoke(main, command, env=env)
        assert failed.exit_code == 1
        assert "erasure-ledger.jsonl, line 2 is not an erasure entry" in failed.stderr
        assert _personal(restored_url) == before
    assert before["reports"]["Ritas alte Meldung"] == EMAIL


def test_a_ledger_that_lacks_a_recorded_erasure_stops_init(
    app_with: Any, push_service: PushServiceReceiver, tmp_path: Path,
) -> None:
    app, cfg = privacy_app(app_with)
    file_report(app, push_service)
    file_report(app, push_service, OTHER)
    engine = make_engine(cfg.database_url)
    with Session(engine) as session:
        privacy.erase(session, storage_from_settings(cfg), EMAIL,
                      ledger=privacy.ErasureLedger.from_settings(cfg))
    # The database says Rita was erased; a ledger without her entry (an older copy, or a
    # path that is not on the volume that keeps it) would let the next restore undo it.
    older = privacy.ErasureLedger(tmp_path / "older-copy.jsonl", cfg.secret_key)
    older.append(OTHER)
    for ledger in (older, privacy.ErasureLedger(tmp_path / "missing.jsonl", cfg.secret_key)):
        with Session(engine) as session, pytest.raises(privacy.LedgerError,
                                                       match="records 1 erasure"):
            privacy.reapply_erasures(session, storage_from_settings(cfg), ledger)
    with Session(engine) as session:  # OTHER's entry was not applied either
        assert session.scalar(select(func.count()).select_from(Report).where(
            Report.reporter_email == OTHER)) == 1
    engine.dispose()
