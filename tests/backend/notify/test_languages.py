"""Notifications in every language of the app (issue 20.7): Turkish, Arabic, Ukrainian and
plain German from data files, German for whatever a file lacks, the reporter's tag matched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.notify.locales import app_languages, best_language
from backend.notify.texts import (
    LANGUAGE_DIR,
    STATUS_LABELS,
    duplicate_note,
    language,
    push_payload,
    status_email,
    with_responsible,
)
from backend.settings import PROJECT_ROOT
from backend.workflow import Status

REPORT = "k7p3xr9q"
LINKS = ("https://meldungen.example/track/t", "https://meldungen.example/unsubscribe/u",
         ("https://meldungen.example/yes", "https://meldungen.example/no"))
APP_LANGUAGES = PROJECT_ROOT / "pwa" / "app" / "i18n" / "languages.json"
NEW = ["tr", "ar", "uk", "de-x-ls"]


@pytest.mark.parametrize("code", NEW)
def test_every_status_has_its_own_label_in_each_new_language(code: str) -> None:
    data = json.loads((LANGUAGE_DIR / f"{code}.json").read_text("utf-8"))
    assert set(data["status"]) == {s.value for s in Status}
    assert set(data["meaning"]) == {s.value for s in Status}
    assert STATUS_LABELS[code] == data["status"]


@pytest.mark.parametrize(
    ("code", "title", "body"),
    [("tr", "Bildiriminiz k7p3xr9q", "Durum: Giderildi"),
     ("ar", "بلاغك k7p3xr9q", "الحالة: تم الإصلاح"),
     ("uk", "Ваше повідомлення k7p3xr9q", "Статус: Усунено"),
     ("de-x-ls", "Ihre Meldung k7p3xr9q", "Stand: Repariert")],
)
def test_push_in_the_reporters_language(code: str, title: str, body: str) -> None:
    payload = push_payload(code, REPORT, Status.RESOLVED, None)
    assert (payload["title"], payload["body"]) == (title, body)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("tr-TR", "tr"), ("ar-EG", "ar"), ("uk", "uk"), ("uk_UA", "uk"), ("de-x-ls", "de-x-ls"),
     ("DE-X-LS", "de-x-ls"), ("de-AT", "de"), ("en-GB", "en"), ("fr", "de"), ("", "de"),
     (None, "de"), ("de-x-other", "de")],
)
def test_a_locale_finds_its_language(locale: str | None, expected: str) -> None:
    assert language(locale) == expected


def test_arabic_email_is_right_to_left_and_turkish_is_not() -> None:
    subject, text, html = status_email("ar", REPORT, "resolved", "ملاحظة", *LINKS)
    assert subject == "بلاغك k7p3xr9q: تم الإصلاح"
    assert '<html lang="ar" dir="rtl">' in html
    assert "هل تم إصلاح العطل فعلًا؟" in text and "إلغاء الاشتراك" in html
    _, _, turkish = status_email("tr", REPORT, "in_progress", None, *LINKS)
    assert '<html lang="tr">' in turkish and "Sorumlu birim arızayı gidermek" in turkish


def test_plain_german_email_uses_short_sentences() -> None:
    subject, text, _ = status_email("de-x-ls", REPORT, "in_progress", None, *LINKS)
    assert subject == "Ihre Meldung k7p3xr9q: Wir arbeiten daran"
    assert "Wir reparieren es gerade." in text


def test_who_is_responsible_in_ukrainian() -> None:
    note = with_responsible("uk", None, {"name": "Deutsche Bahn", "url": "https://db.example"})
    assert note == "Відповідальний натомість: Deutsche Bahn – https://db.example"


def test_a_language_file_may_be_partial_and_falls_back_to_german(tmp_path: Path) -> None:
    from backend.notify import texts

    (tmp_path / "xx.json").write_text(json.dumps({"status": {"closed": "Done-xx"}}), "utf-8")
    try:
        texts._load_languages(tmp_path)
        payload = push_payload("xx-YY", REPORT, "closed", None)
        assert payload["body"] == "Status: Done-xx"  # its own label, the German phrase
        assert push_payload("xx", REPORT, "submitted", None)["body"] == "Status: Eingegangen"
        assert status_email("xx", REPORT, "closed", None, *LINKS)[0] == (
            "Ihre Meldung k7p3xr9q: Done-xx")
    finally:
        for table in (texts.STATUS_LABELS, texts._STATUS_MEANING, texts._PHRASES,
                      texts._RESPONSIBLE):
            table.pop("xx", None)


def test_the_app_and_the_notifications_know_the_same_languages() -> None:
    entries = json.loads(APP_LANGUAGES.read_text("utf-8"))
    codes = {e["code"] for e in entries}
    assert codes == set(STATUS_LABELS)
    assert {e["code"] for e in entries if e.get("machine_translated")} == set(NEW)
    assert next(e for e in entries if e["code"] == "ar")["dir"] == "rtl"
    assert set(app_languages(str(PROJECT_ROOT / "pwa"))) == codes


@pytest.mark.parametrize(
    ("tags", "expected"),
    [(["tr", "en"], "tr"), (["tr-TR"], "tr"), (["ar-EG", "de"], "ar"), (["de-x-ls", "de"],
     "de-x-ls"), (["fr", "en"], "en"), (["fr"], None), (["UK"], "uk")],
)
def test_the_first_known_tag_wins(tags: list[str], expected: str | None) -> None:
    assert best_language(tags, ["de", "en", "tr", "ar", "uk", "de-x-ls"]) == expected


def test_a_tag_too_long_to_store_is_never_chosen() -> None:
    assert best_language(["sr-latn-rs"], ["de", "sr-Latn-RS"]) is None
    assert app_languages("/nonexistent") == ()


@pytest.mark.parametrize(
    ("locale", "start"),
    [("de", "Dieser Mangel wurde bereits gemeldet (Meldung A1)"),
     ("en-GB", "This problem was reported already (report A1)"),
     ("tr", "Bu arıza zaten bildirilmişti (A1 numaralı"),
     ("ar", "تم الإبلاغ عن هذا العطل من قبل (البلاغ A1)"),
     ("uk", "Про цю несправність уже повідомили (повідомлення A1)"),
     ("de-x-ls", "Das wurde schon gemeldet. Die Nummer ist A1."), ("fr", "Dieser Mangel")],
)
def test_the_duplicate_note_is_in_the_reporters_language(locale: str, start: str) -> None:
    assert duplicate_note(locale, "A1").startswith(start)
