"""Issue 18 in the staff detail (phone-sized Chromium): a dispatcher corrects the traffic signal a
report is about with the keyboard alone (the nearest signals with their distance, or the number
on the controller box), the detail then names the new signal and "all reports of this asset"
lists the report; a crew member sees the history but no correction; a refusal from the API
(the chosen signal was retired meanwhile) is shown at the choice; axe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from backend.models import Report
from backend.services.assets.importer import LayerSpec, import_assets
from backend.services.assets.queries import assets_by_number
from backend.services.staff.users import create_user
from tests.backend.services.assets.helpers import write_geojson
from tests.pwa.conftest import (
    LiveServer,
    assert_accessible,
    screenshot,
    server_session,
    staff_login,
)

PASSWORD = "Signal-Gruen-2024!"
# Three numbered signals around Sendlinger Tor, 40–90 m apart (the demo's OSM signals are
# around them too: the list shows the nearest few of both layers).
SIGNALS = {"t1": (11.56710, 48.13390), "t2": (11.56760, 48.13410), "t3": (11.56690, 48.13440)}
NUMBERS = {"t1": {"ref": "LSA 4711"}, "t2": {"ref": "LSA 4712"}, "t3": {"ref": "LSA 4713"}}
REPORT_AT = {"lon": 11.56712, "lat": 48.13391}


def _signals(server: LiveServer, tmp_path: Path, keep: tuple[str, ...] = ("t1", "t2", "t3")
             ) -> dict[str, int]:
    """Import (or re-import: the others are retired) the test layer; number → asset id."""
    path = write_geojson(tmp_path / "lsa.geojson", {k: SIGNALS[k] for k in keep}, **NUMBERS)
    for session in server_session(server):
        import_assets(session, str(path), LayerSpec("lsa-test", "traffic_signal", "CC0", "Stadt"))
        return {n: assets_by_number(session, f"LSA {n}", None, include_retired=True)[0].id
                for n in ("4711", "4712", "4713")}
    return {}


def _report(server: LiveServer, asset_id: int, text: str) -> str:
    response = server.app.test_client().post("/api/v1/reports", json={
        "category": "ampel-ausfall", **REPORT_AT, "asset_id": asset_id, "description": text})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def _user(server: LiveServer, username: str, role: str, departments: list[str]) -> None:
    for session in server_session(server):
        create_user(session, username=username, password=PASSWORD, role=role,
                    departments=departments, display_name=username.title())


def _asset_of(server: LiveServer, public_id: str) -> int | None:
    for session in server_session(server):
        return session.scalar(select(Report.asset_id).where(Report.public_id == public_id))
    return None


def _tab_to(page: Any, selector: str, limit: int = 15) -> None:
    """Press Tab until `selector` has the focus (the keyboard path, no clicks)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def _open_detail(page: Any, path: str) -> None:
    page.goto(path)
    page.wait_for_selector("#detail-body", state="visible", timeout=10000)


def _open_asset_form(page: Any) -> None:
    page.focus("#action-buttons [data-action='asset']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#asset-form", state="visible")
    page.wait_for_function(
        "!document.querySelector('#asset-nearby-status').textContent.includes('…')",
        timeout=10000)


