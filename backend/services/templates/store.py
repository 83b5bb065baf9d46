"""Admins keep response templates: list, create, change, deactivate (never delete: the audit
log names them). Every change is audited in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.errors import Conflict, InvalidInput, NotFound
from backend.models import AuditEntry, Category, CategoryGroup, ResponseTemplate, StaffUser
from backend.models.base import utcnow
from backend.notify.texts import STATUS_LABELS
from backend.permissions import require_template_admin
from backend.services.templates.placeholders import text_problems
from backend.workflow import Status

REQUIRED_LANGUAGES = ("de", "en")
MAX_TEXT = 4000  # as long as a public note may be
MAX_NAME = 120
FIELDS = ("name", "category", "group", "status", "texts", "active")


def languages() -> tuple[str, ...]:
    """The languages a template text may be written in: those notifications know."""
    return tuple(STATUS_LABELS)


def template_view(template: ResponseTemplate) -> dict[str, Any]:
    """A template as the admin screen shows it."""
    return {"id": template.id, "name": template.name, "category": template.category_code,
            "group": template.group_code, "status": template.status,
            "texts": dict(template.texts), "active": template.active}


def list_templates(session: Session, user: StaffUser) -> list[ResponseTemplate]:
    """Every template, active ones first, by name (admins)."""
    require_template_admin(user)
    return list(session.scalars(select(ResponseTemplate).order_by(
        ResponseTemplate.active.desc(), ResponseTemplate.name)))


def _texts(value: Any, problems: dict[str, list[str]]) -> dict[str, str] | None:
    if not isinstance(value, dict):
        problems["texts"] = ["an object of texts by language, e.g. {\"de\": …, \"en\": …}"]
        return None
    known, texts = languages(), {}
    for code, text in value.items():
        field = f"texts.{code}"
        if code not in known:
            problems[field] = [f"unknown language; one of {', '.join(known)}"]
        elif not isinstance(text, str) or not text.strip():
            if code in REQUIRED_LANGUAGES:
                problems[field] = ["required"]
        elif len(text.strip()) > MAX_TEXT:
            problems[field] = [f"at most {MAX_TEXT} characters"]
        else:
            trouble = text_problems(text)
            if trouble:
                problems[field] = trouble
            texts[code] = text.strip()
    for code in REQUIRED_LANGUAGES:
        if code not in value:
            problems[f"texts.{code}"] = ["required"]
    return texts


def _checked(session: Session, values: dict[str, Any], create: bool
             ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The model's column values for the given fields, and the problems found."""
    problems: dict[str, list[str]] = {}
    updates: dict[str, Any] = {}
    unknown = sorted(set(values) - set(FIELDS))
    for name in unknown:
        problems[name] = ["unknown field"]
    if create or "name" in values:
        name = values.get("name")
        if not isinstance(name, str) or not name.strip():
            problems["name"] = ["required"]
        elif len(name.strip()) > MAX_NAME:
            problems["name"] = [f"at most {MAX_NAME} characters"]
        else:
            updates["name"] = name.strip()
    if values.get("category") and values.get("group"):
        problems["category"] = ["give either a category or a group, not both"]
    for field, model, column in (("category", Category, "category_code"),
                                 ("group", CategoryGroup, "group_code")):
        if field in values:
            code = values[field] or None
            if code is not None and (not isinstance(code, str) or session.scalar(
                    select(model.id).where(model.code == code[:64])) is None):
                problems[field] = [f"unknown {field}"]
            updates[column] = code
    if "status" in values:
        status = values["status"] or None
        if status is not None and status not in {s.value for s in Status}:
            problems["status"] = [f"one of {', '.join(s.value for s in Status)}"]
        updates["status"] = status
    if create or "texts" in values:
        updates["texts"] = _texts(values.get("texts"), problems)
    if "active" in values:
        if not isinstance(values["active"], bool):
            problems["active"] = ["true or false"]
        updates["active"] = values["active"]
    return updates, problems


def save_template(session: Session, user: StaffUser, template_id: int | None,
                  values: dict[str, Any]) -> ResponseTemplate:
    """Create (`template_id` None) or change a template; unknown placeholders, languages and
    references are refused with the field named (texts.de, category, …)."""
    require_template_admin(user)
    template = None
    if template_id is not None:
        template = session.get(ResponseTemplate, template_id)
        if template is None:
            raise NotFound("No such template.", {"id": ["not found"]})
    if template is not None and not values:
        raise InvalidInput("Nothing to change.", {"body": ["name at least one field"]})
    updates, problems = _checked(session, values, template is None)
    if template is not None:  # a category or group set now replaces the other one
        if updates.get("category_code"):
            updates.setdefault("group_code", None)
        if updates.get("group_code"):
            updates.setdefault("category_code", None)
    if problems:
        raise InvalidInput("The template is invalid.", problems)
    name = updates.get("name")
    if name is not None and session.scalar(select(ResponseTemplate.id).where(
            func.lower(ResponseTemplate.name) == name.lower(),
            ResponseTemplate.id != (template.id if template else -1))):
        raise Conflict("A template with this name exists already.", {"name": ["already exists"]})
    created = template is None
    if template is None:
        template = ResponseTemplate(active=True, created_at=utcnow())
        session.add(template)
    for column, value in updates.items():
        setattr(template, column, value)
    template.updated_at = utcnow()
    session.flush()
    session.add(AuditEntry(at=utcnow(), user_id=user.id, actor=user.username,
                           action="create_template" if created else "change_template",
                           report_id=None, details={"id": template.id, "name": template.name,
                                                    "fields": sorted(values)}))
    session.commit()
    return template


def seed_templates(session: Session, entries: Iterable[dict[str, Any]]) -> int:
    """Add the configuration's templates once, when the city has none yet (later edits by
    admins stand); returns how many were added. The caller commits."""
    if session.scalar(select(ResponseTemplate.id).limit(1)) is not None:
        return 0
    added = 0
    for entry in entries:
        for code, text in entry["texts"].items():
            if text_problems(text):  # a configuration error, shown by `init`
                raise ValueError(f"template {entry['name']!r}, texts.{code}: "
                                 + "; ".join(text_problems(text)))
        session.add(ResponseTemplate(
            name=entry["name"], category_code=entry.get("category"),
            group_code=entry.get("group"), status=entry.get("status"),
            texts=dict(entry["texts"]), active=True, created_at=utcnow(), updated_at=utcnow()))
        added += 1
    return added
