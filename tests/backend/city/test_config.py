"""The city configuration file: the bundled Munich demo, and every way a file can be wrong."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.city.config import (
    CityConfig,
    RuleConfig,
    load_city_config,
    parse_city_config,
    problem_lines,
)
from backend.errors import ConfigurationError
from backend.settings import BUNDLED_CITY_CONFIG

# PRODUCT.md, "Demo configuration for Munich".
DEPARTMENTS = {
    "verkehrstechnik", "bezirksinspektion-mitte", "bezirksinspektion-nord",
    "bezirksinspektion-ost", "bezirksinspektion-sued", "bezirksinspektion-west",
    "anliegenmanagement",
}
GROUPS = ["ampel", "schild", "sonstiges"]
CATEGORIES = [  # (code, group, priority, German name)
    ("ampel-ausfall", "ampel", "urgent", "Ampel ganz ausgefallen"),
    ("ampel-lampe", "ampel", "high", "Einzelnes Licht defekt"),
    ("ampel-taster", "ampel", "high", "Taster oder Blindensignal defekt"),
    ("ampel-schaltung", "ampel", "normal", "Schaltung fehlerhaft"),
    ("schild-beschaedigt", "schild", "normal", "Verkehrszeichen beschädigt"),
    ("schild-verdreht", "schild", "high", "Verkehrszeichen verdreht oder umgefallen"),
    ("schild-fehlt", "schild", "high", "Verkehrszeichen fehlt"),
    ("schild-unleserlich", "schild", "normal",
     "Verkehrszeichen verschmutzt, zugewachsen oder unleserlich"),
    ("sonstiges", "sonstiges", "normal", "Sonstiger Mangel an der Straße"),
]
SIGN_AREAS = {
    "bezirksinspektion-mitte": ("01", "02", "03", "05", "08"),
    "bezirksinspektion-nord": ("04", "09", "10", "11", "12", "24"),
    "bezirksinspektion-ost": ("13", "14", "15", "16"),
    "bezirksinspektion-sued": ("06", "07", "17", "18", "19", "20"),
    "bezirksinspektion-west": ("21", "22", "23", "25"),
}


@pytest.fixture(scope="module")
def bundled() -> CityConfig:
    return load_city_config(BUNDLED_CITY_CONFIG)


@pytest.fixture(scope="module")
def bundled_raw() -> dict[str, Any]:
    return yaml.safe_load(BUNDLED_CITY_CONFIG.read_text(encoding="utf-8"))


def test_bundled_munich_file_has_the_seven_departments_of_the_product(
    bundled: CityConfig,
) -> None:
    codes = [d["code"] for d in bundled.departments]
    assert len(codes) == 7
    assert set(codes) == DEPARTMENTS


def test_bundled_munich_file_has_the_three_groups_in_order(bundled: CityConfig) -> None:
    assert [g["code"] for g in bundled.groups] == GROUPS


def test_bundled_munich_file_has_the_nine_categories_with_groups_and_priorities(
    bundled: CityConfig,
) -> None:
    found = [(c["code"], c["group"], c["priority"], c["name"]["de"]) for c in bundled.categories]
    assert found == CATEGORIES
    assert all(c["active"] for c in bundled.categories)
    assert all(c["name"]["en"] for c in bundled.categories)


def test_bundled_munich_file_routes_as_the_product_describes(bundled: CityConfig) -> None:
    expected = [RuleConfig(department="verkehrstechnik", group="ampel")]
    expected += [
        RuleConfig(department=department, group="schild", districts=numbers)
        for department, numbers in SIGN_AREAS.items()
    ]
    expected.append(RuleConfig(department="anliegenmanagement"))
    assert bundled.routing == expected


def test_bundled_sign_areas_cover_each_of_the_25_districts_exactly_once(
    bundled: CityConfig,
) -> None:
    numbers = [n for rule in bundled.routing if rule.group == "schild" for n in rule.districts]
    assert sorted(numbers) == [f"{n:02d}" for n in range(1, 26)]


def test_bundled_munich_file_ties_asset_types_to_the_groups(bundled: CityConfig) -> None:
    assert [(t["code"], t["groups"], t["name"]["de"]) for t in bundled.asset_types] == [
        ("traffic_signal", ["ampel"], "Ampel/Lichtsignalanlage"),
        ("sign_post", ["schild"], "Verkehrszeichen"),
    ]
    assert bundled.demo_assets is not None
    assert (bundled.demo_assets["layer"], bundled.demo_assets["type"],
            bundled.demo_assets["attribution"]) == (
        "lsa-osm", "traffic_signal", "© OpenStreetMap contributors")


def test_bundled_munich_file_names_the_official_district_download(bundled: CityConfig) -> None:
    assert bundled.city["code"] == "muenchen"
    assert bundled.city["demo"] is True
    assert bundled.city["metric_crs"] == "EPSG:25832"
    assert bundled.districts["number_field"] == "sb_nummer"
    assert bundled.districts["name_field"] == "sb_name"
    assert "vablock_stadtbezirk" in bundled.districts["source"]
    assert "dl-de/by-2-0" in bundled.districts["attribution"]


# --------------------------------------------------------------- invalid files --


def _without_categories(raw: dict[str, Any]) -> None:
    del raw["categories"]


def _unknown_priority(raw: dict[str, Any]) -> None:
    raw["categories"][2]["priority"] = "asap"


def _unknown_group(raw: dict[str, Any]) -> None:
    raw["categories"][4]["group"] = "schilder"


def _unknown_department(raw: dict[str, Any]) -> None:
    raw["routing"][0]["department"] = "tiefbau"


def _duplicate_category(raw: dict[str, Any]) -> None:
    raw["categories"].append(copy.deepcopy(raw["categories"][0]))


def _no_fallback(raw: dict[str, Any]) -> None:
    raw["routing"] = [r for r in raw["routing"] if r.get("group") or r.get("districts")]


def _category_and_group(raw: dict[str, Any]) -> None:
    raw["routing"][0]["category"] = "ampel-ausfall"


def _unknown_rule_category(raw: dict[str, Any]) -> None:
    raw["routing"].insert(0, {"category": "schlagloch", "department": "anliegenmanagement"})


def _bad_code(raw: dict[str, Any]) -> None:
    raw["departments"][0]["code"] = "Verkehrs Technik"


def _unknown_top_level_city_key(raw: dict[str, Any]) -> None:
    raw["city"]["colour"] = "blue"


def _wrong_version(raw: dict[str, Any]) -> None:
    raw["version"] = 2


def _asset_type_with_unknown_group(raw: dict[str, Any]) -> None:
    raw["asset_types"][1]["groups"] = ["schild", "laterne"]


def _duplicate_asset_type(raw: dict[str, Any]) -> None:
    raw["asset_types"].append(copy.deepcopy(raw["asset_types"][0]))


def _demo_assets_of_unknown_type(raw: dict[str, Any]) -> None:
    raw["demo_assets"]["type"] = "street_light"


def _asset_type_without_groups(raw: dict[str, Any]) -> None:
    raw["asset_types"][0]["groups"] = []


def _problem(error: ConfigurationError, *path: str | int) -> Any:
    node: Any = error.fields
    for key in path:
        node = node[key]
    return node


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (_without_categories, ("categories",), "Missing data"),
        (_unknown_priority, ("categories", 2, "priority"), "Must be one of"),
        (_unknown_group, ("categories.4.group",), "unknown group 'schilder'"),
        (_unknown_department, ("routing.0.department",), "unknown department 'tiefbau'"),
        (_duplicate_category, ("categories",), "duplicate code(s): ampel-ausfall"),
        (_no_fallback, ("routing",), "fallback"),
        (_category_and_group, ("routing", 0, "_schema"), "either category or group"),
        (_unknown_rule_category, ("routing.0.category",), "unknown category 'schlagloch'"),
        (_bad_code, ("departments", 0, "code"), "lowercase"),
        (_unknown_top_level_city_key, ("city", "colour"), "Unknown field"),
        (_wrong_version, ("version",), "equal to 1"),
        (_asset_type_with_unknown_group, ("asset_types.1.groups",),
         "unknown group(s): laterne"),
        (_duplicate_asset_type, ("asset_types",), "duplicate code(s): traffic_signal"),
        (_demo_assets_of_unknown_type, ("demo_assets.type",),
         "unknown asset type 'street_light'"),
        (_asset_type_without_groups, ("asset_types", 0, "groups"), "Shorter than minimum"),
    ],
    ids=[
        "missing-categories", "unknown-priority", "category-with-unknown-group",
        "rule-with-unknown-department", "duplicate-category-code", "no-fallback-rule",
        "rule-with-category-and-group", "rule-with-unknown-category", "code-not-lowercase",
        "unknown-city-key", "unsupported-version", "asset-type-with-unknown-group",
        "duplicate-asset-type", "demo-assets-of-unknown-type", "asset-type-without-groups",
    ],
)
def test_invalid_configuration_is_refused_naming_the_problem(
    bundled_raw: dict[str, Any], mutate: Callable[[dict[str, Any]], None],
    path: tuple[str | int, ...], fragment: str,
) -> None:
    raw = copy.deepcopy(bundled_raw)
    mutate(raw)
    with pytest.raises(ConfigurationError) as err:
        parse_city_config(yaml.safe_dump(raw, allow_unicode=True))
    assert err.value.message == "invalid city configuration"
    messages = _problem(err.value, *path)
    assert isinstance(messages, list)
    assert messages
    assert any(fragment in message for message in messages), messages


def test_every_reference_problem_is_reported_at_once(bundled_raw: dict[str, Any]) -> None:
    raw = copy.deepcopy(bundled_raw)
    for mutate in (_unknown_group, _unknown_department, _duplicate_category, _no_fallback):
        mutate(raw)
    with pytest.raises(ConfigurationError) as err:
        parse_city_config(yaml.safe_dump(raw, allow_unicode=True))
    assert set(err.value.fields) == {
        "categories.4.group", "routing.0.department", "categories", "routing",
    }


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("version: 1\ncity: [unclosed\n", "not valid YAML"),
        ("departments:\n  - code: a\n\tname: tab\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("", "must be a YAML mapping"),
    ],
    ids=["unclosed-flow-sequence", "tab-indentation", "a-list", "empty-file"],
)
def test_a_file_that_is_not_a_yaml_mapping_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        parse_city_config(text)
    assert fragment in err.value.message


def test_a_missing_file_is_a_configuration_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigurationError) as err:
        load_city_config(path)
    assert str(path) in err.value.message


def test_a_valid_file_round_trips_through_yaml(bundled_raw: dict[str, Any],
                                               bundled: CityConfig) -> None:
    again = parse_city_config(yaml.safe_dump(bundled_raw, allow_unicode=True))
    assert again == bundled


# ------------------------------------------------------------ Open311 forwarding --

FORWARDING = {"url": "https://open311.example.org/v2", "api_key_env": "MM_OPEN311_KEY"}


@pytest.mark.parametrize(
    ("open311", "message"),
    [
        ({"api_key_env": "MM_OPEN311_KEY"}, "Missing data for required field."),
        ({"url": "", "api_key_env": "MM_OPEN311_KEY"}, "not an http(s) URL"),
        ({"url": "ftp://open311.example.org", "api_key_env": "MM_OPEN311_KEY"},
         "not an http(s) URL"),
        ({"url": "open311.example.org/v2", "api_key_env": "MM_OPEN311_KEY"},
         "not an http(s) URL"),
    ],
    ids=["no-url", "empty-url", "ftp-url", "url-without-scheme"],
)
def test_a_forwarding_without_a_usable_url_is_refused_naming_department_and_field(
    bundled_raw: dict[str, Any], open311: dict[str, Any], message: str,
) -> None:
    raw = copy.deepcopy(bundled_raw)
    raw["departments"][0]["open311"] = open311
    with pytest.raises(ConfigurationError) as err:
        parse_city_config(yaml.safe_dump(raw, allow_unicode=True))
    assert err.value.fields == {"departments[verkehrstechnik].open311.url": [message]}
    assert problem_lines(err.value) == [f"department verkehrstechnik: open311.url: {message}"]


def test_forwarding_problems_are_named_alongside_the_other_problems(
    bundled_raw: dict[str, Any],
) -> None:
    raw = copy.deepcopy(bundled_raw)
    raw["departments"][1]["open311"] = {"url": "https://x.example.org", "api_key_env": "key"}
    _bad_code(raw)
    with pytest.raises(ConfigurationError) as err:
        parse_city_config(yaml.safe_dump(raw, allow_unicode=True))
    assert _problem(err.value, "departments", 0, "code")
    assert _problem(err.value, "departments[bezirksinspektion-mitte].open311.api_key_env")


def test_a_forwarding_with_an_http_url_loads_with_defaults_and_none_means_none(
    bundled_raw: dict[str, Any], bundled: CityConfig,
) -> None:
    raw = copy.deepcopy(bundled_raw)
    raw["departments"][0]["open311"] = FORWARDING
    raw["departments"][1]["open311"] = None
    config = parse_city_config(yaml.safe_dump(raw, allow_unicode=True))
    assert config.departments[0]["open311"] == {
        **FORWARDING, "jurisdiction_id": None, "service_codes": {}, "send_contact": False}
    assert config.departments[1]["open311"] is None
    assert all(d["open311"] is None for d in bundled.departments)
