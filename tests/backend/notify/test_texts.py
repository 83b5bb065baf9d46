"""Notification texts: labels, push payloads and status e-mails in German and English."""

from __future__ import annotations

import json

import pytest

from backend.notify.push import PAYLOAD_LIMIT_BYTES
from backend.notify.texts import (
    PUSH_NOTE_MAX_CHARS,
    STATUS_LABELS,
    push_payload,
    status_email,
)
from backend.workflow import Status

REPORT = "k7p3xr9q"
TRACK = "https://meldungen.example/track/tok?x=1&y=2"
UNSUB = "https://meldungen.example/unsubscribe/abc"
FIXED = ("https://meldungen.example/fixed?answer=yes", "https://meldungen.example/fixed?answer=no")


@pytest.mark.parametrize("locale", ["de", "en"])
def test_every_workflow_status_has_a_label(locale: str) -> None:
    assert set(STATUS_LABELS[locale]) == {s.value for s in Status}


def test_german_labels() -> None:
    assert STATUS_LABELS["de"] == {
        "submitted": "Eingegangen",
        "acknowledged": "Bestätigt",
        "in_progress": "In Bearbeitung",
        "resolved": "Erledigt",
        "rejected": "Abgelehnt",
        "closed": "Abgeschlossen",
        "reopened": "Wieder geöffnet",
    }


def test_german_push_payload_is_exactly_the_five_fields() -> None:
    assert push_payload("de", REPORT, "in_progress", "Ampel wird morgen getauscht.") == {
        "report": REPORT,
        "status": "in_progress",
        "title": "Ihre Meldung k7p3xr9q",
        "body": "Status: In Bearbeitung",
        "note": "Ampel wird morgen getauscht.",
    }


def test_english_push_payload_accepts_a_status_enum_and_no_note() -> None:
    assert push_payload("en", REPORT, Status.RESOLVED, None) == {
        "report": REPORT,
        "status": "resolved",
        "title": "Your report k7p3xr9q",
        "body": "Status: Fixed",
        "note": None,
    }


@pytest.mark.parametrize(
    ("locale", "title"),
    [("fr", "Ihre Meldung"), ("", "Ihre Meldung"), ("en-GB", "Your report"),
     ("en_US", "Your report"), ("DE-at", "Ihre Meldung")],
)
def test_locale_falls_back_to_german(locale: str, title: str) -> None:
    assert push_payload(locale, REPORT, "closed", None)["title"] == f"{title} {REPORT}"


def test_unknown_status_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown report status"):
        push_payload("de", REPORT, "lost", None)


def test_longest_note_in_four_byte_characters_still_fits_a_push() -> None:
    payload = push_payload("de", REPORT, "reopened", "🚦" * 5000)
    note = payload["note"]
    assert note is not None and len(note) == PUSH_NOTE_MAX_CHARS and note.endswith("…")
    encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    assert len(encoded) < PAYLOAD_LIMIT_BYTES


def test_german_status_email_in_plain_language_with_links() -> None:
    subject, text, html = status_email(
        "de", REPORT, "acknowledged", "Wir prüfen die Ampel an der Lindwurmstraße.",
        TRACK, UNSUB, None,
    )
    assert subject == "Ihre Meldung k7p3xr9q: Bestätigt"
    assert "der Status Ihrer Meldung k7p3xr9q hat sich geändert: Bestätigt." in text
    assert "Wir prüfen die Ampel an der Lindwurmstraße." in text
    assert TRACK in text and UNSUB in text
    assert '<html lang="de">' in html
    assert 'href="https://meldungen.example/track/tok?x=1&amp;y=2"' in html
    assert f'href="{UNSUB}"' in html


def test_english_status_email() -> None:
    subject, text, html = status_email("en", REPORT, "rejected", None, TRACK, UNSUB, None)
    assert subject == "Your report k7p3xr9q: Rejected"
    assert "the status of your report k7p3xr9q has changed: Rejected." in text
    assert "Note from the city" not in text
    assert "Unsubscribe" in html and '<html lang="en">' in html


def test_note_is_escaped_in_html_and_kept_verbatim_in_text() -> None:
    note = '<script>alert("x")</script> & "Ampel"\nZeile 2'
    _, text, html = status_email("de", REPORT, "in_progress", note, TRACK, UNSUB, None)
    assert note in text
    assert "<script>" not in html
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Ampel&quot;"
    assert f"{escaped}<br>Zeile 2" in html


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_is_it_fixed_links_only_for_resolved(status: str) -> None:
    _, text, html = status_email("de", REPORT, status, None, TRACK, UNSUB, FIXED)
    shown = status == "resolved"
    assert ("Ist der Mangel wirklich behoben?" in text) is shown
    for url in FIXED:
        assert (url in text) is shown
        assert (f'href="{url}"' in html) is shown


def test_resolved_without_fixed_links_asks_nothing() -> None:
    _, text, _ = status_email("en", REPORT, "resolved", None, TRACK, UNSUB, None)
    assert "Is the problem really fixed?" not in text
