"""A report closed as not the city's tells the reporter whose it is, in their language."""

from __future__ import annotations

from backend.notify.texts import status_email, with_responsible

DB = {"name": "Deutsche Bahn AG", "url": "https://www.bahn.de/kontakt"}


def test_the_note_names_who_is_responsible_with_the_link() -> None:
    assert with_responsible("de", "Bahngelände.", DB) == (
        "Bahngelände.\nZuständig ist: Deutsche Bahn AG – https://www.bahn.de/kontakt")
    assert with_responsible("en-GB", None, {"name": "Autobahn GmbH", "url": None}) == (
        "Responsible instead: Autobahn GmbH")
    assert with_responsible("de", "Nur die Notiz.", None) == "Nur die Notiz."


def test_the_e_mail_carries_it_escaped() -> None:
    note = with_responsible("de", "Bahngelände.", {"name": "<DB>", "url": None})
    _, text, html = status_email("de", "k7p3xr9q", "rejected", note, "https://x/track/t",
                                 "https://x/unsubscribe/u", None)
    assert "Zuständig ist: <DB>" in text
    assert "Zuständig ist: &lt;DB&gt;" in html and "<DB>" not in html
