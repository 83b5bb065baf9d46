"""`maengelmelder addresses import` on both backends: counts, --replace, named bad lines."""

from __future__ import annotations

from pathlib import Path

from backend.settings import Settings
from tests.backend.services.addresses.helpers import SAMPLE, empty_register
from tests.backend.test_cli import _env, _run

__all__ = ["empty_register"]


def test_import_then_replace_prints_the_counts(empty_register: str, settings: Settings,
                                               tmp_path: Path) -> None:
    env = _env(settings.database_url, tmp_path)

    first = _run(env, "addresses", "import", str(SAMPLE))
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "Addresses: 21 added, 0 updated, 0 unchanged, 0 removed."

    small = tmp_path / "small.csv"
    small.write_text("street,housenumber,postcode,lat,lon\nTal,1,80331,48.1363,11.5780\n"
                     "Marienplatz,1,80331,48.1374,11.5755\n")
    replaced = _run(env, "addresses", "import", str(small), "--replace")
    assert replaced.stdout.strip() == "Addresses: 1 added, 0 updated, 1 unchanged, 20 removed."


def test_a_bad_file_exits_1_naming_each_line(empty_register: str, settings: Settings,
                                             tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("street,housenumber,postcode,lat,lon\nTal,,80331,48.1363,11.5780\n"
                   "Tal,3,80331,52.5,13.4\n")

    result = _run(_env(settings.database_url, tmp_path), "addresses", "import", str(bad))

    assert result.exit_code == 1
    assert f"The address file {bad} cannot be imported (2 problems; nothing was changed)" \
        in result.stderr
    assert "line 2: housenumber is missing" in result.stderr
    assert "line 3: the point 52.50000/13.40000 (lat/lon) lies outside the city" \
        in result.stderr
    assert result.stdout == ""
