"""Migration 0007 turns the JSON null the old models wrote into SQL NULL (issue 15)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from backend.db import migrate
from backend.db.engine import make_engine

FORWARDING = {"url": "https://open311.example.org/v2", "api_key_env": "MM_OPEN311_KEY"}
JSON_COLUMNS = (
    ("department", "open311"),
    ("category", "attributes"),
    ("routing_rule", "district_numbers"),
    ("city_state", "service_levels"),
    ("report", "review_flags"),
    ("report", "attributes"),
)


@pytest.fixture
def fresh_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _write_rows_as_the_old_models_did(conn: Connection) -> None:
    """One row per table with JSON null, and one with a real value that must stay."""
    postgres = conn.dialect.name == "postgresql"
    now = "'2026-11-01 08:00:00+00'" if postgres else "'2026-11-01 08:00:00.000000'"
    point = ("ST_SetSRID(ST_MakePoint(11.5755, 48.1374), 4326)" if postgres
             else "MakePoint(11.5755, 48.1374, 4326)")
    config = json.dumps(FORWARDING)
    for statement in (
        "INSERT INTO department (id, code, name_de, name_en, active, open311) VALUES "
        "(1, 'ohne', 'Ohne', 'Without', TRUE, 'null'), "
        f"(2, 'mit', 'Mit', 'With', TRUE, '{config}')",
        "INSERT INTO category_group (id, code, name_de, name_en, description_de, "
        "description_en, position, active) VALUES (1, 'ampel', 'Ampel', 'Lights', '', '', 0, "
        "TRUE)",
        "INSERT INTO category (id, code, group_id, name_de, name_en, description_de, "
        "description_en, default_priority, position, active, attributes) VALUES "
        "(1, 'ampel-ausfall', 1, 'Aus', 'Off', '', '', 'urgent', 0, TRUE, 'null'), "
        "(2, 'ampel-lampe', 1, 'Lampe', 'Lamp', '', '', 'high', 1, TRUE, "
        "'[{\"code\": \"farbe\"}]')",
        "INSERT INTO routing_rule (id, district_numbers, department_id) VALUES "
        "(1, 'null', 1), (2, '[\"01\", \"02\"]', 2)",
        "INSERT INTO city_state (id, config_version, layer_version, city_code, updated_at, "
        f"service_levels) VALUES (1, 'c', 'l', 'muenchen', {now}, 'null')",
        "INSERT INTO report (id, public_id, tracking_token_hash, category_id, description, "
        "geom, department_id, status, priority, reporter_locale, source, created_at, "
        "updated_at, review_flags, attributes) VALUES "
        f"(1, 'A1', 'h1', 1, 'dunkel', {point}, 1, 'submitted', 'urgent', 'de', 'api', "
        f"{now}, {now}, 'null', 'null'), "
        f"(2, 'A2', 'h2', 2, 'rot fehlt', {point}, 2, 'submitted', 'high', 'de', 'api', "
        f"{now}, {now}, '[\"photo_far_from_pin\"]', '{{\"farbe\": \"null\"}}')",
    ):
        conn.exec_driver_sql(statement)


def _not_null(conn: Connection, table: str, column: str) -> list[int]:
    return list(conn.execute(text(
        f"SELECT id FROM {table} WHERE {column} IS NOT NULL ORDER BY id")).scalars())


def test_upgrade_turns_json_null_into_sql_null_and_keeps_real_values(
    fresh_engine: Engine,
) -> None:
    migrate.upgrade(fresh_engine, "0006")
    with fresh_engine.begin() as conn:
        _write_rows_as_the_old_models_did(conn)
        # The bug: every department looked as if it forwarded.
        assert _not_null(conn, "department", "open311") == [1, 2]

    migrate.upgrade(fresh_engine, "0007")

    with fresh_engine.connect() as conn:
        found = {(table, column): _not_null(conn, table, column)
                 for table, column in JSON_COLUMNS}
        kept = conn.execute(text(
            "SELECT open311 FROM department WHERE id = 2")).scalar_one()
        attributes = conn.execute(text(
            "SELECT attributes FROM report WHERE id = 2")).scalar_one()
    assert found == {
        ("department", "open311"): [2],
        ("category", "attributes"): [2],
        ("routing_rule", "district_numbers"): [2],
        ("city_state", "service_levels"): [],
        ("report", "review_flags"): [2],
        ("report", "attributes"): [2],
    }
    # PostgreSQL's driver decodes json itself; SQLite hands back the text.
    assert (json.loads(kept) if isinstance(kept, str) else kept) == FORWARDING
    assert (json.loads(attributes) if isinstance(attributes, str) else attributes) == {
        "farbe": "null"}


def test_downgrade_from_0007_keeps_the_sql_nulls(fresh_engine: Engine) -> None:
    migrate.upgrade(fresh_engine, "0006")
    with fresh_engine.begin() as conn:
        _write_rows_as_the_old_models_did(conn)
    migrate.upgrade(fresh_engine, "0007")

    migrate.downgrade(fresh_engine, "0006")

    assert migrate.current_revision(fresh_engine) == "0006"
    with fresh_engine.connect() as conn:
        assert _not_null(conn, "department", "open311") == [2]
