"""Response templates through the API on both backends: admins create, change and deactivate
them (audited; others 403; unknown placeholders named at the field); staff get them filled in
for a report in the reporter's language; the text sent as public_note is exactly what the
reporter's tracking view shows."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.backend.api.helpers import REPORTS_URL, assert_error, create, report_body
from tests.backend.api.staff_helpers import audit_actions, make_user, report_url, token_for

ADMIN_URL = "/api/v1/admin/templates"
MITTE = "bezirksinspektion-mitte"
TEXTS = {"de": "Meldung {report_number} ({category}) erledigt von {department}.",
         "en": "Report {report_number} ({category}) fixed by {department}."}


def test_admins_create_change_and_deactivate_templates_audited(app: Flask, client: Any) -> None:
    make_user(app, "ada", "admin", password=None)
    headers = token_for(app, "ada")
    listing = client.get(ADMIN_URL, headers=headers)
    assert listing.status_code == 200
    body = listing.get_json()
    assert "{expected_date}"[1:-1] in body["placeholders"] and {"de", "en"} <= set(
        body["languages"])
    assert len(body["templates"]) >= 4  # the demo configuration's
    made = client.post(ADMIN_URL, json={"name": "Schild neu", "group": "schild",
                                        "status": "resolved", "texts": TEXTS}, headers=headers)
    assert made.status_code == 201, made.get_json()
    template = made.get_json()
    assert template["texts"] == TEXTS and template["active"] is True
    changed = client.patch(f"{ADMIN_URL}/{template['id']}", json={"active": False},
                           headers=headers)
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert_error(client.post(ADMIN_URL, json={"name": "schild NEU", "texts": TEXTS},
                             headers=headers), 409, "conflict", {"name"})
    assert_error(client.patch(f"{ADMIN_URL}/999999", json={"active": True}, headers=headers),
                 404, "not_found")
    assert [a for a in audit_actions(app) if a[1].endswith("_template")] == [
        ("ada", "create_template"), ("ada", "change_template")]


def test_unknown_placeholders_are_refused_at_the_field(app: Flask, client: Any) -> None:
    make_user(app, "ada", "admin", password=None)
    headers = token_for(app, "ada")
    response = client.post(ADMIN_URL, json={"name": "Falsch", "texts": {
        "de": "Hallo {reporter_name}", "en": "Hello {report_number}"}}, headers=headers)
    error = assert_error(response, 422, "validation_failed", {"texts.de"})
    assert "{reporter_name}" in error["fields"]["texts.de"][0]
    assert_error(client.post(ADMIN_URL, json={"name": "Ohne", "texts": {"de": "Hallo"}},
                             headers=headers), 422, "validation_failed", {"texts.en"})
    assert_error(client.post(ADMIN_URL, json={"name": "x", "texts": TEXTS, "colour": 1},
                             headers=headers), 422, "validation_failed", {"colour"})


def test_only_admins_manage_templates(app: Flask, client: Any) -> None:
    for role, departments in (("dispatcher", ()), ("crew", (MITTE,)), ("analyst", ())):
        make_user(app, role, role, departments, password=None)
        headers = token_for(app, role)
        assert_error(client.get(ADMIN_URL, headers=headers), 403, "forbidden")
        assert_error(client.post(ADMIN_URL, json={"name": "x", "texts": TEXTS},
                                 headers=headers), 403, "forbidden")
        assert_error(client.patch(f"{ADMIN_URL}/1", json={"active": False}, headers=headers),
                     403, "forbidden")
    assert not [a for a in audit_actions(app) if a[1].endswith("_template")]


def test_the_reporter_receives_exactly_the_text_staff_saw_and_edited(app: Flask,
                                                                     client: Any) -> None:
    make_user(app, "crew", "crew", (MITTE,), password=None)
    headers = token_for(app, "crew")
    response = client.post(REPORTS_URL, json=report_body("schild-fehlt"),
                           headers={"Accept-Language": "en"})
    assert response.status_code == 201
    report = response.get_json()
    answer = client.get(report_url(report["id"], "templates"),
                        query_string={"status": "resolved"},
                        headers={**headers, "Accept-Language": "de"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "private, no-store"
    body = answer.get_json()
    assert body["reporter_language"] == "en"
    sign = next(t for t in body["templates"] if t["name"] == "Schild – ersetzt oder gerichtet")
    assert sign["reporter"]["language"] == "en"
    assert sign["reporter"]["text"].startswith(f"The street sign (report {report['id']})")
    assert "{" not in sign["reporter"]["text"] and "{" not in sign["staff"]["text"]
    assert sign["staff"]["language"] == "de"
    assert sign["staff"]["text"].startswith(f"Das Verkehrszeichen (Meldung {report['id']})")
    # templates for the traffic-light group are not offered for a sign
    assert "Ampel – Störung behoben" not in {t["name"] for t in body["templates"]}
    sent = sign["reporter"]["text"] + " The new sign is reflective."
    resolved = client.post(report_url(report["id"], "resolve"), json={"public_note": sent},
                           headers=headers)
    assert resolved.status_code == 200, resolved.get_json()
    tracking = client.get(f"/api/v1/track/{report['tracking_token']}").get_json()
    assert tracking["history"][-1]["note"] == sent


def test_templates_of_another_departments_report_stay_hidden(app: Flask, client: Any) -> None:
    make_user(app, "crew", "crew", ("bezirksinspektion-nord",), password=None)
    report = create(client)
    assert_error(client.get(report_url(report["id"], "templates"),
                            headers=token_for(app, "crew")), 404, "not_found")
    make_user(app, "disp", "dispatcher", password=None)
    assert_error(client.get(report_url(report["id"], "templates"),
                            query_string={"status": "fixed"}, headers=token_for(app, "disp")),
                 422, "validation_failed", {"status"})
