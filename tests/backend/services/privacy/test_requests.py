"""Access and erasure requests: everything about an address, then nothing; each erasure is in
the ledger before its transaction commits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from backend.cli import main
from backend.db.engine import make_engine
from backend.extensions import db
from backend.media.storage import storage_from_settings
from backend.models import AuditEntry, PushSubscription, Recipient, Report
from backend.services import privacy
from backend.settings import Settings
from tests.backend.services.privacy.citizens import EMAIL, file_report, follow, privacy_app
from tests.peers.push_service import PushServiceReceiver


def _env(cfg: Settings, data_dir: Path) -> dict[str, str]:
    return {"MM_DATABASE_URL": cfg.database_url, "MM_DATA_DIR": str(data_dir),
            "MM_SECRET_KEY": cfg.secret_key, "MM_MEDIA_ROOT": cfg.media_root,
            "MM_REDIS_URL": cfg.redis_url}


def test_export_and_erase_by_email(app_with: Any, push_service: PushServiceReceiver,
                                   tmp_path: Path) -> None:
    app, cfg = privacy_app(app_with)
    mine = file_report(app, push_service)
    other = file_report(app, push_service, "RitaXMeier@example.org")  # `_` is not a wildcard
    follow(app, other, EMAIL.upper())
    env = _env(cfg, tmp_path / "cli")
    exported = CliRunner().invoke(main, ["privacy", "export", EMAIL.lower()], env=env,
                                  catch_exceptions=False)
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
    # MM_ERASURE_LEDGER unset: the ledger is in MM_DATA_DIR, with the erasure's audit id.
    ledger = privacy.ErasureLedger(tmp_path / "cli" / "erasure-ledger.jsonl", cfg.secret_key)
    [recorded] = ledger.read()
    assert recorded.key == ledger.key(EMAIL) and recorded.id == entry.details["ledger_id"]
    again = json.loads(CliRunner().invoke(main, ["privacy", "export", EMAIL], env=env).stdout)
    assert again["reports"] == [] and again["following"] == []


def test_the_erasure_is_in_the_ledger_before_its_transaction_commits(
    app_with: Any, push_service: PushServiceReceiver,
) -> None:
    app, cfg = privacy_app(app_with)
    file_report(app, push_service)
    ledger = privacy.ErasureLedger.from_settings(cfg)
    seen_at_commit: list[list[privacy.LedgerEntry]] = []
    engine = make_engine(cfg.database_url)
    with Session(engine) as session:
        event.listen(session, "before_commit", lambda s: seen_at_commit.append(ledger.read()))
        privacy.erase(session, storage_from_settings(cfg), EMAIL, ledger=ledger)
    engine.dispose()
    [[entry]] = seen_at_commit
    assert entry.key == ledger.key(EMAIL)
    assert ledger.read() == [entry]


def test_an_erasure_that_cannot_be_recorded_changes_nothing(
    app_with: Any, push_service: PushServiceReceiver, tmp_path: Path,
) -> None:
    (tmp_path / "not-a-directory").write_text("")
    app, cfg = privacy_app(app_with,
                           erasure_ledger=str(tmp_path / "not-a-directory" / "ledger.jsonl"))
    file_report(app, push_service)
    engine = make_engine(cfg.database_url)
    with Session(engine) as session, pytest.raises(OSError):
        privacy.erase(session, storage_from_settings(cfg), EMAIL,
                      ledger=privacy.ErasureLedger.from_settings(cfg))
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Report).where(
            Report.reporter_email == EMAIL)) == 1
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "erase")) == 0
    engine.dispose()
