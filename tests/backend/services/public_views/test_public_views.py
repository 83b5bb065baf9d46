"""Pre-rendered public views: stored at commit, never stale (triggers drop a changed report's
view, readers render a missing one), identical to what a reader renders on the spot, and free
of personal data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from backend.media.storage import storage_from_settings
from backend.models import Report
from backend.models.public_view import ReportPublicView
from backend.services import privacy, workflow
from backend.services.city_state import bump_config_version
from backend.services.public_views.store import render_missing
from backend.settings import Settings
from backend.workflow import Actor, Status
from tests.backend.api.helpers import MARIENPLATZ, create, create_with_photo, offset
from workers.runner import make_worker

BOX = "11.57,48.13,11.58,48.14"


def stored(engine: Engine, public_id: str) -> ReportPublicView | None:
    with Session(engine) as session:
        return session.scalar(select(ReportPublicView).join(
            Report, Report.id == ReportPublicView.report_id).where(Report.public_id == public_id))


def execute(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def answers(client: Any, public_id: str) -> dict[str, bytes]:
    """Every public answer that shows the report, as bytes."""
    return {
        "list": client.get(f"/api/v1/reports?bbox={BOX}").data,
        "detail": client.get(f"/api/v1/reports/{public_id}").data,
        "open311": client.get("/open311/v2/requests.json?extensions=true").data,
        "open311_xml": client.get("/open311/v2/requests.xml").data,
        "nearby": client.get("/api/v1/reports/nearby?lat=48.1374&lon=11.5755"
                             "&category=schild-fehlt").data,
    }


def test_a_new_report_commits_with_its_views(engine: Engine, client: Any) -> None:
    report = create(client, description="Schild fehlt <b>seit</b> gestern & heute")
    row = stored(engine, report["id"])
    assert row is not None
    for fragment in (row.feature, row.detail, row.open311, row.open311_ext):
        assert "<b>seit" not in fragment  # user text is escaped; only markers are raw
    detail = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert detail["description"] == "Schild fehlt <b>seit</b> gestern & heute"
    assert detail == {k: v for k, v in report.items()
                      if k not in ("uploads", "tracking_token", "tracking_url")}


def test_a_missing_view_is_rendered_on_the_spot_byte_for_byte(engine: Engine, client: Any) -> None:
    reports = [create(client, point=offset(MARIENPLATZ, north_m=10 * i)) for i in range(3)]
    before = answers(client, reports[1]["id"])
    execute(engine, "DELETE FROM report_public")
    assert answers(client, reports[1]["id"]) == before
    assert stored(engine, reports[1]["id"]) is None  # readers never write
    with Session(engine) as session:
        assert render_missing(session) == 3
    assert answers(client, reports[1]["id"]) == before


def test_a_status_change_shows_at_once_everywhere(engine: Engine, client: Any) -> None:
    report = create(client)
    revision = stored(engine, report["id"]).revision
    with Session(engine) as session:
        workflow.change_status(session, report["id"], workflow.StatusChange(
            target=Status.ACKNOWLEDGED, actor=Actor.STAFF, actor_name="anna",
            public_note="Wir kümmern uns."))
    assert stored(engine, report["id"]).revision > revision  # re-rendered in that commit
    listed = client.get(f"/api/v1/reports?bbox={BOX}").get_json()["features"][0]
    assert listed["properties"]["status"] == "acknowledged"
    detail = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert detail["history"][-1]["note"] == "Wir kümmern uns."
    request = client.get("/open311/v2/requests.json").get_json()[0]
    assert request["status_notes"] == "Wir kümmern uns."


@pytest.mark.parametrize("statement", [
    "UPDATE report SET status = 'in_progress' WHERE public_id = :id",
    "UPDATE report SET address = 'Marienplatz 1' WHERE public_id = :id",
    "INSERT INTO report_event (report_id, at, actor, from_status, to_status, public_note) "
    "SELECT id, updated_at, 'x', status, status, 'Notiz' FROM report WHERE public_id = :id",
])
def test_a_change_behind_the_services_back_drops_the_view(engine: Engine, client: Any,
                                                         statement: str) -> None:
    report = create(client)
    execute(engine, statement, id=report["id"])
    assert stored(engine, report["id"]) is None
    detail = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert (detail["status"], detail["address"], detail["history"][-1]["note"]) != (
        report["status"], report["address"], report["history"][-1]["note"])


def test_a_private_change_keeps_the_view(engine: Engine, client: Any) -> None:
    report = create(client, email="anna@example.org")
    revision = stored(engine, report["id"]).revision
    execute(engine, "UPDATE report SET review_flags = NULL, reporter_email = NULL "
                 "WHERE public_id = :id", id=report["id"])
    assert stored(engine, report["id"]).revision == revision


def test_photos_appear_when_ready_and_vanish_when_withdrawn(engine: Engine, client: Any,
                                                            settings: Settings) -> None:
    report = create_with_photo(client)
    assert client.get(f"/api/v1/reports/{report['id']}").get_json()["photos"] == []
    make_worker(settings).work(burst=True)
    assert stored(engine, report["id"]) is not None  # the worker's commit rendered it
    detail = client.get(f"/api/v1/reports/{report['id']}").get_json()
    assert detail["photos"][0]["thumb"]["jpeg"].startswith(settings.base_url)
    feature = client.get(f"/api/v1/reports?bbox={BOX}").get_json()["features"][0]
    assert feature["properties"]["thumb"] == detail["photos"][0]["thumb"]["jpeg"]
    # Withdrawn by a bulk statement (moderation, a script): gone from the very next answer.
    execute(engine, "UPDATE photo SET status = 'hidden' WHERE report_id = "
                 "(SELECT id FROM report WHERE public_id = :id)", id=report["id"])
    assert client.get(f"/api/v1/reports/{report['id']}").get_json()["photos"] == []
    feature = client.get(f"/api/v1/reports?bbox={BOX}").get_json()["features"][0]
    assert feature["properties"]["thumb"] is None
    request = client.get("/open311/v2/requests.json").get_json()[0]
    assert request["media_url"] is None


def test_an_erasure_leaves_nothing_personal_in_any_view(engine: Engine, client: Any,
                                                        settings: Settings) -> None:
    report = create(client, email="erika.mustermann@example.org",
                    address="Marienplatz 8")
    with Session(engine) as session:
        privacy.erase(session, storage_from_settings(settings), "erika.mustermann@example.org",
                      ledger=privacy.ErasureLedger.from_settings(settings))
        rows = session.scalars(select(ReportPublicView)).all()
        token_hash = session.scalar(select(Report.tracking_token_hash))
    assert rows
    for row in rows:
        for fragment in (row.feature, row.detail, row.open311, row.open311_ext):
            assert "erika" not in fragment and "example.org" not in fragment
            assert report["tracking_token"] not in fragment and token_hash not in fragment
    assert client.get(f"/api/v1/reports/{report['id']}").get_json()["address"] == \
        "Marienplatz 8"


def test_renaming_a_category_needs_no_rendering(engine: Engine, client: Any) -> None:
    report = create(client)
    revision = stored(engine, report["id"]).revision
    with Session(engine) as session:
        session.execute(text("UPDATE category SET name_de = 'Schild weg', name_en = 'Sign gone' "
                             "WHERE code = 'schild-fehlt'"))
        bump_config_version(session)
        session.commit()
    assert stored(engine, report["id"]).revision == revision
    feature = client.get(f"/api/v1/reports?bbox={BOX}").get_json()["features"][0]
    assert feature["properties"]["category_name"] == "Schild weg"
    english = client.get(f"/api/v1/reports/{report['id']}",
                         headers={"Accept-Language": "en"}).get_json()
    assert english["category"]["name"] == "Sign gone"
    assert client.get("/open311/v2/requests.json").get_json()[0]["service_name"] == "Schild weg"


def test_lists_answer_304_until_a_report_in_them_changes(engine: Engine, client: Any) -> None:
    report = create(client)
    first = client.get(f"/api/v1/reports?bbox={BOX}")
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get(f"/api/v1/reports?bbox={BOX}", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    german_tag = client.get(f"/api/v1/reports/{report['id']}").headers["ETag"]
    english = client.get(f"/api/v1/reports/{report['id']}", headers={"Accept-Language": "en"})
    assert english.headers["ETag"] != german_tag  # another language is another answer
    with Session(engine) as session:
        workflow.change_status(session, report["id"], workflow.StatusChange(
            target=Status.ACKNOWLEDGED, actor=Actor.STAFF, actor_name="anna"))
    changed = client.get(f"/api/v1/reports?bbox={BOX}", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    detail = client.get(f"/api/v1/reports/{report['id']}",
                        headers={"If-None-Match": german_tag})
    assert detail.status_code == 200


def test_the_catalogue_is_cached_by_configuration_version(engine: Engine, client: Any) -> None:
    for url in ("/api/v1/categories", "/open311/v2/services.json",
                "/open311/v2/services.xml"):
        first = client.get(url)
        assert first.headers["Cache-Control"] == "public, max-age=60"
        assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}
                          ).status_code == 304
    tag = client.get("/api/v1/categories").headers["ETag"]
    with Session(engine) as session:
        session.execute(text("UPDATE category SET name_de = 'Schild weg' "
                             "WHERE code = 'schild-fehlt'"))
        bump_config_version(session)
        session.commit()
    changed = client.get("/api/v1/categories", headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert "Schild weg" in changed.get_data(as_text=True)
