"""The citizen app in every language of pwa/app/i18n/languages.json (issue 20.7): chosen with
the language picker or found from the browser's language, each screen in that language with no
key names showing, Arabic right to left (mirrored, no sideways scrolling, axe-clean) with the
map left to right inside, plural forms and dates by Intl, a missing text in English, and a
report sent in Turkish stored for Turkish notifications. Screenshots in
test-artifacts/screenshots/lang-*.png."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from backend.models import Report
from tests.pwa.conftest import (
    PHONE,
    LiveServer,
    assert_accessible,
    screenshot,
    server_session,
    wait_for_service_worker,
)
from tests.pwa.report_form import fill_report_form
from tests.pwa.screen_text import shown_text
from tests.pwa.waiting import wait_until_async

I18N = Path(__file__).resolve().parents[2] / "pwa" / "app" / "i18n"
LANGUAGES = json.loads((I18N / "languages.json").read_text())
GERMAN = json.loads((I18N / "de.json").read_text())
# A key name on screen would look like "report.submit" or "nav.map".
KEY_NAMES = re.compile("|".join(re.escape(k) for k in sorted(GERMAN, key=len, reverse=True)
                                if "." in k))

def _texts(code: str) -> dict[str, Any]:
    return json.loads((I18N / f"{code}.json").read_text())


def _assert_screen(page: Any, code: str, screen: str, *keys: str) -> None:
    """The screen shows the texts of `keys` in `code` and no key name."""
    shown = shown_text(page)
    keys_shown = sorted(set(KEY_NAMES.findall(shown)))
    assert keys_shown == [], f"{code} {screen}: key names visible: {keys_shown}"
    texts = _texts(code)
    for key in keys:
        assert texts[key] in shown, f"{code} {screen}: {key} {texts[key]!r} not shown"


def _choose(page: Any, code: str) -> None:
    page.select_option("#lang-switch", code)
    page.wait_for_function(f"document.documentElement.lang === '{code}'")
    title = json.dumps(_texts(code)["report.title"])
    page.wait_for_function(f"document.querySelector('#report-title').textContent === {title}")


def test_every_language_can_be_chosen_and_arabic_is_right_to_left(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-schild", state="attached")
    # The picker lists every language by its own name, marked with its language.
    options = phone.eval_on_selector_all(
        "#lang-switch option", "els => els.map((o) => [o.value, o.textContent, o.lang])")
    assert options == [[lang["code"], lang["name"], lang["code"]] for lang in LANGUAGES]
    assert phone.eval_on_selector("#lang-switch",
                                  "el => el.labels[0].textContent.includes('Language')")

    for lang in LANGUAGES:
        code = lang["code"]
        if code != "de":
            _choose(phone, code)
        expected_dir = "rtl" if lang["dir"] == "rtl" else "ltr"
        assert phone.evaluate("document.documentElement.dir") == expected_dir
        _assert_screen(phone, code, "report form", "nav.report", "nav.map", "nav.mine",
                       "report.title", "location.legend", "submit", "privacy.title")
        screenshot(phone, f"lang-{code}-report")
        phone.click("a[data-nav='map']")
        phone.wait_for_selector("#public-map.leaflet-container")
        _assert_screen(phone, code, "map", "map.title")
        phone.click("a[data-nav='mine']")
        phone.wait_for_function("location.pathname === '/mine'")
        _assert_screen(phone, code, "my reports", "mine.title", "mine.empty")
        phone.click("a[data-nav='report']")
        phone.wait_for_function("location.pathname === '/report'")

        if code == "ar":
            _assert_mirrored(phone)

    # The choice is kept: a new visit opens in the last language.
    phone.reload()
    phone.wait_for_function(f"document.documentElement.lang === '{LANGUAGES[-1]['code']}'")
    assert phone.eval_on_selector("#lang-switch", "el => el.value") == LANGUAGES[-1]["code"]


def _assert_mirrored(phone: Any) -> None:
    """Arabic: the page mirrored, nothing wider than the phone, the map itself not mirrored."""
    _choose(phone, "ar")
    boxes = phone.eval_on_selector_all(
        ".app-nav a", "els => els.map((a) => a.getBoundingClientRect().left)")
    assert boxes[0] > boxes[-1], f"nav not mirrored: {boxes}"
    brand, picker = (phone.eval_on_selector(s, "el => el.getBoundingClientRect().left")
                     for s in (".brand", "#lang-switch"))
    assert brand > picker, "header not mirrored"
    legend_right = phone.eval_on_selector("#fs-location legend",
                                          "el => el.getBoundingClientRect().right")
    form_right = phone.eval_on_selector("#report-form", "el => el.getBoundingClientRect().right")
    assert form_right - legend_right < 40, "the legend does not start at the right"
    assert phone.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert phone.eval_on_selector("#report-map", "el => getComputedStyle(el).direction") == "ltr"
    # Leaflet's zoom control stays top left, as on every map.
    zoom = phone.eval_on_selector("#report-map .leaflet-control-zoom",
                                  "el => el.getBoundingClientRect().left")
    assert zoom < PHONE["width"] / 2
    screenshot(phone, "lang-ar-rtl-report")
    assert_accessible(phone, "citizen app in Arabic")
    phone.click("a[data-nav='map']")
    phone.wait_for_selector("#public-map.leaflet-container")
    assert phone.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(phone, "lang-ar-rtl-map")
    assert_accessible(phone, "public map in Arabic")
    phone.click("a[data-nav='report']")
    phone.wait_for_function("location.pathname === '/report'")


@pytest.mark.parametrize(("browser_locale", "code"),
                         [("tr-TR", "tr"), ("ar-EG", "ar"), ("uk-UA", "uk"), ("fr-FR", "de")])
def test_the_browsers_language_is_found(
    browser: Any, live_server: LiveServer, browser_locale: str, code: str,
) -> None:
    context = browser.new_context(viewport=PHONE, locale=browser_locale, bypass_csp=True,
                                  base_url=live_server.url)
    page = context.new_page()
    page.goto("/report")
    page.wait_for_function(f"document.documentElement.lang === '{code}'")
    page.wait_for_function("!document.querySelector('#view-report').hidden")
    assert page.eval_on_selector("#lang-switch", "el => el.value") == code
    _assert_screen(page, code, "report form", "report.title", "submit")
    context.close()


def test_arabic_plurals_dates_and_numbers_follow_intl(phone: Any) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-schild", state="attached")
    _choose(phone, "ar")
    forms = phone.evaluate("""import('/app/i18n.js').then((i18n) => ({
        waiting: [0, 1, 2, 3, 11, 100].map((n) => i18n.t('outbox.waiting', { n })),
        date: i18n.formatDate('2026-03-05T10:00:00Z'),
        number: i18n.formatNumber(1234),
    }))""")
    waiting = _texts("ar")["outbox.waiting"]
    assert forms["waiting"][:3] == [waiting["zero"], waiting["one"], waiting["two"]]
    assert forms["waiting"][3].endswith(waiting["few"].split("}", 1)[1])
    assert forms["waiting"][4].endswith(waiting["many"].split("}", 1)[1])
    assert forms["waiting"][5].endswith(waiting["other"].split("}", 1)[1])
    assert len(set(forms["waiting"])) == 6
    assert "،" in forms["date"] and "ص" in forms["date"]  # the Arabic comma, "before noon"
    assert forms["number"] != "1234" and forms["number"] != "1.234"
    _choose(phone, "uk")
    counts = phone.evaluate("""import('/app/i18n.js').then((i18n) =>
        [1, 3, 5].map((n) => i18n.t('outbox.waiting', { n })))""")
    assert counts == ["1 повідомлення чекає на з'єднання", "3 повідомлення чекають на з'єднання",
                      "5 повідомлень чекають на з'єднання"]


def test_a_missing_text_shows_in_english_never_as_its_key(
    browser: Any, live_server: LiveServer,
) -> None:
    # No service worker: its own fetches (and its cache) would not pass the page's route.
    context = browser.new_context(viewport=PHONE, locale="de-DE", bypass_csp=True,
                                  base_url=live_server.url, service_workers="block")
    phone = context.new_page()
    partial = {k: v for k, v in _texts("tr").items() if k not in ("nav.map", "submit")}
    phone.route("**/app/i18n/tr.json", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(partial)))
    phone.goto("/report")
    phone.wait_for_selector("#group-schild", state="attached")
    _choose(phone, "tr")
    english = _texts("en")
    assert phone.text_content("a[data-nav='map']") == english["nav.map"]
    assert phone.text_content("#submit-report") == english["submit"]
    _assert_screen(phone, "tr", "partial Turkish", "nav.report", "report.title")
    context.close()


def test_a_report_sent_in_turkish_is_answered_in_turkish(
    phone: Any, live_server: LiveServer,
) -> None:
    phone.goto("/report")
    phone.wait_for_selector("#group-schild", state="attached")
    _choose(phone, "tr")
    # The city's names exist in German and English: Turkish readers get the English ones.
    phone.wait_for_function("document.querySelector('label[for=group-schild] .choice-label')"
                            ".textContent === 'Street sign'")
    fill_report_form(phone, "ampel", "ampel-lampe", "Yaya lambasının kırmızı ışığı yanmıyor.")
    phone.click("#submit-report")
    phone.wait_for_selector("#confirmation", state="visible", timeout=20000)
    report_id = phone.text_content("#confirmation-id").strip()
    _assert_screen(phone, "tr", "confirmation", "confirm.title")
    screenshot(phone, "lang-tr-confirmation")
    for session in server_session(live_server):
        report = session.scalar(select(Report).where(Report.public_id == report_id))
        assert report is not None and report.reporter_locale == "tr"


def test_a_turkish_visitor_has_the_app_offline_in_turkish(
    browser: Any, live_server: LiveServer,
) -> None:
    context = browser.new_context(viewport=PHONE, locale="tr-TR", bypass_csp=True,
                                  base_url=live_server.url)
    page = context.new_page()
    page.goto("/report")
    page.wait_for_function("document.documentElement.lang === 'tr'")
    wait_for_service_worker(page)
    # Precached at install: the list of languages, Turkish and what it falls back to.
    wait_until_async(page, """async () => {
        const name = (await caches.keys()).find((n) => n.startsWith('mm-shell-'));
        if (!name) return false;
        const cache = await caches.open(name);
        const urls = ['languages', 'tr', 'en', 'de'].map((c) => `/app/i18n/${c}.json`);
        return (await Promise.all(urls.map((u) => cache.match(u)))).every(Boolean);
      }""")
    context.set_offline(True)
    page.reload()
    page.wait_for_function("document.documentElement.lang === 'tr'")
    page.wait_for_function("!document.querySelector('#view-report').hidden")
    _assert_screen(page, "tr", "offline", "report.title", "submit")
    context.close()
