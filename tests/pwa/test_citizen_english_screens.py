"""The citizen app in English, switched the way a user does (the language picker), walked
through the report form, its confirmation, the public map, "My reports" and a report's
detail: each screen shows the English texts and none of the German ones.

"German" is every text of pwa/app/i18n/de.json that differs from its English counterpart,
cut at its {placeholders} into fragments, and every {de, en} text of the demo city
configuration (category, group and attribute names the server sends). The page's rendered
text (`innerText`: what is not hidden), the labels a screen reader reads (aria-label,
title, alt, placeholder of rendered elements) and the document title contain none of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from backend.services.workflow import StatusChange, change_status
from backend.workflow import Actor, Status
from tests.pwa.conftest import LiveServer, screenshot, server_session
from tests.pwa.report_form import fill_report_form
from tests.pwa.screen_text import shown_text

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "pwa" / "app" / "i18n"
CITY = ROOT / "backend" / "city" / "munich-demo.yaml"
MIN_FRAGMENT = 5  # shorter pieces ("Foto", "min") say nothing about the language alone


def _texts(value: Any) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def _city_texts(node: Any) -> Iterator[tuple[str, str]]:
    """Every (German, English) pair of the city configuration."""
    if isinstance(node, dict):
        if set(node) == {"de", "en"}:
            yield node["de"], node["en"]
            return
        for value in node.values():
            yield from _city_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _city_texts(value)


def _german_fragments() -> set[str]:
    """Pieces of German text (app and city configuration) that no English text contains."""
    de = json.loads((I18N / "de.json").read_text())
    en = json.loads((I18N / "en.json").read_text())
    for number, (german, english) in enumerate(_city_texts(yaml.safe_load(CITY.read_text()))):
        de[f"city.{number}"], en[f"city.{number}"] = german, english
    english = "\n".join(text for value in en.values() for text in _texts(value))
    fragments = set()
    for key, value in de.items():
        if value == en[key]:
            continue  # the same in both languages (e.g. "Status: {label}")
        for text in _texts(value):
            for piece in re.split(r"\{\w+\}", text):
                piece = piece.strip(" .,:;–-()…\n")
                if len(piece) >= MIN_FRAGMENT and piece not in english:
                    fragments.add(piece)
    return fragments


GERMAN = _german_fragments()
ENGLISH = json.loads((I18N / "en.json").read_text())

def _assert_english(page: Any, screen: str, *keys: str) -> None:
    """The screen shows the English texts of `keys` and no German UI text."""
    shown = shown_text(page)
    german = sorted(fragment for fragment in GERMAN if fragment in shown)
    assert german == [], f"{screen}: German texts visible: {german}"
    for key in keys:
        expected = ENGLISH[key]
        assert expected in shown, f"{screen}: {key} {expected!r} not shown"
    assert page.evaluate("document.documentElement.lang") == "en", screen


def test_a_user_who_switches_to_english_sees_no_german_text_on_the_citizen_screens(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-schild", state="attached")
    assert phone.text_content("#location-legend, #fs-location legend").strip() != ENGLISH[
        "location.legend"]  # German first (locale de-DE)
    phone.select_option("#lang-switch", "en")
    phone.wait_for_function("document.documentElement.lang === 'en'")
    # The category names come from the server, in the chosen language.
    phone.wait_for_function("document.querySelector('label[for=group-schild] .choice-label')"
                            ".textContent === 'Street sign'")

    # The report form, filled in: location, category, description.
    fill_report_form(phone, "ampel", "ampel-lampe",
                     "The red light of the pedestrian signal is out.")
    screenshot(phone, "en-walk-1-report-form")
    _assert_english(phone, "report form", "location.legend", "location.locate",
                    "details.legend", "submit")

    # The confirmation.
    phone.click("#submit-report")
    phone.wait_for_selector("#confirmation", state="visible", timeout=20000)
    report_id = phone.text_content("#confirmation-id").strip()
    screenshot(phone, "en-walk-2-confirmation")
    _assert_english(phone, "confirmation", "confirm.title")

    # Work starts on it (a public status change, so the history has more than one entry).
    for session in server_session(live_server):
        change_status(session, report_id, StatusChange(
            target=Status.IN_PROGRESS, actor=Actor.STAFF, actor_name="crew"))

    # The public map, reached through the navigation, with its list of reports.
    phone.click("a[data-nav='map']")
    phone.wait_for_function("location.pathname === '/map'")
    phone.wait_for_selector("#public-map.leaflet-container")
    phone.click("#map-list-summary")
    button = phone.wait_for_selector(f"#map-list button.map-report[data-id='{report_id}']",
                                     timeout=10000)
    screenshot(phone, "en-walk-3-map")
    _assert_english(phone, "map", "nav.map", "map.title")

    # The report's detail, opened from the list.
    button.click()
    phone.wait_for_function(f"location.pathname === '/reports/{report_id}'")
    phone.wait_for_function(
        "document.querySelectorAll('#detail-history li').length === 2", timeout=10000)
    assert phone.text_content("#detail-title") == "Single light broken"
    screenshot(phone, "en-walk-4-detail")
    _assert_english(phone, "report detail", "detail.close", "detail.history",
                    "status.in_progress")

    # My reports: the one just sent, with its live status.
    phone.click("a[data-nav='mine']")
    phone.wait_for_function("location.pathname === '/mine'")
    phone.wait_for_selector(f"li.my-report[data-id='{report_id}'] .badge.status-in_progress",
                            timeout=10000)
    screenshot(phone, "en-walk-5-my-reports")
    _assert_english(phone, "my reports", "nav.mine", "mine.title", "status.in_progress")

    # A reload keeps the choice.
    phone.reload()
    phone.wait_for_selector(f"li.my-report[data-id='{report_id}'] .badge.status-in_progress",
                            timeout=10000)
    _assert_english(phone, "my reports after reload", "mine.title")
