"""Response templates as a service, on both backends: the demo templates are there after
`init`, placeholders are checked when saved (the field named) and filled in the reporter's
language, only admins manage them (audited), and a report gets the templates of its
category, group or every category for the target status."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput, NotFound
from backend.models import AuditEntry, Report, ResponseTemplate
from backend.permissions import Forbidden
from backend.services.seeding import seed_reports
from backend.services.staff.users import create_user
from backend.services.templates import list_templates, report_templates, save_template
from backend.services.templates.placeholders import fill, text_problems
from backend.services.templates.render import text_language

TEXTS = {"de": "Meldung {report_number}: {category} bei {department} in {district}, "
               "bis {expected_date}.",
         "en": "Report {report_number}: {category} at {department} in {district}, "
               "by {expected_date}."}


def _admin(session: Session, name: str = "ada", role: str = "admin",
           departments: list[str] | None = None):  # noqa: ANN202
    user = create_user(session, username=name, password=None, role=role,
                       departments=departments or [])
    session.commit()
    return user


def test_the_demo_templates_are_there_after_init(session: Session) -> None:
    names = {t.name: t for t in session.scalars(select(ResponseTemplate))}
    assert {"Bestätigt – wird bearbeitet", "Ampel – Störung behoben",
            "Schild – ersetzt oder gerichtet", "Nicht zuständig – Privatgrund"} <= set(names)
    assert all({"de", "en"} <= set(t.texts) for t in names.values())


@pytest.mark.parametrize(("text", "problem"), [
    ("Hallo {name}", "unknown placeholder(s): {name}"),
    ("Hallo {report_number:>5}", "unknown placeholder(s): {report_number:>5}"),
    ("Hallo {}", "unknown placeholder(s): {}"),
    ("Klammer } allein", "a brace"),
    ("Klammer { allein", "a brace"),
])
def test_unknown_placeholders_and_stray_braces_are_named(text: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in text_problems(text))
    assert text_problems(TEXTS["de"]) == []


def test_fill_replaces_known_placeholders_only() -> None:
    assert fill("{report_number} / {x}", {"report_number": "ab12"}) == "ab12 / {x}"


@pytest.mark.parametrize(("locale", "texts", "chosen"), [
    ("de", {"de": "a", "en": "b"}, "de"),
    ("en-GB", {"de": "a", "en": "b"}, "en"),
    ("tr", {"de": "a", "en": "b"}, "en"),  # names follow English too
    ("tr", {"de": "a", "en": "b", "tr": "c"}, "tr"),
    ("de-x-ls", {"de": "a", "en": "b"}, "de"),
    ("de-x-ls", {"de": "a", "en": "b", "de-x-ls": "c"}, "de-x-ls"),
])
def test_the_reporter_gets_their_language_or_the_nearest(locale: str, texts: dict[str, str],
                                                         chosen: str) -> None:
    assert text_language(texts, locale) == chosen


def test_saving_refuses_unknown_placeholders_with_the_field_named(session: Session) -> None:
    admin = _admin(session)
    with pytest.raises(InvalidInput) as caught:
        save_template(session, admin, None, {"name": "x", "texts": {
            "de": "Hallo {reporter}", "en": "Hello", "xx": "?"}})
    assert set(caught.value.fields) == {"texts.de", "texts.xx"}
    with pytest.raises(InvalidInput) as caught:
        save_template(session, admin, None, {"name": "x", "texts": {"de": "Hallo"},
                                             "category": "nope", "status": "done"})
    assert set(caught.value.fields) == {"texts.en", "category", "status"}


def test_only_admins_manage_templates_and_every_change_is_audited(session: Session) -> None:
    admin = _admin(session)
    for role in ("dispatcher", "crew", "analyst"):
        other = _admin(session, f"not-{role}", role, ["bezirksinspektion-mitte"])
        with pytest.raises(Forbidden):
            list_templates(session, other)
        with pytest.raises(Forbidden):
            save_template(session, other, None, {"name": "x", "texts": TEXTS})
    made = save_template(session, admin, None, {"name": "Alles", "texts": TEXTS,
                                                "group": "schild", "status": "resolved"})
    changed = save_template(session, admin, made.id, {"category": "schild-fehlt",
                                                      "active": False})
    assert (changed.category_code, changed.group_code, changed.active) == (
        "schild-fehlt", None, False)
    with pytest.raises(NotFound):
        save_template(session, admin, 999999, {"active": True})
    audit = [(e.actor, e.action, e.details["name"]) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action.like("%_template")).order_by(AuditEntry.id))]
    assert audit == [("ada", "create_template", "Alles"), ("ada", "change_template", "Alles")]
    assert [t.name for t in list_templates(session, admin)][-1] == "Alles"  # inactive last


def test_a_report_gets_its_templates_filled_in_for_reporter_and_staff(session: Session) -> None:
    seed_reports(session, 40)
    admin = _admin(session)
    report = session.scalars(select(Report).join(Report.category).where(
        Report.district_id.is_not(None))).first()
    assert report is not None
    report.reporter_locale = "en"
    report.due_at = datetime(2026, 12, 24, 23, 30, tzinfo=UTC)  # 25 December in Munich
    session.commit()
    save_template(session, admin, None, {"name": "Mine", "texts": TEXTS,
                                         "category": report.category.code, "status": "resolved"})
    save_template(session, admin, None, {"name": "Other category", "texts": TEXTS,
                                         "category": "sonstiges" if report.category.code
                                         != "sonstiges" else "schild-fehlt"})
    answer = report_templates(session, admin, report.public_id, status="resolved",
                              staff_locale="de")
    assert answer["reporter_language"] == "en"
    mine = next(t for t in answer["templates"] if t["name"] == "Mine")
    district = report.district.name
    assert mine["reporter"] == {"language": "en", "text": (
        f"Report {report.public_id}: {report.category.name_en} at {report.department.name_en} "
        f"in {district}, by 25 December 2026.")}
    assert mine["staff"]["text"] == (
        f"Meldung {report.public_id}: {report.category.name_de} bei "
        f"{report.department.name_de} in {district}, bis 25.12.2026.")
    names = {t["name"] for t in answer["templates"]}
    assert "Other category" not in names
    assert all(t["status"] in ("resolved", None) for t in answer["templates"])
    acknowledged = report_templates(session, admin, report.public_id, status="acknowledged",
                                    staff_locale="en")
    assert "Bestätigt – wird bearbeitet" in {t["name"] for t in acknowledged["templates"]}
    assert "Mine" not in {t["name"] for t in acknowledged["templates"]}
    save_template(session, admin, mine["id"], {"active": False})
    assert "Mine" not in {t["name"] for t in report_templates(
        session, admin, report.public_id, status="resolved", staff_locale="de")["templates"]}


def test_crews_get_templates_only_for_reports_of_their_departments(session: Session) -> None:
    seed_reports(session, 30)
    report = session.scalars(select(Report)).first()
    assert report is not None
    own = report.department.code
    other = "verkehrstechnik" if own != "verkehrstechnik" else "anliegenmanagement"
    crew = _admin(session, "carl", "crew", [own])
    stranger = _admin(session, "stan", "crew", [other])
    assert report_templates(session, crew, report.public_id, status=None,
                            staff_locale="de")["templates"]
    with pytest.raises(NotFound):
        report_templates(session, stranger, report.public_id, status=None, staff_locale="de")
    with pytest.raises(InvalidInput):
        report_templates(session, crew, report.public_id, status="done", staff_locale="de")
