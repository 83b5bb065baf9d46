"""Reports on behalf of a caller through the API, on both backends: routed like a citizen's,
idempotent per person, audited, 'filed by the service desk' for staff only, and the slip's
short code opens the tracking link (a wrong one does not)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from backend.extensions import db
from backend.models import AuditEntry, Notification, Report
from tests.backend.api.helpers import ALLIANZ_ARENA, MARIENPLATZ, assert_error, create
from tests.backend.api.staff_helpers import audit_actions, make_user, report_url, token_for

DESK_URL = "/api/v1/staff/reports"
CODE_URL = "/api/v1/track/code"


def _body(category: str = "schild-fehlt", point: tuple[float, float] = MARIENPLATZ,
          **extra: Any) -> dict[str, Any]:
    return {"category": category, "lon": point[0], "lat": point[1],
            "description": "Anruferin: Schild fehlt an der Ecke", "address": "Marienplatz 1",
            **extra}


def _dispatcher(app: Flask, name: str = "desk") -> dict[str, str]:
    make_user(app, name, "dispatcher", ("anliegenmanagement",), password=None)
    return token_for(app, name)


def test_a_caller_report_is_routed_like_a_citizens(app: Flask, client: Any) -> None:
    headers = _dispatcher(app)
    cases = [("schild-fehlt", MARIENPLATZ, "bezirksinspektion-mitte"),
             ("schild-fehlt", ALLIANZ_ARENA, "bezirksinspektion-nord"),
             ("ampel-ausfall", MARIENPLATZ, "verkehrstechnik")]
    for category, point, department in cases:
        citizen = create(client, category=category, point=point)
        response = client.post(DESK_URL, json=_body(category, point), headers=headers)
        assert response.status_code == 201, response.get_json()
        filed = response.get_json()
        staff_view = client.get(report_url(filed["id"]), headers=headers).get_json()
        citizen_view = client.get(report_url(citizen["id"]), headers=headers).get_json()
        assert staff_view["department"]["code"] == department
        for key in ("department", "district", "priority", "category"):
            assert staff_view[key] == citizen_view[key], (category, key)
        assert staff_view["status"] == "submitted"
        assert filed["tracking_url"].startswith("http://")
        assert "/track/" in filed["tracking_url"]


def test_staff_see_who_filed_it_and_the_public_does_not(app: Flask, client: Any) -> None:
    headers = _dispatcher(app, "hotline-anna")
    filed = client.post(DESK_URL, json=_body(name="Frau Huber", phone="089 1234567"),
                        headers=headers).get_json()
    staff_view = client.get(report_url(filed["id"]), headers=headers).get_json()
    assert staff_view["filed_by_desk"] == {"username": "hotline-anna",
                                           "display_name": "Hotline-Anna"}
    citizen = create(client)
    assert client.get(report_url(citizen["id"]),
                      headers=headers).get_json()["filed_by_desk"] is None

    public = client.get(f"/api/v1/reports/{filed['id']}")
    text = public.get_data(as_text=True)
    assert public.status_code == 200
    for secret in ("desk", "hotline", "Huber", "1234567"):
        assert secret not in text.lower(), secret
    token = filed["tracking_url"].rsplit("/", 1)[1]
    tracked = client.get(f"/api/v1/track/{token}").get_data(as_text=True)
    for secret in ("desk", "hotline"):
        assert secret not in tracked.lower(), secret
    assert ("hotline-anna", "report_on_behalf") in audit_actions(app)


def test_the_same_key_files_once_and_audits_once(app: Flask, client: Any) -> None:
    headers = {**_dispatcher(app), "Idempotency-Key": "call-0815"}
    first = client.post(DESK_URL, json=_body(email="caller@example.org"), headers=headers)
    again = client.post(DESK_URL, json=_body(email="caller@example.org"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["slip_code"] == first.get_json()["slip_code"]
    with app.app_context():
        assert db.session.query(Report).filter_by(source="desk").count() == 1
        assert db.session.query(AuditEntry).filter_by(action="report_on_behalf").count() == 1
        assert db.session.query(Notification).count() == 1  # one confirmation e-mail
    changed = client.post(DESK_URL, json=_body(description="anders"), headers=headers)
    assert_error(changed, 409, "conflict")
    # A citizen's identical key is a different namespace.
    citizen = client.post("/api/v1/reports", json=_body(), headers={"Idempotency-Key":
                                                                    "call-0815"})
    assert citizen.status_code == 201
    assert citizen.get_json()["id"] != first.get_json()["id"]


def test_the_slip_code_opens_the_tracking_link_and_a_wrong_one_does_not(
        app: Flask, client: Any) -> None:
    headers = _dispatcher(app)
    filed = client.post(DESK_URL, json=_body(), headers=headers).get_json()
    code = filed["slip_code"]
    number, pin = code.split("-")
    assert number == filed["id"] and len(pin) == 8
    opened = client.post(CODE_URL, json={"code": f" {code.upper()} "})
    assert opened.status_code == 200, opened.get_json()
    assert opened.get_json()["tracking_url"] == filed["tracking_url"]
    assert opened.headers["Cache-Control"] == "no-store"
    wrong = pin[:-1] + ("a" if pin[-1] != "a" else "b")
    assert_error(client.post(CODE_URL, json={"code": f"{number}-{wrong}"}), 404, "not_found")
    citizen = create(client)  # a citizen keeps their token; no code opens their report
    assert_error(client.post(CODE_URL, json={"code": f"{citizen['id']}-{pin}"}), 404,
                 "not_found")


def test_bad_input_is_named_at_the_field(app: Flask, client: Any) -> None:
    headers = _dispatcher(app)
    response = client.post(DESK_URL, json={**_body(), "category": "", "phone": "call me",
                                           "email": "nope", "language": "xx"},
                           headers=headers)
    assert response.status_code == 422
    assert {"category", "phone", "email", "language"} <= set(
        response.get_json()["error"]["fields"])
    outside = client.post(DESK_URL, json=_body(point=(11.0, 48.0)), headers=headers)
    assert outside.status_code == 422


def test_crews_and_analysts_may_not_file_for_callers(app: Flask, client: Any) -> None:
    for name, role, departments in (("crew", "crew", ("bezirksinspektion-mitte",)),
                                    ("ana", "analyst", ())):
        make_user(app, name, role, departments, password=None)
        response = client.post(DESK_URL, json=_body(), headers=token_for(app, name))
        assert_error(response, 403, "forbidden")
    with app.app_context():
        assert db.session.query(Report).count() == 0
