"""The templates that fit a report, filled in for it: in the reporter's language (what they
will receive) and in the staff member's (to understand it). The one place templates are
rendered; staff send the text they saw (possibly edited) as the public note."""

from __future__ import annotations

from calendar import month_name
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend.errors import InvalidInput
from backend.models import Report, ResponseTemplate, StaffUser
from backend.notify.texts import language
from backend.permissions import ReportAction, require_report_action
from backend.services.staff.detail import load_report
from backend.services.templates.placeholders import fill
from backend.workflow import Status

# Dates are the city's: German municipalities (the configuration names no other zone yet).
CITY_ZONE = ZoneInfo("Europe/Berlin")


def text_language(texts: dict[str, str], locale: str | None) -> str:
    """Which of a template's texts a reader of `locale` gets: their language, else German
    for a German variant and English for any other (names also follow de/en), else German."""
    wanted = language(locale)
    base = wanted.split("-", 1)[0]
    for code in (wanted, base, "de" if base == "de" else "en", "de", "en"):
        if texts.get(code):
            return code
    return next(iter(texts))


def _date(value: datetime | None, lang: str) -> str:
    if value is None:
        return ""
    day = value.astimezone(CITY_ZONE).date()
    if lang.startswith("de"):
        return day.strftime("%d.%m.%Y")
    return f"{day.day} {month_name[day.month]} {day.year}"


def placeholder_values(report: Report, lang: str) -> dict[str, str]:
    """What each placeholder stands for in this report, in `lang` (names in German or English)."""
    german = lang.split("-", 1)[0] == "de"
    category, department = report.category, report.department
    return {
        "report_number": report.public_id,
        "category": category.name_de if german else category.name_en,
        "department": department.name_de if german else department.name_en,
        "expected_date": _date(report.due_at, "de" if german else "en"),
        "district": report.district.name if report.district else "",
    }


def rendered(template: ResponseTemplate, report: Report, locale: str) -> dict[str, str]:
    """One template's text for a reader of `locale`: its language and the filled-in text."""
    lang = text_language(template.texts, locale)
    return {"language": lang,
            "text": fill(template.texts[lang], placeholder_values(report, lang))}


def report_templates(session: Session, user: StaffUser, public_id: str, *,
                     status: str | None, staff_locale: str) -> dict[str, Any]:
    """The active templates for this report (its category or group, or every category) and
    the target `status` (or any status), filled in for the reporter and for the asker."""
    report = load_report(session, public_id)
    require_report_action(user, report.department_id, ReportAction.STATUS)
    if status is not None and status not in {s.value for s in Status}:
        raise InvalidInput("Unknown status.", {"status": [
            f"one of {', '.join(s.value for s in Status)}"]})
    category = report.category
    query = select(ResponseTemplate).where(
        ResponseTemplate.active,
        or_(ResponseTemplate.category_code == category.code,
            ResponseTemplate.group_code == category.group.code,
            (ResponseTemplate.category_code.is_(None)) & (ResponseTemplate.group_code.is_(None))))
    if status is not None:
        query = query.where(or_(ResponseTemplate.status == status,
                                ResponseTemplate.status.is_(None)))
    templates = sorted(session.scalars(query),
                       key=lambda t: (t.status is None, t.category_code is None,
                                      t.group_code is None, t.name.lower()))
    reporter_locale = report.reporter_locale or "de"
    return {
        "reporter_language": language(reporter_locale),
        "templates": [{"id": t.id, "name": t.name, "status": t.status,
                       "reporter": rendered(t, report, reporter_locale),
                       "staff": rendered(t, report, staff_locale)} for t in templates],
    }