def test_a_dispatcher_corrects_the_signal_with_the_keyboard_and_sees_its_reports(
    phone: Any, live_server: LiveServer, tmp_path: Path,
) -> None:
    ids = _signals(live_server, tmp_path)
    earlier = _report(live_server, ids["4712"], "Ampel 4712 blinkt nur gelb.")
    report = _report(live_server, ids["4711"], "Die Ampel ist dunkel, gemeint ist die 4712.")
    _user(live_server, "disa", "dispatcher", ["anliegenmanagement"])
    staff_login(phone, "disa", expect="/dispatch", password=PASSWORD)
    _open_detail(phone, f"/dispatch/reports/{report}")
    assert "Ampel LSA 4711" in phone.text_content("#detail-facts")

    _open_asset_form(phone)
    # The nearest signals with their distance; the current one first and chosen.
    options = phone.locator("#asset-options .asset-option")
    assert options.first.get_attribute("data-id") == str(ids["4711"])
    assert phone.is_checked(f"#asset-option-{ids['4711']}")
    neighbour = phone.locator(f"#asset-options .asset-option[data-id='{ids['4712']}']")
    assert " m" in neighbour.text_content()
    assert "Ampel LSA 4712" in neighbour.text_content()
    screenshot(phone, "assets-9-dispatcher-correct-form")
    assert_accessible(phone, "asset correction form")

    # The number from the controller box (spaces and case do not matter), looked up with Enter.
    _tab_to(phone, "#asset-fix-number")
    phone.keyboard.type("lsa4712")
    phone.keyboard.press("Enter")
    phone.wait_for_function(
        f"document.activeElement?.id === 'asset-option-{ids['4712']}'")
    assert phone.is_checked(f"#asset-option-{ids['4712']}")
    _tab_to(phone, "#asset-form [data-submit='asset']")
    phone.keyboard.press("Enter")
    phone.wait_for_function(
        "document.querySelector('#detail-facts').textContent.includes('LSA 4712')",
        timeout=10000)
    assert phone.locator("#asset-form").count() == 0
    phone.wait_for_function("document.querySelector('#status-message').textContent"
                            ".includes('Anlage der Meldung wurde geändert')")
    assert _asset_of(live_server, report) == ids["4712"]

    # All reports of the new signal: both, newest first, this one marked.
    phone.focus("#asset-history-toggle")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#asset-history-table tbody tr")
    assert phone.get_attribute("#asset-history-toggle", "aria-expanded") == "true"
    rows = phone.locator("#asset-history-table tbody tr")
    assert [rows.nth(i).get_attribute("data-id") for i in range(rows.count())] == [report, earlier]
    assert phone.get_attribute(f"#asset-history-table tr[data-id='{report}'] a",
                               "aria-current") == "page"
    assert "2 Meldungen, davon 2 offen." in phone.text_content("#asset-history-status")
    assert "noch nicht behoben" in rows.first.text_content()
    screenshot(phone, "assets-10-asset-history")
    assert_accessible(phone, "asset history")

    # The other report, from the history, by keyboard; the history stays open there.
    phone.focus(f"#asset-history-table tr[data-id='{earlier}'] a")
    phone.keyboard.press("Enter")
    phone.wait_for_url(f"**/dispatch/reports/{earlier}")
    phone.wait_for_function(
        f"document.querySelector('#asset-history-table tr[data-id=\"{earlier}\"] a')"
        "?.getAttribute('aria-current') === 'page'", timeout=10000)


def test_a_crew_member_sees_the_history_but_cannot_correct_the_signal(
    phone: Any, live_server: LiveServer, tmp_path: Path,
) -> None:
    ids = _signals(live_server, tmp_path)
    report = _report(live_server, ids["4711"], "Ampel aus.")
    _user(live_server, "lsa-crew", "crew", ["verkehrstechnik"])
    staff_login(phone, "lsa-crew", expect="/crew", password=PASSWORD)
    _open_detail(phone, f"/crew/reports/{report}")
    phone.wait_for_selector("#action-buttons [data-action='note']")
    assert phone.locator("#action-buttons [data-action='asset']").count() == 0
    phone.click("#asset-history-toggle")
    phone.wait_for_selector(f"#asset-history-table tr[data-id='{report}']")
    assert phone.get_attribute(f"#asset-history-table tr[data-id='{report}'] a",
                               "href") == f"/crew/reports/{report}"


def test_a_refusal_names_the_choice_and_keeps_the_signal(
    phone: Any, live_server: LiveServer, tmp_path: Path,
) -> None:
    ids = _signals(live_server, tmp_path)
    report = _report(live_server, ids["4711"], "Ampel aus.")
    _user(live_server, "disa", "dispatcher", ["anliegenmanagement"])
    staff_login(phone, "disa", expect="/dispatch", password=PASSWORD)
    _open_detail(phone, f"/dispatch/reports/{report}")
    _open_asset_form(phone)
    phone.wait_for_selector(f"#asset-option-{ids['4713']}")
    _signals(live_server, tmp_path, keep=("t1", "t2"))  # 4713 leaves the register meanwhile

    phone.focus(f"#asset-option-{ids['4713']}")
    phone.keyboard.press("Space")
    assert phone.is_checked(f"#asset-option-{ids['4713']}")
    _tab_to(phone, "#asset-form [data-submit='asset']")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#asset-form .form-error:not([hidden])", timeout=10000)
    assert "no longer in the register" in phone.text_content("#asset-form .form-error")
    assert phone.get_attribute("#asset-choice", "aria-invalid") == "true"
    assert "retired asset" in phone.text_content("#asset-choice-error")
    assert phone.evaluate("document.activeElement.id") == f"asset-option-{ids['4713']}"
    assert _asset_of(live_server, report) == ids["4711"]
    assert "LSA 4711" in phone.text_content("#detail-facts")
    screenshot(phone, "assets-11-asset-refused")
    assert_accessible(phone, "asset refused")
