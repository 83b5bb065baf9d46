"""Bad bodies for the admin city editor and staff accounts (issue 15, point 7): every wrong JSON
type, empty body, overlong text and unknown code gets a 422 (404 for an unknown address) that
names the field, and changes nothing: no configuration version, no audit entry, no row.

Text is checked against the model's column sizes: PostgreSQL refused longer text with a 500,
SQLite stored it. Every table runs on SpatiaLite and PostGIS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.backend.api.helpers import assert_error
from tests.backend.api.staff_helpers import make_user, token_for

ADMIN = "/api/v1/admin"
HUGE = "a" * 100_000
FALLBACK = {"department": "anliegenmanagement"}


def address(length: int) -> str:
    """A well-formed e-mail address of 254 to 256 characters (labels of at most 63)."""
    assert 254 <= length <= 256
    return "a" * 64 + "@" + ".".join(["b" * (length - 193)] + ["b" * 61] * 2) + ".org"


@dataclass(frozen=True)
class Admin:
    """An admin's headers, and the test client to send with."""

    client: Any
    headers: dict[str, str]

    def send(self, method: str, path: str, body: Any) -> Any:
        return self.client.open(ADMIN + path, method=method, json=body, headers=self.headers)

    def get(self, path: str) -> Any:
        response = self.client.get(ADMIN + path, headers=self.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()


@pytest.fixture
def admin(app: Flask, client: Any) -> Admin:
    make_user(app, "ada", "admin", (), password=None)
    make_user(app, "carl", "crew", ("bezirksinspektion-ost",))
    return Admin(client, token_for(app, "ada"))


def snapshot(admin: Admin, session: Session) -> tuple[Any, ...]:
    """What the editor shows, the accounts, the audit log and the configuration version."""
    try:
        stored = (session.scalar(text("SELECT count(*) FROM audit_log")),
                  session.scalar(text("SELECT config_version FROM city_state")))
    finally:
        session.rollback()
    return admin.get("/city"), admin.get("/users"), stored


def named(fields: dict[str, Any], prefix: str = "") -> set[str]:
    """The fields an error names, nested ones as dotted paths (`rules.0.department`)."""
    names: set[str] = set()
    for key, messages in fields.items():
        path = prefix if key == "_schema" else f"{prefix}.{key}" if prefix else key
        if isinstance(messages, dict):
            names |= named(messages, path)
        else:
            assert messages, fields
            names.add(path)
    return names


def assert_refused(response: Any, status: int, fields: set[str]) -> None:
    code = {404: "not_found", 422: "validation_failed"}[status]
    error = assert_error(response, status, code)
    assert named(error["fields"]) == fields, error["fields"]


def _cases(table: list[tuple[str, Any, set[str]]]) -> Any:
    return pytest.mark.parametrize(("body", "fields"), [c[1:] for c in table],
                                   ids=[c[0] for c in table])


# --------------------------------------------------------------------------- categories

NEW_CATEGORY = {"code": "schild-neu", "group": "schild", "name_de": "Neues Schild",
                "name_en": "New sign", "priority": "normal"}

CATEGORY_CHANGES = [
    # (id, body, fields named)
    ("empty-body", {}, {"body"}),
    ("priority-list", {"priority": []}, {"priority"}),
    ("priority-object", {"priority": {}}, {"priority"}),
    ("priority-number", {"priority": 1}, {"priority"}),
    ("priority-null", {"priority": None}, {"priority"}),
    ("priority-unknown", {"priority": "asap"}, {"priority"}),
    ("group-object", {"group": {"code": "schild"}}, {"group"}),
    ("group-list", {"group": ["schild"]}, {"group"}),
    ("group-number", {"group": 7}, {"group"}),
    ("group-true", {"group": True}, {"group"}),
    ("group-null", {"group": None}, {"group"}),
    ("group-unknown", {"group": "nope"}, {"group"}),
    ("group-100000-characters", {"group": HUGE}, {"group"}),
    ("name-de-100000-characters", {"name_de": HUGE}, {"name_de"}),
    ("name-en-201-characters", {"name_en": "a" * 201}, {"name_en"}),
    ("name-de-blank", {"name_de": "   "}, {"name_de"}),
    ("name-de-null", {"name_de": None}, {"name_de"}),
    ("name-en-number", {"name_en": 5}, {"name_en"}),
    ("description-de-object", {"description_de": {"de": "x"}}, {"description_de"}),
    ("active-string", {"active": "false"}, {"active"}),
    ("active-one", {"active": 1}, {"active"}),
    ("code-in-the-body", {"code": "schild-anders"}, {"code"}),
    ("unknown-field", {"colour": "red"}, {"colour"}),
    ("all-at-once", {"priority": [], "group": {}, "name_de": HUGE},
     {"priority", "group", "name_de"}),
]


@_cases(CATEGORY_CHANGES)
def test_a_bad_category_change_is_refused_naming_the_field(
    admin: Admin, session: Session, body: dict[str, Any], fields: set[str],
) -> None:
    before = snapshot(admin, session)

    assert_refused(admin.send("PATCH", "/categories/schild-fehlt", body), 422, fields)
    assert snapshot(admin, session) == before


NEW_CATEGORIES = [
    ("empty-body", {}, {"code", "group", "name_de", "name_en", "priority"}),
    ("code-number", {**NEW_CATEGORY, "code": 7}, {"code"}),
    ("code-list", {**NEW_CATEGORY, "code": ["schild-neu"]}, {"code"}),
    ("code-100000-characters", {**NEW_CATEGORY, "code": HUGE}, {"code"}),
    ("code-upper-case", {**NEW_CATEGORY, "code": "Schild Neu"}, {"code"}),
    ("group-object", {**NEW_CATEGORY, "group": {}}, {"group"}),
    ("group-number", {**NEW_CATEGORY, "group": 1}, {"group"}),
    ("group-unknown", {**NEW_CATEGORY, "group": "nope"}, {"group"}),
    ("priority-list", {**NEW_CATEGORY, "priority": []}, {"priority"}),
    ("names-100000-characters", {**NEW_CATEGORY, "name_de": HUGE, "name_en": HUGE},
     {"name_de", "name_en"}),
    ("description-en-number", {**NEW_CATEGORY, "description_en": 3}, {"description_en"}),
    ("active-null", {**NEW_CATEGORY, "active": None}, {"active"}),
]


@_cases(NEW_CATEGORIES)
def test_a_bad_new_category_is_refused_naming_the_field(
    admin: Admin, session: Session, body: dict[str, Any], fields: set[str],
) -> None:
    before = snapshot(admin, session)

    assert_refused(admin.send("POST", "/categories", body), 422, fields)
    assert snapshot(admin, session) == before


# --------------------------------------------------------------------------- departments

NEW_DEPARTMENT = {"code": "baureferat", "name_de": "Baureferat", "name_en": "Public works"}

DEPARTMENT_CHANGES = [
    ("empty-body", {}, {"body"}),
    ("name-de-100000-characters", {"name_de": HUGE}, {"name_de"}),
    ("name-en-201-characters", {"name_en": "a" * 201}, {"name_en"}),
    ("name-de-object", {"name_de": {"de": "x"}}, {"name_de"}),
    ("name-en-blank", {"name_en": ""}, {"name_en"}),
    ("email-100000-characters", {"email": HUGE + "@example.org"}, {"email"}),
    ("email-256-characters", {"email": address(256)}, {"email"}),
    ("email-not-an-address", {"email": "ampel at example.org"}, {"email"}),
    ("email-number", {"email": 5}, {"email"}),
    ("email-list", {"email": ["ampel@example.org"]}, {"email"}),
    ("active-string", {"active": "no"}, {"active"}),
    ("active-null", {"active": None}, {"active"}),
    ("open311-number", {"open311": 311}, {"open311"}),
    ("open311-list", {"open311": []}, {"open311"}),
    ("code-in-the-body", {"code": "anders"}, {"code"}),
    ("unknown-field", {"phone": "089 123"}, {"phone"}),
]


@_cases(DEPARTMENT_CHANGES)
def test_a_bad_department_change_is_refused_naming_the_field(
    admin: Admin, session: Session, body: dict[str, Any], fields: set[str],
) -> None:
    before = snapshot(admin, session)

    assert_refused(admin.send("PATCH", "/departments/verkehrstechnik", body), 422, fields)
    assert snapshot(admin, session) == before


NEW_DEPARTMENTS = [
    ("empty-body", {}, {"code", "name_de", "name_en"}),
    ("code-number", {**NEW_DEPARTMENT, "code": 12}, {"code"}),
    ("code-object", {**NEW_DEPARTMENT, "code": {}}, {"code"}),
    ("code-65-characters", {**NEW_DEPARTMENT, "code": "a" * 65}, {"code"}),
    ("names-100000-characters", {**NEW_DEPARTMENT, "name_de": HUGE, "name_en": HUGE},
     {"name_de", "name_en"}),
    ("name-en-true", {**NEW_DEPARTMENT, "name_en": True}, {"name_en"}),
    ("email-100000-characters", {**NEW_DEPARTMENT, "email": HUGE + "@example.org"},
     {"email"}),
    ("open311-string", {**NEW_DEPARTMENT, "open311": "https://open311.example.org"},
     {"open311"}),
]


@_cases(NEW_DEPARTMENTS)
def test_a_bad_new_department_is_refused_naming_the_field(
    admin: Admin, session: Session, body: dict[str, Any], fields: set[str],
) -> None:
    before = snapshot(admin, session)

    assert_refused(admin.send("POST", "/departments", body), 422, fields)
    assert snapshot(admin, session) == before


# --------------------------------------------------------------------------- routing rules

RULES = [
    ("empty-body", {}, {"rules"}),
    ("no-rules", {"rules": []}, {"rules"}),
    ("rules-null", {"rules": None}, {"rules"}),
    ("rules-string", {"rules": "all"}, {"rules"}),
    ("rules-object", {"rules": FALLBACK}, {"rules"}),
    ("rule-number", {"rules": [1]}, {"rules.0"}),
    ("rule-list", {"rules": [[FALLBACK]]}, {"rules.0"}),
    ("department-missing", {"rules": [{}]}, {"rules.0.department"}),
    ("department-number", {"rules": [{"department": 5}]}, {"rules.0.department"}),
    ("department-object", {"rules": [{"department": {}}]}, {"rules.0.department"}),
    ("department-100000-characters", {"rules": [{"department": HUGE}]},
     {"rules.0.department"}),
    ("department-unknown", {"rules": [{"department": "nowhere"}]}, {"rules.0.department"}),
    ("category-true", {"rules": [FALLBACK, {**FALLBACK, "category": True}]},
     {"rules.1.category"}),
    ("category-100000-characters", {"rules": [FALLBACK, {**FALLBACK, "category": HUGE}]},
     {"rules.1.category"}),
    ("category-unknown", {"rules": [FALLBACK, {**FALLBACK, "category": "nope"}]},
     {"rules.1.category"}),
    ("group-list", {"rules": [FALLBACK, {**FALLBACK, "group": ["schild"]}]},
     {"rules.1.group"}),
    ("category-and-group", {"rules": [FALLBACK, {**FALLBACK, "category": "schild-fehlt",
                                                 "group": "schild"}]}, {"rules.1"}),
    ("districts-string", {"rules": [FALLBACK, {**FALLBACK, "districts": "01"}]},
     {"rules.1.districts"}),
    ("districts-numbers", {"rules": [FALLBACK, {**FALLBACK, "districts": [1, 2]}]},
     {"rules.1.districts.0", "rules.1.districts.1"}),
    ("district-100000-characters", {"rules": [FALLBACK, {**FALLBACK, "districts": [HUGE]}]},
     {"rules.1.districts.0"}),
    ("districts-1001", {"rules": [FALLBACK, {**FALLBACK, "districts": ["01"] * 1001}]},
     {"rules.1.districts"}),
    ("districts-unknown", {"rules": [FALLBACK, {**FALLBACK, "districts": ["99"]}]},
     {"rules.1.districts"}),
    ("no-fallback", {"rules": [{**FALLBACK, "group": "schild"}]}, {"rules"}),
    ("same-selector-twice", {"rules": [FALLBACK, {**FALLBACK, "districts": ["01", "01"]},
                                       {**FALLBACK, "districts": ["01"]}]}, {"rules"}),
    ("unknown-field-in-a-rule", {"rules": [{**FALLBACK, "colour": "red"}]},
     {"rules.0.colour"}),
    ("unknown-field", {"rules": [FALLBACK], "colour": "red"}, {"colour"}),
]


@_cases(RULES)
def test_bad_routing_rules_are_refused_naming_the_field(
    admin: Admin, session: Session, body: dict[str, Any], fields: set[str],
) -> None:
    before = snapshot(admin, session)

    assert_refused(admin.send("PUT", "/routing-rules", body), 422, fields)
    assert snapshot(admin, session) == before


# --------------------------------------------------------------------------- staff accounts

NEW_USER = {"username": "dora", "password": "a long enough password", "role": "crew",
            "departments": ["verkehrstechnik"]}

NEW_USERS = [
    ("empty-body", {}, {"username", "password", "role"}),
    ("username-number", {**NEW_USER, "username": 5}, {"username"}),
    ("username-100000-characters", {**NEW_USER, "username": HUGE}, {"username"}),
    ("username-upper-case", {**NEW_USER, "username": "Dora Duck"}, {"username"}),
    ("display-name-100000-characters", {**NEW_USER, "display_name": HUGE}, {"display_name"}),
    ("display-name-list", {**NEW_USER, "display_name": ["Dora"]}, {"display_name"}),
    ("password-object", {**NEW_USER, "password": {}}, {"password"}),
    ("password-short", {**NEW_USER, "password": "short"}, {"password"}),
    ("role-unknown", {**NEW_USER, "role": "mayor"}, {"role"}),
    ("role-true", {**NEW_USER, "role": True}, {"role"}),
    ("departments-string", {**NEW_USER, "departments": "verkehrstechnik"}, {"departments"}),
    ("departments-numbers", {**NEW_USER, "departments": [5]}, {"departments.0"}),
    ("department-100000-characters", {**NEW_USER, "departments": [HUGE]}, {"departments.0"}),
    ("departments-1001", {**NEW_USER, "departments": ["verkehrstechnik"] * 1001},
     {"departments"}),
    ("department-unknown", {**NEW_USER, "departments": ["nowhere"]}, {"departments"}),
    ("crew-without-departments", {**NEW_USER, "departments": []}, {"departments"}),
    ("unknown-field", {**NEW_USER, "email": "dora@example.org"}, {"email"}),
]


@_cases(NEW_USERS)
def test_a_bad_new_account_is_refused_naming_the_field(
    admin: Admin, session: Session, body: dict[str, Any], fields: set[str],
) -> None:
    before = snapshot(admin, session)

    assert_refused(admin.send("POST", "/users", body), 422, fields)
    assert snapshot(admin, session) == before


USER_CHANGES = [
    ("empty-body", {}, {"body"}),
    ("display-name-100000-characters", {"display_name": HUGE}, {"display_name"}),
    ("display-name-201-characters", {"display_name": "a" * 201}, {"display_name"}),
    ("display-name-null", {"display_name": None}, {"display_name"}),
    ("password-number", {"password": 1234567890123}, {"password"}),
    ("password-short", {"password": "short"}, {"password"}),
    ("role-list", {"role": ["admin"]}, {"role"}),
    ("active-one", {"active": 1}, {"active"}),
    ("active-string", {"active": "true"}, {"active"}),
    ("departments-object", {"departments": {}}, {"departments"}),
    ("department-100000-characters", {"departments": [HUGE]}, {"departments.0"}),
    ("crew-without-departments", {"departments": []}, {"departments"}),
    ("username-in-the-body", {"username": "carla"}, {"username"}),
]


@_cases(USER_CHANGES)
def test_a_bad_account_change_is_refused_naming_the_field(
    admin: Admin, session: Session, body: dict[str, Any], fields: set[str],
) -> None:
    before = snapshot(admin, session)

    assert_refused(admin.send("PATCH", "/users/carl", body), 422, fields)
    assert snapshot(admin, session) == before


# --------------------------------------------------------------------------- unknown codes

UNKNOWN = [
    # (id, method, path, body, fields named)
    ("category", "PATCH", "/categories/nope", {"active": False}, {"code"}),
    ("category-100000-characters", "PATCH", f"/categories/{HUGE}", {"active": False}, {"code"}),
    ("department", "PATCH", "/departments/nowhere", {"name_de": "Irgendwo"}, {"code"}),
    ("department-100000-characters", "PATCH", f"/departments/{HUGE}", {"active": True},
     {"code"}),
    ("user", "PATCH", "/users/nobody", {"active": False}, {"username"}),
    ("user-100000-characters", "PATCH", f"/users/{HUGE}", {"active": False}, {"username"}),
]


@pytest.mark.parametrize(("method", "path", "body", "fields"), [c[1:] for c in UNKNOWN],
                         ids=[c[0] for c in UNKNOWN])
def test_an_unknown_code_in_the_address_is_not_found(
    admin: Admin, session: Session, method: str, path: str, body: dict[str, Any],
    fields: set[str],
) -> None:
    before = snapshot(admin, session)

    assert_refused(admin.send(method, path, body), 404, fields)
    assert snapshot(admin, session) == before


def test_an_existing_code_is_a_conflict(admin: Admin, session: Session) -> None:
    before = snapshot(admin, session)

    for path, code in (("/categories", "schild-fehlt"), ("/departments", "verkehrstechnik")):
        body = {**(NEW_CATEGORY if path == "/categories" else NEW_DEPARTMENT), "code": code}
        assert_error(admin.send("POST", path, body), 409, "conflict", {"code"})
    assert snapshot(admin, session) == before


# --------------------------------------------------------------------------- what still fits

def test_names_and_email_as_long_as_their_columns_are_stored_whole(admin: Admin) -> None:
    name, email = "Ä" * 200, address(254)
    assert admin.send("POST", "/categories", {**NEW_CATEGORY, "name_de": name}).status_code == 201
    assert admin.send("PATCH", "/departments/verkehrstechnik",
                      {"name_en": name, "email": email}).status_code == 200
    assert admin.send("PATCH", "/users/carl", {"display_name": name}).status_code == 200

    city = admin.get("/city")
    category = next(c for c in city["categories"] if c["code"] == "schild-neu")
    department = next(d for d in city["departments"] if d["code"] == "verkehrstechnik")
    carl = next(u for u in admin.get("/users")["users"] if u["username"] == "carl")
    assert (category["name_de"], department["name_en"], department["email"],
            carl["display_name"]) == (name, name, email, name)


def test_a_department_listed_twice_is_one_membership(admin: Admin) -> None:
    created = admin.send("POST", "/users", {**NEW_USER, "departments": [
        "verkehrstechnik", "bezirksinspektion-ost", "verkehrstechnik"]})
    changed = admin.send("PATCH", "/users/carl", {"departments": [
        "bezirksinspektion-ost", "bezirksinspektion-ost"]})

    assert created.status_code == 201, created.get_json()
    assert sorted(d["code"] for d in created.get_json()["departments"]) == [
        "bezirksinspektion-ost", "verkehrstechnik"]
    assert changed.status_code == 200, changed.get_json()
    assert [d["code"] for d in changed.get_json()["departments"]] == ["bezirksinspektion-ost"]


def test_a_district_listed_twice_is_stored_once(admin: Admin) -> None:
    response = admin.send("PUT", "/routing-rules", {"rules": [
        FALLBACK, {"department": "verkehrstechnik", "districts": ["02", "01", "02"]}]})

    assert response.status_code == 200, response.get_json()
    assert [r["districts"] for r in response.get_json()["rules"]] == [None, ["01", "02"]]
