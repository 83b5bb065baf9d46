"""Staff search in the staff app (issue 20.3) in a phone-sized headless Chromium, on both
backends: words of a description, a report number and a pasted tracking link find their
report and open it; crews find only their departments' reports; the keyboard path; the
server's refusal shown at the field; axe; no sideways scrolling on a narrow phone; and the
service worker keeps no search answer in any cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from backend.services.staff.users import create_user
from tests.pwa.conftest import (
    STAFF_PASSWORD,
    LiveServer,
    assert_accessible,
    screenshot,
    server_session,
    staff_login,
    wait_for_service_worker,
)
from tests.pwa.test_staff_phone_layout import OVERFLOW

SEARCH_LIMIT = 20  # search.js asks for this many
MARIENPLATZ = {"lat": 48.1374, "lon": 11.5755}
ALLIANZ_ARENA = {"lat": 48.2188, "lon": 11.6247}  # district 12: Bezirksinspektion Nord
FIELD = "#staff-search-q"
STATUS = "#staff-search-status"
RESULTS = "#staff-search-results a.queue-item"
# Every URL kept in any Cache Storage cache of the origin.
CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
  }
  return urls;
}"""


@pytest.fixture
def reports(live_server: LiveServer) -> Iterator[dict[str, dict[str, Any]]]:
    """Staff of every kind, and three reports: a dark signal and a missing sign in Mitte, a
    turned sign at the Allianz Arena (Nord)."""
    for session in server_session(live_server):
        create_user(session, username="dispo", password=STAFF_PASSWORD, role="dispatcher",
                    departments=["anliegenmanagement"], display_name="Disposition")
        create_user(session, username="crew-mitte", password=STAFF_PASSWORD, role="crew",
                    departments=["bezirksinspektion-mitte"], display_name="Crew Mitte")
        create_user(session, username="chefin", password=STAFF_PASSWORD, role="admin",
                    departments=[], display_name="Administration")
    client = live_server.app.test_client()

    def create(category: str, place: dict[str, float], description: str,
               **extra: Any) -> dict[str, Any]:
        answer = client.post("/api/v1/reports", json={
            "category": category, **place, "description": description, **extra})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return answer.get_json()

    yield {
        "dark": create("ampel-ausfall", MARIENPLATZ,
                       "Fußgängerampel am Rathaus komplett dunkel, auch nachts."),
        "sign": create("schild-fehlt", MARIENPLATZ, "Das Halteverbotsschild ist verdreht.",
                       email="melder@example.org"),
        "arena": create("schild-fehlt", ALLIANZ_ARENA,
                        "Schild an der Zufahrt zur Arena verdreht."),
    }


def _search(page: Any, text: str, *, enter: bool = False) -> str:
    """Type `text` into the emptied field as a person would; returns the status line."""
    page.fill(FIELD, "")
    page.wait_for_function(f"document.querySelector('{STATUS}').textContent === ''")
    page.click(FIELD)
    page.keyboard.type(text, delay=20)
    if enter:
        page.keyboard.press("Enter")
    page.wait_for_function(f"document.querySelector('{STATUS}').textContent !== ''"
                           f" && !document.querySelector('#staff-search-results')"
                           f".hasAttribute('aria-busy')", timeout=10000)
    return page.text_content(STATUS) or ""


def _found(page: Any) -> list[str]:
    return page.eval_on_selector_all(RESULTS, "links => links.map((a) => a.dataset.id)")


def _no_search_answer_cached(page: Any) -> None:
    urls = page.evaluate(CACHED_URLS)
    assert any("/api/v1/staff/" in url for url in urls), urls  # the worker does keep staff data
    assert not [url for url in urls if "/api/v1/staff/search" in url], urls


def test_dispatcher_finds_reports_by_words_number_and_tracking_link_and_opens_them(
        phone: Any, live_server: LiveServer, reports: dict[str, dict[str, Any]]) -> None:
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    searches: list[str] = []
    phone.on("request", lambda r: searches.append(r.url) if "/staff/search" in r.url else None)
    staff_login(phone, "dispo", expect="/dispatch", password=STAFF_PASSWORD)
    wait_for_service_worker(phone)
    phone.wait_for_selector("#staff-search form[role='search']")
    dark, sign = reports["dark"], reports["sign"]

    # Words of the description, as beginnings of words; typed, searched after a pause.
    searches.clear()
    assert _search(phone, "Fußgänger dunk") == "1 Meldung gefunden."
    assert _found(phone) == [dark["id"]]
    assert len(searches) <= 3, searches  # one search after typing, not one per letter
    screenshot(phone, "staff-search-1-words")
    assert_accessible(phone, "search results")

    # Across statuses and departments, newest first; nothing found says so.
    assert _search(phone, "verdreht") == "2 Meldungen gefunden."
    assert _found(phone) == [reports["arena"]["id"], sign["id"]]
    assert _search(phone, "Laterne") == "Keine Meldung gefunden für „Laterne“."
    assert phone.is_hidden("#staff-search-results")

    # The report number (as printed: upper case with #) and a pasted tracking link.
    assert _search(phone, f"#{sign['id'].upper()}") == "1 Meldung gefunden."
    assert _found(phone) == [sign["id"]]
    phone.fill(FIELD, "")
    phone.focus(FIELD)
    phone.keyboard.insert_text(f"{live_server.url}/track/{dark['tracking_token']}")
    phone.keyboard.press("Enter")
    phone.wait_for_function("document.querySelector('#staff-search-results a.queue-item')"
                            f"?.dataset.id === '{dark['id']}'", timeout=10000)
    assert _found(phone) == [dark["id"]]

    # A result opens the report in the dispatcher's detail; back, the results are still there.
    phone.click(f"{RESULTS}[data-id='{dark['id']}']")
    phone.wait_for_url(f"**/dispatch/reports/{dark['id']}")
    phone.wait_for_selector("#detail-body:not([hidden])")
    assert phone.is_hidden("#staff-search")
    assert "komplett dunkel" in phone.text_content("#detail-description")
    phone.click("#detail-back")
    phone.wait_for_url("**/dispatch")
    assert _found(phone) == [dark["id"]]

    # Escape clears field, results and status.
    phone.focus(FIELD)
    phone.keyboard.press("Escape")
    assert phone.input_value(FIELD) == ""
    assert phone.is_hidden("#staff-search-results")
    assert phone.text_content(STATUS) == ""

    _no_search_answer_cached(phone)
    assert errors == []


