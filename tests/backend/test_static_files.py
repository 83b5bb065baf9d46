"""`collect-static`: the files a reverse proxy serves itself are exactly those the app serves
under /app/ and /vendor/, byte for byte, with gzip twins for text."""

from __future__ import annotations

import gzip
from pathlib import Path

from click.testing import CliRunner

from backend.app import create_app
from backend.cli import main
from backend.settings import Settings
from backend.static_files import public_files
from tests.conftest import base_settings


def test_collected_files_match_what_the_app_serves(tmp_path: Path) -> None:
    settings = base_settings(f"sqlite:///{tmp_path}/db.sqlite", tmp_path)
    target = tmp_path / "static"
    result = CliRunner().invoke(main, ["collect-static", str(target)], env={
        "MM_DATA_DIR": str(tmp_path), "MM_SECRET_KEY": settings.secret_key})
    assert result.exit_code == 0, result.output
    expected = list(public_files(Settings()))
    assert f"{len(expected)} files" in result.output
    copied = sorted(p.relative_to(target).as_posix() for p in target.rglob("*")
                    if p.is_file() and p.suffix != ".gz")
    assert copied == sorted(url for url, _ in expected)
    assert "vendor/leaflet/leaflet.js" in copied and "app/main.js" in copied
    assert not any(p.startswith("vendor/leaflet/leaflet-src") for p in copied)  # listed only

    client = create_app(settings).test_client()
    for url_path in copied:
        served = client.get(f"/{url_path}")
        assert served.status_code == 200, url_path
        assert served.data == (target / url_path).read_bytes(), url_path
    js = target / "app" / "main.js"
    assert gzip.decompress((target / "app" / "main.js.gz").read_bytes()) == js.read_bytes()
    assert not (target / "vendor" / "leaflet" / "images" / "layers.png.gz").exists()
