"""Staff search through the API on both backends: report number, tracking link, words of the
description and address (as prefixes, across statuses), the reporter's e-mail (own departments
only, audited); department scoping; bad input named."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.backend.api.helpers import ALLIANZ_ARENA, assert_error, create
from tests.backend.api.staff_helpers import audit_actions, make_user, report_url, token_for

MITTE = "bezirksinspektion-mitte"
NORD = "bezirksinspektion-nord"
SEARCH = "/api/v1/staff/search"


def _ids(client: Any, q: str, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get(SEARCH, query_string={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    return [f["id"] for f in response.get_json()["features"]]


def test_words_number_and_tracking_link_find_reports_across_statuses(
        app: Flask, client: Any) -> None:
    make_user(app, "disp", "dispatcher", ("anliegenmanagement",), password=None)
    headers = token_for(app, "disp")
    dark = create(client, description="Fußgängerampel komplett dunkel",
                  address="Marienplatz 8")
    sign = create(client, description="Halteverbotsschild umgeknickt")
    other = create(client, description="Schild fehlt", address="Sendlinger Straße 3")
    # closed reports are found too
    assert client.post(report_url(sign["id"], "resolve"), json={"public_note": "ersetzt"},
                       headers=headers).status_code == 200

    assert _ids(client, "ampel", headers) == []  # words match from their start
    assert _ids(client, "fußgänger", headers) == [dark["id"]]
    assert _ids(client, "FUSSG", headers) == []  # ß is not folded on either backend
    assert _ids(client, "Fußg dunk", headers) == [dark["id"]]  # every word, as a prefix
    assert _ids(client, "halteverbot", headers) == [sign["id"]]
    assert _ids(client, "marienpl", headers) == [dark["id"]]  # the address
    assert _ids(client, "sendlinger", headers) == [other["id"]]
    assert set(_ids(client, "schild", headers)) == {other["id"]}
    assert _ids(client, "schild umge", headers) == []
    assert _ids(client, dark["id"], headers) == [dark["id"]]
    assert _ids(client, f"#{dark['id'].upper()}", headers) == [dark["id"]]
    assert _ids(client, dark["tracking_url"], headers) == [dark["id"]]
    assert _ids(client, dark["tracking_token"], headers) == [dark["id"]]
    # newest first, and a limit says there is more
    response = client.get(SEARCH, query_string={"q": "schild", "limit": 1}, headers=headers)
    body = response.get_json()
    assert body["kind"] == "words" and body["more"] is False
    both = client.get(SEARCH, query_string={"q": "s", "limit": 1}, headers=headers).get_json()
    assert both["features"] == []  # one letter is no word to look for


def test_a_changed_description_is_found_by_its_new_words(app: Flask, client: Any) -> None:
    from backend.extensions import db
    from backend.models import Report

    make_user(app, "disp", "dispatcher", ("anliegenmanagement",), password=None)
    headers = token_for(app, "disp")
    report = create(client, description="Ampel blinkt gelb")
    with app.app_context():
        row = db.session.query(Report).filter_by(public_id=report["id"]).one()
        row.description = "Ampel ausgefallen"
        db.session.commit()
    assert _ids(client, "blinkt", headers) == []
    assert _ids(client, "ausgef", headers) == [report["id"]]


def test_crews_find_only_their_departments_reports(app: Flask, client: Any) -> None:
    make_user(app, "mitte", "crew", (MITTE,), password=None)
    make_user(app, "nord", "crew", (NORD,), password=None)
    make_user(app, "anna", "analyst", (), password=None)
    here = create(client, description="Schild verdreht am Marienplatz")
    there = create(client, point=ALLIANZ_ARENA, description="Schild verdreht an der Arena")
    assert _ids(client, "verdreht", token_for(app, "mitte")) == [here["id"]]
    assert _ids(client, "verdreht", token_for(app, "nord")) == [there["id"]]
    assert _ids(client, here["id"], token_for(app, "nord")) == []
    response = client.get(SEARCH, query_string={"q": "verdreht"}, headers=token_for(app, "anna"))
    assert_error(response, 403, "forbidden", set())
    assert client.get(SEARCH, query_string={"q": "verdreht"}).status_code == 401


def test_the_reporters_address_finds_reports_only_for_own_department_staff_audited(
        app: Flask, client: Any) -> None:
    make_user(app, "mitte", "crew", (MITTE,), password=None)
    make_user(app, "disp", "dispatcher", ("anliegenmanagement",), password=None)
    make_user(app, "admin", "admin", (), password=None)
    report = create(client, email="Melder@Example.org")
    create(client, email="someone@example.org")
    assert _ids(client, "melder@example.ORG", token_for(app, "mitte")) == [report["id"]]
    assert ("mitte", "reporter_search") in audit_actions(app)
    # like reading the address itself: only in the person's own departments ...
    assert _ids(client, "melder@example.org", token_for(app, "disp")) == []
    # ... and refused, named, to whom has none
    response = client.get(SEARCH, query_string={"q": "melder@example.org"},
                          headers=token_for(app, "admin"))
    assert_error(response, 403, "forbidden", {"q"})


def test_bad_queries_are_named(app: Flask, client: Any) -> None:
    make_user(app, "disp", "dispatcher", ("anliegenmanagement",), password=None)
    headers = token_for(app, "disp")
    assert_error(client.get(SEARCH, headers=headers), 422, "validation_failed", {"q"})
    assert_error(client.get(SEARCH, query_string={"q": "x" * 201}, headers=headers), 422,
                 "validation_failed", {"q"})
    assert_error(client.get(SEARCH, query_string={"q": "ampel", "limit": 0}, headers=headers),
                 422, "validation_failed", {"limit"})
    # characters of either query language are only text
    for q in ("ampel & | ! :*", "\"ampel\" OR *", "'; DROP TABLE report; --", "NEAR(a b)"):
        assert _ids(client, q, headers) == []
