"""The authorization matrix: role × action × own/other department, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.backend.api.helpers import ALLIANZ_ARENA, create
from tests.backend.api.staff_helpers import QUEUE_URL, make_user, report_url, token_for

MITTE = "bezirksinspektion-mitte"
NORD = "bezirksinspektion-nord"

# Who asks: a role and the departments they belong to. The report is a sign at Marienplatz,
# routed to bezirksinspektion-mitte.
PEOPLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "crew_own": ("crew", (MITTE,)),
    "crew_other": ("crew", (NORD,)),
    "dispatcher": ("dispatcher", ("anliegenmanagement",)),
    "dispatcher_own": ("dispatcher", (MITTE,)),
    "analyst": ("analyst", ()),
    "admin": ("admin", ()),
}

Call = Callable[[Any, str, dict[str, str], str], Any]


def _post(action: str, body: dict[str, Any] | None = None) -> Call:
    return lambda client, rid, headers, other: client.post(
        report_url(rid, action), json=body if body is not None else {}, headers=headers)


ACTIONS: dict[str, Call] = {
    "detail": lambda c, rid, h, o: c.get(report_url(rid), headers=h),
    "claim": _post("claim"),
    "assign": _post("assign", {"username": "target"}),
    "status": _post("status", {"status": "acknowledged"}),
    "resolve": _post("resolve", {"public_note": "Schild ersetzt."}),
    "forward": _post("forward", {"department": NORD, "reason": "liegt im Norden"}),
    "duplicate": lambda c, rid, h, o: c.post(report_url(rid, "duplicate"), json={"of": o},
                                             headers=h),
    "note": _post("notes", {"text": "Leiter mitnehmen."}),
    # Closing honestly as not the city's, naming who is responsible (issue 20.6).
    "not_ours": _post("status", {"status": "rejected", "reason": "not_responsible",
                                 "public_note": "Bahngelände.",
                                 "responsible": {"name": "Deutsche Bahn AG",
                                                 "url": "https://www.bahn.de/kontakt"}}),
    "reporter": lambda c, rid, h, o: c.get(report_url(rid, "reporter"), headers=h),
    "city": lambda c, rid, h, o: c.get("/api/v1/admin/city", headers=h),
    "users": lambda c, rid, h, o: c.get("/api/v1/admin/users", headers=h),
    # Response templates (issue 20.1): filled in for a report its status changers may work;
    # managed by admins only.
    "templates": lambda c, rid, h, o: c.get(report_url(rid, "templates"), headers=h),
    "manage_templates": lambda c, rid, h, o: c.get("/api/v1/admin/templates", headers=h),
    # A report filed for a caller at the service desk (issue 20.4): triage's work.
    "on_behalf": lambda c, rid, h, o: c.post("/api/v1/staff/reports", headers=h, json={
        "category": "schild-fehlt", "lat": 48.1374, "lon": 11.5755,
        "description": "Anruf: Schild fehlt"}),
}

OK, HIDDEN, NO = 200, 404, 403
FILED = 201
REPORT_ACTIONS = ("detail", "claim", "status", "resolve", "forward", "duplicate", "note",
                  "not_ours", "templates")
EXPECTED: dict[str, dict[str, int]] = {
    "crew_own": {**dict.fromkeys(REPORT_ACTIONS, OK), "assign": NO, "reporter": OK,
                 "city": NO, "users": NO, "manage_templates": NO, "on_behalf": NO},
    "crew_other": {**dict.fromkeys(REPORT_ACTIONS, HIDDEN), "assign": HIDDEN,
                   "reporter": HIDDEN, "city": NO, "users": NO, "manage_templates": NO,
                   "on_behalf": NO},
    "dispatcher": {**dict.fromkeys(REPORT_ACTIONS, OK), "assign": OK, "reporter": NO,
                   "city": OK, "users": NO, "manage_templates": NO, "on_behalf": FILED},
    "dispatcher_own": {**dict.fromkeys(REPORT_ACTIONS, OK), "assign": OK, "reporter": OK,
                       "city": OK, "users": NO, "manage_templates": NO, "on_behalf": FILED},
    "analyst": {**dict.fromkeys(REPORT_ACTIONS, HIDDEN), "assign": HIDDEN, "reporter": HIDDEN,
                "city": NO, "users": NO, "manage_templates": NO, "on_behalf": NO},
    "admin": {**dict.fromkeys(REPORT_ACTIONS, OK), "assign": OK, "reporter": NO, "city": OK,
              "users": OK, "manage_templates": OK, "on_behalf": FILED},
}


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("person", list(PEOPLE))
def test_authorization_matrix(app: Flask, client: Any, person: str, action: str) -> None:
    role, departments = PEOPLE[person]
    make_user(app, "asker", role, departments, password=None)
    make_user(app, "target", "crew", (MITTE,), password=None)
    headers = token_for(app, "asker")
    report = create(client, email="melder@example.org")
    original = create(client)
    before = client.get(f"/api/v1/reports/{report['id']}").get_json()

    response = ACTIONS[action](client, report["id"], headers, original["id"])

    expected = EXPECTED[person][action]
    assert response.status_code == expected, (person, action, response.get_json())
    if expected not in (OK, FILED):
        assert set(response.get_json()) == {"error"}
        after = client.get(f"/api/v1/reports/{report['id']}").get_json()
        assert after == before  # a refused action changes nothing
    if action == "reporter" and expected == OK:
        assert response.get_json() == {"email": "melder@example.org", "name": None,
                                       "phone": None}


@pytest.mark.parametrize("person", list(PEOPLE))
def test_the_queue_shows_only_what_the_person_may_work(app: Flask, client: Any,
                                                       person: str) -> None:
    role, departments = PEOPLE[person]
    make_user(app, "asker", role, departments, password=None)
    mitte = create(client)
    nord = create(client, point=ALLIANZ_ARENA)
    response = client.get(QUEUE_URL, headers=token_for(app, "asker"))
    if role == "analyst":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    ids = {f["id"] for f in response.get_json()["features"]}
    sees_all = role in ("dispatcher", "admin")
    assert (mitte["id"] in ids) == (sees_all or MITTE in departments)
    assert (nord["id"] in ids) == (sees_all or NORD in departments)


def test_crew_cannot_ask_for_another_departments_queue(app: Flask, client: Any) -> None:
    make_user(app, "asker", "crew", (MITTE,), password=None)
    response = client.get(f"{QUEUE_URL}?department={NORD}", headers=token_for(app, "asker"))
    assert response.status_code == 403
    assert "department" in response.get_json()["error"]["fields"]


def test_without_credentials_everything_is_401(client: Any) -> None:
    report = create(client)
    for call in ACTIONS.values():
        response = call(client, report["id"], {}, report["id"])
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "not_authenticated"
    assert client.get(QUEUE_URL).status_code == 401
    bad = {"Authorization": "Bearer mmk_not-a-token"}
    assert client.get(QUEUE_URL, headers=bad).status_code == 401
