"""Applying a city configuration: idempotent, keyed by codes, effective without a restart."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from backend.city.config import CityConfig, load_city_config, parse_city_config
from backend.db import migrate
from backend.db.engine import make_engine
from backend.errors import InvalidInput
from backend.models import (
    AssetType,
    Category,
    CategoryGroup,
    Department,
    Forwarding,
    Report,
    RoutingRule,
)
from backend.services import forwarding
from backend.services.city_cache import city_snapshot
from backend.services.city_config import apply_city_config, forwarding_problems
from backend.services.city_state import bump_config_version, read_versions
from backend.services.reports import NewReport, create_report
from backend.services.routing import route_report
from backend.services.seeding import seed_reports
from backend.settings import BUNDLED_CITY_CONFIG
from tests.conftest import SECRET

MARIENPLATZ = (11.5755, 48.1374)


def _bundled_raw() -> dict[str, Any]:
    return yaml.safe_load(BUNDLED_CITY_CONFIG.read_text(encoding="utf-8"))


def _variant(mutate: Callable[[dict[str, Any]], None]) -> CityConfig:
    raw = copy.deepcopy(_bundled_raw())
    mutate(raw)
    return parse_city_config(yaml.safe_dump(raw, allow_unicode=True))


def _category(raw: dict[str, Any], code: str) -> dict[str, Any]:
    return next(c for c in raw["categories"] if c["code"] == code)


def _row_ids(session: Session) -> dict[str, list[tuple[int, str]]]:
    return {
        model.__tablename__: sorted(session.execute(select(model.id, model.code)).all())
        for model in (Department, CategoryGroup, Category)
    } | {
        "routing_rule": sorted(
            (r.id, r.department_id) for r in session.scalars(select(RoutingRule))
        )
    }


@pytest.fixture
def fresh_engine(fresh_database_url: str) -> Iterator[Engine]:
    """An engine on a new database with the schema but no city configuration."""
    engine = make_engine(fresh_database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_first_apply_on_an_empty_database_creates_everything(fresh_engine: Engine) -> None:
    with Session(fresh_engine) as session:
        changes = apply_city_config(session, load_city_config(BUNDLED_CITY_CONFIG))
        assert changes.changed
        assert len([c for c in changes.created if c.startswith("department ")]) == 7
        assert len([c for c in changes.created if c.startswith("group ")]) == 3
        assert len([c for c in changes.created if c.startswith("category ")]) == 9
        assert changes.rules_added == 7
        assert changes.rules_removed == 0
        assert changes.deactivated == []
        assert read_versions(session)[0] != ""


def test_applying_the_same_file_twice_changes_nothing_the_second_time(
    fresh_engine: Engine,
) -> None:
    config = load_city_config(BUNDLED_CITY_CONFIG)
    with Session(fresh_engine) as session:
        assert apply_city_config(session, config).changed
        ids = _row_ids(session)
        version = read_versions(session)[0]
    with Session(fresh_engine) as session:
        second = apply_city_config(session, config)
        assert not second.changed
        assert (second.created, second.updated, second.deactivated) == ([], [], [])
        assert (second.rules_added, second.rules_removed) == (0, 0)
        assert _row_ids(session) == ids
        assert read_versions(session)[0] == version


def test_applying_the_bundled_file_to_an_initialized_database_is_a_no_op(
    session: Session,
) -> None:
    ids = _row_ids(session)
    versions = read_versions(session)
    changes = apply_city_config(session, load_city_config(BUNDLED_CITY_CONFIG))
    assert not changes.changed
    assert _row_ids(session) == ids
    assert read_versions(session) == versions


def test_a_renamed_category_is_updated_in_place_and_the_snapshot_shows_the_new_name(
    session: Session,
) -> None:
    before = city_snapshot(session)
    old_id = before.categories["schild-fehlt"].id
    assert before.categories["schild-fehlt"].name.de == "Verkehrszeichen fehlt"

    def rename(raw: dict[str, Any]) -> None:
        _category(raw, "schild-fehlt")["name"] = {"de": "Schild weg", "en": "Sign gone"}

    changes = apply_city_config(session, _variant(rename))

    assert changes.updated == ["category schild-fehlt"]
    assert changes.created == []
    assert session.scalar(select(func.count()).select_from(Category)) == 9
    row = session.scalar(select(Category).where(Category.code == "schild-fehlt"))
    assert (row.id, row.name_de, row.name_en) == (old_id, "Schild weg", "Sign gone")
    after = city_snapshot(session)
    assert after is not before
    assert after.categories["schild-fehlt"].name.de == "Schild weg"
    assert after.categories["schild-fehlt"].name.get("en") == "Sign gone"
    assert after.categories["schild-fehlt"].id == old_id


def test_a_category_removed_from_the_file_is_deactivated_not_deleted(session: Session) -> None:
    report = create_report(
        session, NewReport("schild-unleserlich", MARIENPLATZ[1], MARIENPLATZ[0], "kaum lesbar"),
        secret_key=SECRET,
    ).report
    category_id = report.category_id

    def remove(raw: dict[str, Any]) -> None:
        raw["categories"] = [c for c in raw["categories"] if c["code"] != "schild-unleserlich"]

    changes = apply_city_config(session, _variant(remove))

    assert changes.deactivated == ["category schild-unleserlich"]
    row = session.get(Category, category_id)
    assert row is not None
    assert row.active is False
    assert session.scalar(select(func.count()).select_from(Category)) == 9
    assert session.scalar(select(Report.category_id).where(Report.id == report.id)) \
        == category_id
    with pytest.raises(InvalidInput) as err:
        route_report(city_snapshot(session), "schild-unleserlich", *MARIENPLATZ)
    assert "category" in err.value.fields
    # The other categories still route.
    assert route_report(city_snapshot(session), "schild-fehlt", *MARIENPLATZ).category.active


def test_a_category_added_back_to_the_file_is_reactivated_with_its_old_id(
    session: Session,
) -> None:
    old_id = city_snapshot(session).categories["schild-unleserlich"].id

    def remove(raw: dict[str, Any]) -> None:
        raw["categories"] = [c for c in raw["categories"] if c["code"] != "schild-unleserlich"]

    apply_city_config(session, _variant(remove))
    changes = apply_city_config(session, load_city_config(BUNDLED_CITY_CONFIG))

    # (sonstiges moves back to its old position as well)
    assert "category schild-unleserlich" in changes.updated
    assert changes.created == []
    decision = route_report(city_snapshot(session), "schild-unleserlich", *MARIENPLATZ)
    assert decision.category.id == old_id


def test_a_changed_rule_routes_the_next_report_without_a_restart(session: Session) -> None:
    before = city_snapshot(session)
    assert route_report(before, "schild-fehlt", *MARIENPLATZ).department.code \
        == "bezirksinspektion-mitte"

    def move_01_to_nord(raw: dict[str, Any]) -> None:
        for rule in raw["routing"]:
            if rule.get("department") == "bezirksinspektion-mitte":
                rule["districts"].remove("01")
            if rule.get("department") == "bezirksinspektion-nord":
                rule["districts"].append("01")

    changes = apply_city_config(session, _variant(move_01_to_nord))

    assert (changes.rules_added, changes.rules_removed) == (2, 2)
    after = city_snapshot(session)
    assert after is not before
    assert after.versions[0] != before.versions[0]
    assert after.versions[1] == before.versions[1]
    assert route_report(after, "schild-fehlt", *MARIENPLATZ).department.code \
        == "bezirksinspektion-nord"
    # Another process (another engine on the same database) sees it too.
    session.commit()  # end our read transaction: on SQLite it holds the write lock
    other = make_engine(session.get_bind().url.render_as_string(hide_password=False))
    try:
        with Session(other) as other_session:
            created = create_report(
                other_session,
                NewReport("schild-fehlt", MARIENPLATZ[1], MARIENPLATZ[0], "weg"),
                secret_key=SECRET,
            )
            department = other_session.scalar(
                select(Department.code).join(Report, Report.department_id == Department.id)
                .where(Report.id == created.report.id)
            )
            assert department == "bezirksinspektion-nord"
    finally:
        other.dispose()
    # Traffic lights are not affected by the sign areas.
    assert route_report(after, "ampel-ausfall", *MARIENPLATZ).department.code \
        == "verkehrstechnik"


def test_a_removed_department_is_deactivated_and_its_rules_removed(session: Session) -> None:
    def drop_west(raw: dict[str, Any]) -> None:
        raw["departments"] = [
            d for d in raw["departments"] if d["code"] != "bezirksinspektion-west"
        ]
        raw["routing"] = [
            r for r in raw["routing"] if r["department"] != "bezirksinspektion-west"
        ]

    changes = apply_city_config(session, _variant(drop_west))

    assert changes.deactivated == ["department bezirksinspektion-west"]
    assert changes.rules_removed == 1
    department = session.scalar(
        select(Department).where(Department.code == "bezirksinspektion-west")
    )
    assert department is not None
    assert department.active is False
    # District 21 now falls through to the central triage.
    snapshot = city_snapshot(session)
    rule_departments = {rule.department.code for rule in snapshot.rules}
    assert "bezirksinspektion-west" not in rule_departments


# ------------------------------------------------- JSON columns that mean none --

FORWARDING = {"url": "https://open311.example.org/v2", "api_key_env": "MM_OPEN311_KEY"}


def _count(session: Session, sql: str) -> int:
    count = session.scalar(text(sql))
    session.commit()
    return count


def test_the_demo_configuration_stores_none_as_sql_null(session: Session) -> None:
    demo = load_city_config(BUNDLED_CITY_CONFIG)
    city_wide = sum(1 for rule in demo.routing if rule.districts is None)
    asking = sum(1 for category in demo.categories if category["attributes"])
    assert 0 < asking < len(demo.categories)
    assert _count(session, "select count(*) from department where open311 is not null") == 0
    assert _count(session, "select count(*) from category "
                           "where attributes is not null") == asking
    assert _count(session, "select count(*) from routing_rule "
                           "where district_numbers is null") == city_wide
    assert _count(session, "select count(*) from city_state "
                           "where service_levels is not null") == 1


def test_a_forwarding_removed_from_the_file_becomes_sql_null_again(session: Session) -> None:
    def forward(raw: dict[str, Any]) -> None:
        raw["departments"][0]["open311"] = FORWARDING

    apply_city_config(session, _variant(forward))
    assert _count(session, "select count(*) from department where open311 is not null") == 1

    changes = apply_city_config(session, load_city_config(BUNDLED_CITY_CONFIG))

    assert changes.updated == ["department verkehrstechnik"]
    assert _count(session, "select count(*) from department where open311 is not null") == 0
    assert forwarding_problems(session) == []


def test_new_and_seeded_demo_reports_are_not_forwarded(session: Session) -> None:
    create_report(session, NewReport("ampel-ausfall", MARIENPLATZ[1], MARIENPLATZ[0],
                                     "dunkel"), secret_key=SECRET)
    session.commit()
    seed_reports(session, 200)

    assert forwarding.create_missing(session) == 0
    assert session.scalar(select(func.count()).select_from(Forwarding)) == 0
    assert _count(session, "select count(*) from report "
                           "where review_flags is not null or attributes is not null") == 0


def test_stored_forwarding_problems_name_department_and_field(session: Session) -> None:
    session.execute(update(Department).where(Department.code == "verkehrstechnik").values(
        open311={"api_key_env": "MM_OPEN311_KEY"}))
    session.execute(text("update department set open311 = 'null' "
                         "where code = 'anliegenmanagement'"))
    session.execute(update(Department).where(Department.code == "bezirksinspektion-ost")
                    .values(open311=FORWARDING))
    bump_config_version(session)  # the shared PostGIS database is restored afterwards
    session.commit()

    problems = forwarding_problems(session)

    assert problems == [
        ("anliegenmanagement", "open311",
         "JSON null instead of SQL NULL; run `maengelmelder db upgrade`"),
        ("verkehrstechnik", "open311.url", "Missing data for required field."),
    ]


def test_asset_types_are_applied_with_their_groups_and_deactivated_when_dropped(
    session: Session,
) -> None:
    rows = {t.code: (t.group_codes, t.name_de, t.active)
            for t in session.scalars(select(AssetType))}
    assert rows == {"traffic_signal": (["ampel"], "Ampel/Lichtsignalanlage", True),
                    "sign_post": (["schild"], "Verkehrszeichen", True)}

    def drop_sign_posts(raw: dict[str, Any]) -> None:
        raw["asset_types"] = raw["asset_types"][:1]

    changes = apply_city_config(session, _variant(drop_sign_posts))

    assert changes.deactivated == ["asset type sign_post"]
    assert not session.scalar(select(AssetType.active).where(AssetType.code == "sign_post"))


def test_making_a_categorys_photos_staff_only_drops_its_reports_public_views(
    session: Session,
) -> None:
    from backend.models.public_view import ReportPublicView

    snapshot = city_snapshot(session)
    lon, lat = MARIENPLATZ
    signal = create_report(session, NewReport(category="ampel-ausfall", lon=lon, lat=lat,
                                              description="dunkel"), secret_key=SECRET,
                           snapshot=snapshot).report.id
    sign = create_report(session, NewReport(category="schild-fehlt", lon=lon, lat=lat,
                                            description="weg"), secret_key=SECRET,
                         snapshot=snapshot).report.id
    views = lambda: set(session.scalars(select(ReportPublicView.report_id)))  # noqa: E731
    assert {signal, sign} <= views()

    def staff_only(raw: dict[str, Any]) -> None:
        _category(raw, "ampel-ausfall")["photos_public"] = False

    try:
        changes = apply_city_config(session, _variant(staff_only))
        session.commit()
        assert changes.updated == ["category ampel-ausfall"]
        assert session.scalar(select(Category.photos_public)
                              .where(Category.code == "ampel-ausfall")) is False
        assert signal not in views() and sign in views()  # dropped: rendered on next read
    finally:  # the city tables outlive a test on PostGIS
        apply_city_config(session, load_city_config(BUNDLED_CITY_CONFIG))
        session.commit()
