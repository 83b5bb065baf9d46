"""Issue 18 on the analyst screen (desktop Chromium): "most-reported assets" lists the seeded
signals with their reports, open ones and median time to fix, follows the chosen period, says
when the other filters do not apply to it, and passes axe."""

from __future__ import annotations

from datetime import timedelta
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
SIGNALS = {"t1": (11.56710, 48.13390), "t2": (11.56760, 48.13410)}
NUMBERS = {"t1": {"ref": "LSA 4711"}, "t2": {"ref": "LSA 4712"}}


def _seed(server: LiveServer, tmp_path: Path) -> None:
    """Three reports about LSA 4711 (one fixed after five hours), one about LSA 4712."""
    path = write_geojson(tmp_path / "lsa.geojson", SIGNALS, **NUMBERS)
    for session in server_session(server):
        import_assets(session, str(path), LayerSpec("lsa-test", "traffic_signal", "CC0", "Stadt"))
        ids = {n: assets_by_number(session, f"LSA {n}")[0].id for n in ("4711", "4712")}
        create_user(session, username="ada", password=PASSWORD, role="analyst", departments=[],
                    display_name="Ada")
    client = server.app.test_client()
    made = []
    for number in ("4711", "4711", "4711", "4712"):
        response = client.post("/api/v1/reports", json={
            "category": "ampel-ausfall", "lon": 11.5671, "lat": 48.1339,
            "asset_id": ids[number], "description": f"Ampel {number} ist aus."})
        assert response.status_code == 201, response.get_data(as_text=True)
        made.append(response.get_json()["id"])
    for session in server_session(server):
        fixed = session.scalar(select(Report).where(Report.public_id == made[0]))
        fixed.status, fixed.resolved_at = "resolved", fixed.created_at + timedelta(hours=5)
        session.commit()


def _cells(page: Any) -> list[list[str]]:
    return page.evaluate("""[...document.querySelectorAll('#analyst-assets-table tbody tr')]
        .map((tr) => [...tr.children].map((c) => c.textContent.trim()))""")


def test_the_analyst_sees_the_most_reported_signals(
    browser: Any, live_server: LiveServer, tmp_path: Path,
) -> None:
    _seed(live_server, tmp_path)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE",
                                  base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    try:
        staff_login(page, "ada", expect="/analyst", password=PASSWORD)
        page.wait_for_selector("#analyst-assets-table tbody tr", timeout=15000)
        head = page.evaluate("[...document.querySelectorAll('#analyst-assets-table thead th')]"
                             ".map((th) => th.scope + ':' + th.textContent)")
        assert head[:5] == ["col:Anlage", "col:Nummer", "col:Register", "col:Meldungen",
                            "col:offen"]
        rows = _cells(page)
        assert [row[:5] for row in rows] == [
            ["Ampel LSA 4711", "LSA 4711", "lsa-test", "3", "2"],
            ["Ampel LSA 4712", "LSA 4712", "lsa-test", "1", "1"]]
        assert rows[0][5] == "5 Stunden"
        assert "noch nicht behoben" in rows[1][5]  # no fixed report: a dash, said in words
        assert page.get_attribute("#analyst-assets-table tbody tr th", "scope") == "row"
        assert page.is_hidden("#analyst-assets-note")
        screenshot(page, "assets-12-analyst-most-reported")
        assert_accessible(page, "analyst assets")

        # Another filter than the period: the table stays and says it does not follow it.
        page.select_option("#af-district", index=1)
        page.click("#analyst-apply")
        page.wait_for_function("!document.querySelector('#analyst-assets-note').hidden")
        assert "nur der Zeitraum" in page.text_content("#analyst-assets-note")
        assert len(_cells(page)) == 2

        # A period without reports empties it.
        page.select_option("#af-district", index=0)
        page.fill("#af-from", "2001-01-01")
        page.fill("#af-until", "2001-12-31")
        page.click("#analyst-apply")
        page.wait_for_function(
            "document.querySelector('#analyst-assets-note').textContent.includes('keine Meldung')")
        assert _cells(page) == []
    finally:
        context.close()
