"""Backup and restore between containers, with README.md's commands ("Backups and restore"):
the database dumped from the PostGIS container, the photos and the erasure ledger copied
out; then the stack is lost with every volume, and a fresh one is restored from the backup.
An erasure made after the backup is re-applied by `init`; everything else works as before.
Runs last: it replaces the stack's volumes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.deploy.containers.stack import Stack
from tests.polling import wait_until
from tests.shared_data import shared_data_dir

pytestmark = pytest.mark.slow
PHOTO = shared_data_dir() / "photos" / "gps" / "DSCN0021.jpg"


def _report(stack: Stack, email: str) -> dict:
    with PHOTO.open("rb") as photo:
        answer = stack.http().post(f"{stack.url}/api/v1/reports", timeout=30, data={
            "category": "schild-fehlt", "lat": "48.1374", "lon": "11.5755", "email": email,
            "description": f"Schild fehlt (Sicherung, {email})"},
            files={"photos": ("p.jpg", photo, "image/jpeg")},
            headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _photo(stack: Stack, report: dict) -> tuple[str, bytes]:
    track = f"{stack.url}/api/v1/track/{report['tracking_token']}"
    photos = wait_until(lambda: stack.http().get(track, timeout=10).json()["photos"],
                        "the photo's web sizes", timeout=90)
    url = photos[0]["display"]["jpeg"]
    return url, stack.http().get(url, timeout=10).content


def _tool(stack: Stack, backup: Path, *command: str, root: bool = False) -> None:
    """`docker compose run --rm --no-deps [--user root] -v backup:/backup --entrypoint …`
    (root reads and writes the backup directory, which the app's user may not)."""
    stack.compose("run", "--rm", "--no-deps", *(["--user", "root"] if root else []),
                  "-v", f"{backup}:/backup", "--entrypoint", command[0], "worker", *command[1:])


def test_a_fresh_stack_restored_from_a_backup_keeps_later_erasures(
    stack: Stack, tmp_path: Path,
) -> None:
    stack.wait_ready()
    erased = _report(stack, "vor-sicherung@example.org")
    kept = _report(stack, "bleibt@example.org")
    kept_photo = _photo(stack, kept)
    _photo(stack, erased)

    # Nightly backup: the database, then the photos.
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "db.dump").write_bytes(stack.compose(
        "exec", "-T", "db", "pg_dump", "-U", "maengelmelder", "-Fc", "maengelmelder"))
    _tool(stack, backup, "tar", "czf", "/backup/media.tar.gz", "-C", "/media", ".", root=True)

    # After the backup, the first reporter asks for erasure; the ledger is copied out.
    out = stack.exec("web", "maengelmelder", "privacy", "erase", "vor-sicherung@example.org")
    assert "erased: 1 report(s)" in out, out
    _tool(stack, backup, "cp", "/erasures/ledger.jsonl", "/backup/erasure-ledger.jsonl",
          root=True)
    assert "vor-sicherung" not in (backup / "erasure-ledger.jsonl").read_text()

    # The host is lost: every container and volume.
    stack.remove()

    # A fresh stack from the backup.
    stack.compose("up", "-d", "--no-deps", "db", "redis")
    wait_until(lambda: stack.healthy(stack.container("db")), "the fresh database",
               timeout=120, interval=1)
    stack.compose("exec", "-T", "db", "pg_restore", "-U", "maengelmelder", "-d",
                  "maengelmelder", "--no-owner", "--exit-on-error",
                  stdin=(backup / "db.dump").read_bytes())
    _tool(stack, backup, "tar", "xzf", "/backup/media.tar.gz", "-C", "/media", root=True)
    _tool(stack, backup, "install", "-o", "maengelmelder", "-g", "maengelmelder", "-m", "600",
          "/backup/erasure-ledger.jsonl", "/erasures/ledger.jsonl", root=True)
    # The restored database still has the erased address, until init runs.
    assert stack.psql("SELECT count(*) FROM report "
                      "WHERE reporter_email = 'vor-sicherung@example.org'") == "1"
    stack.start()

    init_log = stack.logs(stack.container("init"))
    assert "1 erasure(s) re-applied to 1 report(s)" in init_log, init_log[-2000:]
    assert stack.psql("SELECT count(*) FROM report "
                      "WHERE reporter_email = 'vor-sicherung@example.org'") == "0"
    assert stack.psql("SELECT count(*) FROM report "
                      "WHERE reporter_email = 'bleibt@example.org'") == "1"
    # The other report, its photo and its tracking link work as before the loss.
    http = stack.http()
    shown = http.get(f"{stack.url}/api/v1/track/{kept['tracking_token']}", timeout=10)
    assert shown.status_code == 200 and shown.json()["id"] == kept["id"]
    assert http.get(kept_photo[0], timeout=10).content == kept_photo[1]
    # And the restored city takes new reports.
    _report(stack, "neu@example.org")
