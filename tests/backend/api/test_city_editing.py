"""Dispatchers change categories, departments and routing rules; the next report follows."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from backend.extensions import db
from tests.backend.api.helpers import ALLIANZ_ARENA, assert_error, create
from tests.backend.api.staff_helpers import audit_actions, make_user, token_for

CITY_URL = "/api/v1/admin/city"
RULES_URL = "/api/v1/admin/routing-rules"


@pytest.fixture
def dispatcher(app: Flask) -> dict[str, str]:
    make_user(app, "dora", "dispatcher", ("anliegenmanagement",), password=None)
    return token_for(app, "dora")


def _rules(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    return client.get(CITY_URL, headers=headers).get_json()["rules"]


def test_a_changed_rule_routes_the_next_report_without_a_restart(
    client: Any, dispatcher: dict[str, str],
) -> None:
    assert create(client)["department"]["code"] == "bezirksinspektion-mitte"
    rules = _rules(client, dispatcher)
    mitte = next(r for r in rules if r["department"] == "bezirksinspektion-mitte")
    mitte["districts"] = [d for d in mitte["districts"] if d != "01"]
    rules.insert(0, {"group": "schild", "districts": ["01"],
                     "department": "bezirksinspektion-nord"})
    response = client.put(RULES_URL, json={"rules": rules}, headers=dispatcher)
    assert response.status_code == 200, response.get_json()
    assert create(client)["department"]["code"] == "bezirksinspektion-nord"
    assert create(client, category="ampel-ausfall")["department"]["code"] == "verkehrstechnik"


def test_rules_without_a_fallback_or_with_unknown_codes_change_nothing(
    client: Any, dispatcher: dict[str, str],
) -> None:
    before = _rules(client, dispatcher)
    response = client.put(RULES_URL, headers=dispatcher, json={"rules": [
        {"group": "schild", "department": "nowhere"},
        {"category": "nope", "districts": ["99"], "department": "verkehrstechnik"},
    ]})
    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {
        "rules", "rules.0.department", "rules.1.category", "rules.1.districts"}
    assert _rules(client, dispatcher) == before
    assert create(client)["department"]["code"] == "bezirksinspektion-mitte"


def test_a_new_category_can_be_reported_at_once_and_a_deactivated_one_not(
    app: Flask, client: Any, dispatcher: dict[str, str],
) -> None:
    response = client.post("/api/v1/admin/categories", headers=dispatcher, json={
        "code": "schild-neu", "group": "schild", "name_de": "Neues Schild fehlt",
        "name_en": "New sign missing", "priority": "urgent"})
    assert response.status_code == 201, response.get_json()
    codes = [c["code"] for g in client.get("/api/v1/categories").get_json()["groups"]
             for c in g["categories"]]
    assert "schild-neu" in codes
    created = create(client, category="schild-neu", point=ALLIANZ_ARENA)
    assert created["priority"] == "urgent"
    assert created["department"]["code"] == "bezirksinspektion-nord"
    assert client.patch("/api/v1/admin/categories/schild-neu", headers=dispatcher,
                        json={"active": False}).status_code == 200
    refused = client.post("/api/v1/reports", json={
        "category": "schild-neu", "lat": 48.2188, "lon": 11.6247, "description": "x"})
    assert_error(refused, 422, "validation_failed", {"category"})
    assert audit_actions(app) == [("dora", "create_category"), ("dora", "change_category")]


def test_departments_are_added_and_renamed_and_bad_input_is_named(
    client: Any, dispatcher: dict[str, str],
) -> None:
    assert client.post("/api/v1/admin/departments", headers=dispatcher, json={
        "code": "baureferat", "name_de": "Baureferat", "name_en": "Building department"},
    ).status_code == 201
    assert client.patch("/api/v1/admin/departments/baureferat", headers=dispatcher,
                        json={"name_en": "Public works"}).status_code == 200
    departments = {d["code"]: d for d in client.get(CITY_URL, headers=dispatcher).get_json()[
        "departments"]}
    assert departments["baureferat"]["name_en"] == "Public works"
    assert_error(client.post("/api/v1/admin/departments", headers=dispatcher,
                             json={"code": "Bad Code", "name_de": ""}), 422,
                 "validation_failed", {"code", "name_de", "name_en"})
    assert_error(client.patch("/api/v1/admin/departments/verkehrstechnik", headers=dispatcher,
                              json={"active": False}), 422, "validation_failed", {"active"})



FORWARDING = {"url": "https://open311.example.org/v2", "api_key_env": "MM_OPEN311_KEY"}


def _forwarding_departments(app: Flask) -> list[str]:
    """Departments whose open311 column is not SQL NULL (what the forwarding service picks)."""
    with app.app_context():
        codes = list(db.session.scalars(text(
            "SELECT code FROM department WHERE open311 IS NOT NULL ORDER BY code")))
        db.session.commit()
    return codes


@pytest.mark.parametrize(
    ("open311", "field", "message"),
    [
        ({"api_key_env": "MM_OPEN311_KEY"}, "open311.url", "Missing data for required field."),
        ({**FORWARDING, "url": "mailto:ampel@example.org"}, "open311.url",
         "not an http(s) URL"),
        ({**FORWARDING, "colour": "blue"}, "open311.colour", "Unknown field."),
        ("https://open311.example.org/v2", "open311",
         "must be a mapping (or null for no forwarding)"),
    ],
    ids=["no-url", "mailto-url", "unknown-key", "not-a-mapping"],
)
def test_a_forwarding_without_a_usable_url_is_refused_naming_department_and_field(
    app: Flask, client: Any, dispatcher: dict[str, str], open311: Any, field: str, message: str,
) -> None:
    error = assert_error(client.patch(
        "/api/v1/admin/departments/verkehrstechnik", headers=dispatcher,
        json={"open311": open311}), 422, "validation_failed", {field})
    assert error["fields"][field] == [message]
    assert "verkehrstechnik" in error["message"]
    assert _forwarding_departments(app) == []


def test_a_forwarding_is_set_shown_and_removed_again_as_sql_null(
    app: Flask, client: Any, dispatcher: dict[str, str],
) -> None:
    url = "/api/v1/admin/departments/bezirksinspektion-ost"
    assert client.patch(url, headers=dispatcher, json={"open311": FORWARDING}).status_code == 200
    departments = {d["code"]: d for d in client.get(CITY_URL, headers=dispatcher).get_json()[
        "departments"]}
    assert departments["bezirksinspektion-ost"]["open311"] == {
        **FORWARDING, "jurisdiction_id": None, "service_codes": {}, "send_contact": False}
    assert departments["verkehrstechnik"]["open311"] is None
    assert _forwarding_departments(app) == ["bezirksinspektion-ost"]

    assert client.patch(url, headers=dispatcher, json={"open311": None}).status_code == 200

    assert _forwarding_departments(app) == []
    assert audit_actions(app)[-2:] == [("dora", "change_department")] * 2


def test_crew_may_not_edit_the_city(app: Flask, client: Any) -> None:
    make_user(app, "anna", "crew", ("bezirksinspektion-mitte",), password=None)
    crew = token_for(app, "anna")
    assert_error(client.put(RULES_URL, headers=crew, json={"rules": [
        {"department": "anliegenmanagement"}]}), 403, "forbidden")
    assert create(client)["department"]["code"] == "bezirksinspektion-mitte"


def test_admins_create_accounts_that_can_log_in(app: Flask, client: Any) -> None:
    make_user(app, "root", "admin", (), password=None)
    admin = token_for(app, "root")
    response = client.post("/api/v1/admin/users", headers=admin, json={
        "username": "carl", "password": "a long enough password", "role": "crew",
        "departments": ["bezirksinspektion-ost"]})
    assert response.status_code == 201, response.get_json()
    assert client.post("/api/v1/auth/login", json={
        "username": "carl", "password": "a long enough password"}).status_code == 200
    assert_error(client.post("/api/v1/admin/users", headers=admin, json={
        "username": "x", "password": "short", "role": "crew", "departments": []}),
        422, "validation_failed", {"username", "password", "departments"})
    assert_error(client.post("/api/v1/admin/users", headers=admin, json={
        "username": "carl", "password": "a long enough password", "role": "analyst"}),
        409, "conflict", {"username"})
    listed = [u["username"] for u in client.get("/api/v1/admin/users", headers=admin)
              .get_json()["users"]]
    assert listed == ["carl", "root"]
