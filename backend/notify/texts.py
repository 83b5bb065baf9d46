"""What reporters read: status labels, push notification payloads and status e-mails.

German is the default language (the city's), English the second; further languages are data
files, `backend/notify/languages/<code>.json` (status labels, meanings, phrases), each text
falling back to German when missing, so a city adds one without code. Texts carry only the
report id, its status, the city's public note and links meant for the recipient: never a
name, address or message of anyone else.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

DEFAULT_LOCALE = "de"
# Push services cap payloads at about 4 KB; the full note is always on the tracking page.
PUSH_NOTE_MAX_CHARS = 500

STATUS_LABELS: dict[str, dict[str, str]] = {
    "de": {
        "submitted": "Eingegangen",
        "acknowledged": "Bestätigt",
        "in_progress": "In Bearbeitung",
        "resolved": "Erledigt",
        "rejected": "Abgelehnt",
        "closed": "Abgeschlossen",
        "reopened": "Wieder geöffnet",
    },
    "en": {
        "submitted": "Received",
        "acknowledged": "Confirmed",
        "in_progress": "In progress",
        "resolved": "Fixed",
        "rejected": "Rejected",
        "closed": "Closed",
        "reopened": "Reopened",
    },
}

# One plain sentence per status saying what it means for the reporter.
_STATUS_MEANING: dict[str, dict[str, str]] = {
    "de": {
        "submitted": "Ihre Meldung ist bei uns eingegangen.",
        "acknowledged": "Die zuständige Stelle hat Ihre Meldung geprüft und übernommen.",
        "in_progress": "Die zuständige Stelle arbeitet daran, den Mangel zu beheben.",
        "resolved": "Die zuständige Stelle meldet: Der Mangel ist behoben.",
        "rejected": "Die zuständige Stelle wird diese Meldung nicht bearbeiten.",
        "closed": "Die Bearbeitung Ihrer Meldung ist abgeschlossen.",
        "reopened": "Ihre Meldung wurde wieder geöffnet und wird erneut bearbeitet.",
    },
    "en": {
        "submitted": "We have received your report.",
        "acknowledged": "The responsible office has checked your report and taken it on.",
        "in_progress": "The responsible office is working on fixing the problem.",
        "resolved": "The responsible office says the problem has been fixed.",
        "rejected": "The responsible office will not work on this report.",
        "closed": "Work on your report is finished.",
        "reopened": "Your report has been reopened and will be worked on again.",
    },
}

_PHRASES: dict[str, dict[str, str]] = {
    "de": {
        "title": "Ihre Meldung {report}",
        "body": "Status: {label}",
        "subject": "Ihre Meldung {report}: {label}",
        "greeting": "Guten Tag,",
        "changed": "der Status Ihrer Meldung {report} hat sich geändert: {label}.",
        "note": "Hinweis der Stadt:",
        "track": "Den aktuellen Stand sehen Sie hier:",
        "track_link": "Meldung ansehen",
        "fixed_question": "Ist der Mangel wirklich behoben? Ein Klick genügt:",
        "fixed_yes": "Ja, behoben",
        "fixed_no": "Nein, noch nicht",
        "why": "Sie erhalten diese Nachricht, weil Sie über diese Meldung informiert werden "
        "möchten.",
        "unsubscribe": "Keine weiteren Nachrichten zu dieser Meldung:",
        "unsubscribe_link": "Abbestellen",
        "automatic": "Diese Nachricht wurde automatisch versandt. Antworten darauf werden "
        "nicht gelesen.",
    },
    "en": {
        "title": "Your report {report}",
        "body": "Status: {label}",
        "subject": "Your report {report}: {label}",
        "greeting": "Hello,",
        "changed": "the status of your report {report} has changed: {label}.",
        "note": "Note from the city:",
        "track": "See the current state here:",
        "track_link": "View report",
        "fixed_question": "Is the problem really fixed? One click is enough:",
        "fixed_yes": "Yes, fixed",
        "fixed_no": "No, not yet",
        "why": "You receive this message because you asked to be told about this report.",
        "unsubscribe": "No more messages about this report:",
        "unsubscribe_link": "Unsubscribe",
        "automatic": "This message was sent automatically. Replies are not read.",
    },
}


_RESPONSIBLE = {"de": "Zuständig ist: {who}", "en": "Responsible instead: {who}"}
# The public note of a report closed as reported already, unless staff wrote their own.
_DUPLICATE = {
    "de": "Dieser Mangel wurde bereits gemeldet (Meldung {id}); wir bearbeiten ihn dort.",
    "en": "This problem was reported already (report {id}); we handle it there.",
}
LANGUAGE_DIR = Path(__file__).with_name("languages")
_RIGHT_TO_LEFT: set[str] = set()


def _load_languages(directory: Path) -> None:
    """Add each `<code>.json` of `directory` as a language, German for whatever it lacks."""
    for path in sorted(directory.glob("*.json")):
        code, data = path.stem.lower(), json.loads(path.read_text(encoding="utf-8"))
        STATUS_LABELS[code] = {**STATUS_LABELS["de"], **data.get("status", {})}
        _STATUS_MEANING[code] = {**_STATUS_MEANING["de"], **data.get("meaning", {})}
        _PHRASES[code] = {**_PHRASES["de"], **data.get("phrases", {})}
        _RESPONSIBLE[code] = data.get("responsible", _RESPONSIBLE["de"])
        _DUPLICATE[code] = data.get("duplicate_note", _DUPLICATE["de"])
        if data.get("dir") == "rtl":
            _RIGHT_TO_LEFT.add(code)


_load_languages(LANGUAGE_DIR)


def language(locale: str | None) -> str:
    """The supported language for a locale: the tag itself (`de-x-ls`), else its primary
    language (`en-GB`, `de_AT`, `ar-EG`); German otherwise."""
    tag = (locale or "").replace("_", "-").lower()
    if tag in STATUS_LABELS:
        return tag
    base = tag.split("-", 1)[0]
    return base if base in STATUS_LABELS else DEFAULT_LOCALE


def status_label(locale: str | None, status: str) -> str:
    """The localized label of `status`; ValueError for a status that does not exist."""
    labels = STATUS_LABELS[language(locale)]
    if status not in labels:
        raise ValueError(f"unknown report status: {status!r}")
    return labels[status]


def push_payload(
    locale: str, report_id: str, status: str, public_note: str | None
) -> dict[str, str | None]:
    """The JSON object the service worker turns into a notification for a status change."""
    lang = language(locale)
    label = status_label(lang, status)
    phrases = _PHRASES[lang]
    return {
        "report": report_id,
        "status": str(status),
        "title": phrases["title"].format(report=report_id),
        "body": phrases["body"].format(label=label),
        "note": _shorten(public_note, PUSH_NOTE_MAX_CHARS),
    }


def status_email(
    locale: str,
    report_id: str,
    status: str,
    public_note: str | None,
    tracking_url: str,
    unsubscribe_url: str,
    fixed_question_urls: tuple[str, str] | None,
) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the e-mail telling a reporter about a status change."""
    lang = language(locale)
    label = status_label(lang, status)
    p = _PHRASES[lang]
    meaning = _STATUS_MEANING[lang][status]
    note = public_note.strip() if public_note and public_note.strip() else None
    # "Is it fixed?" only makes sense once the city says it is.
    fixed = fixed_question_urls if status == "resolved" else None

    subject = p["subject"].format(report=report_id, label=label)

    lines = [p["greeting"], "", p["changed"].format(report=report_id, label=label), meaning, ""]
    if note:
        lines += [p["note"], note, ""]
    lines += [p["track"], tracking_url, ""]
    if fixed:
        lines += [p["fixed_question"], f"{p['fixed_yes']}: {fixed[0]}",
                  f"{p['fixed_no']}: {fixed[1]}", ""]
    lines += ["-- ", p["why"], p["unsubscribe"], unsubscribe_url, "", p["automatic"], ""]
    text = "\n".join(lines)

    e = escape  # every inserted value, including our own texts and URLs, goes through it
    direction = ' dir="rtl"' if lang in _RIGHT_TO_LEFT else ""
    parts = [
        f'<!DOCTYPE html>\n<html lang="{e(lang)}"{direction}>\n<head><meta charset="utf-8">'
        f"<title>{e(subject)}</title></head>\n<body>",
        f"<p>{e(p['greeting'])}</p>",
        f"<p>{e(p['changed'].format(report=report_id, label=label))}<br>{e(meaning)}</p>",
    ]
    if note:
        parts.append(f"<p><strong>{e(p['note'])}</strong><br>{_multiline_html(note)}</p>")
    parts.append(f"<p>{e(p['track'])}<br>"
                 f'<a href="{e(tracking_url)}">{e(p["track_link"])}</a></p>')
    if fixed:
        parts.append(f"<p>{e(p['fixed_question'])}<br>"
                     f'<a href="{e(fixed[0])}">{e(p["fixed_yes"])}</a> · '
                     f'<a href="{e(fixed[1])}">{e(p["fixed_no"])}</a></p>')
    parts += [
        f'<hr>\n<p><small>{e(p["why"])}<br>{e(p["unsubscribe"])} '
        f'<a href="{e(unsubscribe_url)}">{e(p["unsubscribe_link"])}</a><br>'
        f"{e(p['automatic'])}</small></p>",
        "</body>\n</html>\n",
    ]
    html = "\n".join(parts)
    return subject, text, html


def with_responsible(locale: str | None, note: str | None,
                     responsible: dict | None) -> str | None:
    """The city's note followed by who is responsible instead (a report closed as not the
    city's), so the reporter knows where to turn."""
    if not responsible or not responsible.get("name"):
        return note
    who = responsible["name"] + (f" – {responsible['url']}" if responsible.get("url") else "")
    line = _RESPONSIBLE[language(locale)].format(who=who)
    return f"{note.strip()}\n{line}" if note and note.strip() else line


def duplicate_note(locale: str | None, original_id: str) -> str:
    """The note telling a reporter their report is a duplicate of `original_id`."""
    return _DUPLICATE[language(locale)].format(id=original_id)


def _shorten(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _multiline_html(text: str) -> str:
    # The note is plain text typed by staff: escape it, then keep its line breaks.
    return "<br>".join(escape(line) for line in text.splitlines())