def test_crew_searches_only_their_departments_by_keyboard_and_it_fits_a_phone(
        phone: Any, live_server: LiveServer, reports: dict[str, dict[str, Any]]) -> None:
    staff_login(phone, "crew-mitte", expect="/crew", password=STAFF_PASSWORD)
    wait_for_service_worker(phone)
    phone.wait_for_selector(f"#crew-list a.queue-item[data-id='{reports['sign']['id']}']")
    arena = reports["arena"]

    # Another department's report: not by its words, not by its number.
    assert _search(phone, "Arena") == "Keine Meldung gefunden für „Arena“."
    assert _search(phone, arena["id"]) == f"Keine Meldung gefunden für „{arena['id']}“."
    # Its own department's e-mail search works on Enter only (each one is audited).
    assert _search(phone, "melder@example.org") == (
        "E-Mail-Adressen werden erst mit der Eingabetaste gesucht "
        "(jede Suche wird protokolliert).")
    phone.keyboard.press("Enter")
    phone.wait_for_function(f"document.querySelector('{STATUS}').textContent"
                            ".includes('E-Mail-Adresse gefunden')", timeout=10000)
    assert _found(phone) == [reports["sign"]["id"]]

    # Keyboard only: Tab from the top of the page reaches the field; type; arrow to a result;
    # Enter opens it.
    phone.fill(FIELD, "")
    phone.keyboard.press("Escape")
    phone.evaluate("document.activeElement.blur()")
    for _ in range(20):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.id") == "staff-search-q":
            break
    assert phone.evaluate("document.activeElement.id") == "staff-search-q"
    phone.keyboard.type("verdreh", delay=20)
    phone.wait_for_selector(f"{RESULTS}[data-id='{reports['sign']['id']}']")
    assert _found(phone) == [reports["sign"]["id"]]
    phone.keyboard.press("ArrowDown")
    assert phone.evaluate("document.activeElement.dataset.id") == reports["sign"]["id"]
    phone.keyboard.press("ArrowUp")
    assert phone.evaluate("document.activeElement.id") == "staff-search-q"
    phone.keyboard.press("Tab")  # the search button, then the result
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.dataset.id") == reports["sign"]["id"]
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"**/crew/reports/{reports['sign']['id']}")
    phone.wait_for_function("document.activeElement?.id === 'detail-title'")
    phone.go_back()
    phone.wait_for_url("**/crew")

    # A narrow phone: field, button, status and results fit; nothing scrolls sideways.
    phone.set_viewport_size({"width": 360, "height": 780})
    phone.wait_for_selector(RESULTS)
    found = phone.evaluate(OVERFLOW)
    screenshot(phone, "staff-search-2-crew-360")
    assert found["scroll"] <= found["width"] and not found["wide"], found
    assert_accessible(phone, "crew search")
    _no_search_answer_cached(phone)


def test_a_refusal_is_shown_at_the_field_and_too_many_matches_ask_to_refine(
        phone: Any, live_server: LiveServer, reports: dict[str, dict[str, Any]]) -> None:
    staff_login(phone, "chefin", expect="/dispatch", password=STAFF_PASSWORD)
    phone.wait_for_selector("#staff-search form[role='search']")
    phone.click(FIELD)
    phone.keyboard.type("melder@example.org")
    phone.keyboard.press("Enter")
    error = phone.wait_for_selector("#staff-search-q-error:not([hidden])", timeout=10000)
    # An admin has no department of their own: searching by e-mail is refused, naming q.
    assert "department" in (error.text_content() or "")
    assert phone.get_attribute(FIELD, "aria-invalid") == "true"
    assert "staff-search-q-error" in (phone.get_attribute(FIELD, "aria-describedby") or "")
    assert phone.is_hidden("#staff-search-results")
    assert_accessible(phone, "search refused")
    # Typing again clears the error once the server answers.
    phone.fill(FIELD, "")
    phone.click(FIELD)
    phone.keyboard.type("Fußgänger")
    phone.wait_for_selector("#staff-search-q-error", state="hidden", timeout=10000)
    assert phone.get_attribute(FIELD, "aria-invalid") == "false"
    assert _found(phone) == [reports["dark"]["id"]]


    # More than a page of matches: the first page, and the advice to refine.
    client = live_server.app.test_client()
    for i in range(SEARCH_LIMIT + 1):
        answer = client.post("/api/v1/reports", json={
            "category": "schild-fehlt", **MARIENPLATZ,
            "description": f"Wegweiser Nummer {i} abgeknickt."})
        assert answer.status_code == 201, answer.get_data(as_text=True)
    assert _search(phone, "Wegweiser abgek") == (
        f"Mehr als {SEARCH_LIMIT} Treffer – bitte die Suche verfeinern.")
    assert len(_found(phone)) == SEARCH_LIMIT
