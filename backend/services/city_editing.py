"""Dispatchers edit categories, departments and routing rules in the running system.

Each change bumps the configuration version token in the same transaction, so every process
routes the next report with the new rules (see `city_cache`), and is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.city.config import CODE, open311_problems
from backend.errors import Conflict, InvalidInput, NotFound
from backend.models import (
    AuditEntry,
    Category,
    CategoryGroup,
    Department,
    District,
    RoutingRule,
    StaffUser,
)
from backend.models.base import Base, utcnow
from backend.permissions import require_city_editing
from backend.services.city_state import bump_config_version
from backend.workflow import Priority

PRIORITIES = tuple(p.value for p in Priority)


def column_length(model: type[Base], name: str) -> int | None:
    """How many characters a model's text column holds (None: unbounded). PostgreSQL refuses
    longer text with an error, SQLite stores it anyway: both are checked against this."""
    return getattr(model.__table__.c[name].type, "length", None)


@dataclass(frozen=True)
class RuleInput:
    """One routing rule as an editor sends it."""

    department: str
    category: str | None = None
    group: str | None = None
    districts: tuple[str, ...] | None = None


def city_overview(session: Session, user: StaffUser) -> dict[str, Any]:
    """Everything the editor shows."""
    require_city_editing(user)
    departments = list(session.scalars(select(Department).order_by(Department.code)))
    by_id = {d.id: d.code for d in departments}
    groups = list(session.scalars(select(CategoryGroup).order_by(CategoryGroup.position)))
    group_codes = {g.id: g.code for g in groups}
    return {
        "departments": [{"code": d.code, "name_de": d.name_de, "name_en": d.name_en,
                         "email": d.email, "active": d.active, "open311": d.open311}
                        for d in departments],
        "groups": [{"code": g.code, "name_de": g.name_de, "name_en": g.name_en,
                    "active": g.active} for g in groups],
        "categories": [{"code": c.code, "group": group_codes[c.group_id], "name_de": c.name_de,
                        "name_en": c.name_en, "description_de": c.description_de,
                        "description_en": c.description_en, "priority": c.default_priority,
                        "active": c.active}
                       for c in session.scalars(select(Category).order_by(Category.position))],
        "rules": [{"id": r.id, "category": r.category_code, "group": r.group_code,
                   "districts": sorted(r.district_numbers) if r.district_numbers else None,
                   "department": by_id[r.department_id]}
                  for r in session.scalars(select(RoutingRule).order_by(RoutingRule.id))],
        "districts": [{"number": n, "name": name} for n, name in session.execute(
            select(District.number, District.name).order_by(District.number))],
    }


def _audit(session: Session, user: StaffUser, action: str, details: dict[str, Any]) -> None:
    session.add(AuditEntry(at=utcnow(), user_id=user.id, actor=user.username, action=action,
                           report_id=None, details=details))


def audit(session: Session, user: StaffUser, action: str, details: dict[str, Any]) -> None:
    """Record an administrative action on its own (commits)."""
    _audit(session, user, action, details)
    session.commit()


def replace_rules(session: Session, user: StaffUser, rules: Sequence[RuleInput]) -> int:
    """Replace every routing rule at once (checked as a whole: references and a fallback)."""
    require_city_editing(user)
    departments = {d.code: d for d in session.scalars(select(Department).where(
        Department.active))}
    categories = set(session.scalars(select(Category.code)))
    groups = set(session.scalars(select(CategoryGroup.code)))
    districts = set(session.scalars(select(District.number)))
    problems: dict[str, list[str]] = {}
    for i, rule in enumerate(rules):
        where = f"rules.{i}"
        if rule.department not in departments:
            problems[f"{where}.department"] = [f"unknown or inactive '{rule.department}'"]
        if rule.category and rule.group:
            problems[where] = ["give either category or group, not both"]
        if rule.category and rule.category not in categories:
            problems[f"{where}.category"] = [f"unknown category '{rule.category}'"]
        if rule.group and rule.group not in groups:
            problems[f"{where}.group"] = [f"unknown group '{rule.group}'"]
        unknown = sorted(set(rule.districts or ()) - districts) if districts else []
        if unknown:
            problems[f"{where}.districts"] = [f"unknown district(s): {', '.join(unknown)}"]
    if not any(not r.category and not r.group and not r.districts for r in rules):
        problems["rules"] = ["needs a fallback rule (no category, no group, no districts)"]
    keys = [(r.category, r.group, tuple(sorted(set(r.districts or ())))) for r in rules]
    if len(set(keys)) != len(keys):
        problems.setdefault("rules", []).append("two rules with the same selector")
    if problems:
        raise InvalidInput("The routing rules are invalid.", problems)
    old = [(r.category_code, r.group_code, r.district_numbers, r.department_id)
           for r in session.scalars(select(RoutingRule))]
    for row in session.scalars(select(RoutingRule)):
        session.delete(row)
    session.flush()
    for rule in rules:
        session.add(RoutingRule(
            category_code=rule.category or None, group_code=rule.group or None,
            district_numbers=sorted(set(rule.districts)) if rule.districts else None,
            department_id=departments[rule.department].id))
    bump_config_version(session)
    _audit(session, user, "replace_rules", {"before": len(old), "after": len(rules)})
    session.commit()
    return len(rules)


def _text(value: Any, field: str, problems: dict[str, list[str]], *, required: bool,
          max_length: int | None) -> Any:
    """Stripped text, or None with the problem noted (missing, not text, blank, too long)."""
    if value is None:
        if required:
            problems[field] = ["required"]
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        problems[field] = ["must be a non-empty text"]
        return None
    if max_length is not None and len(value.strip()) > max_length:
        problems[field] = [f"at most {max_length} characters"]
        return None
    return value.strip()


def _code(value: Any, model: type[Base]) -> str | None:
    """`value` if it could be a stored code (text that fits the column), else None: another
    JSON type in a query is a database error on PostgreSQL (and on SQLite for lists)."""
    limit = column_length(model, "code")
    if isinstance(value, str) and (limit is None or len(value) <= limit):
        return value
    return None


def _existing_and_names(session: Session, model: type[Base], kind: str, code: str,
                        values: dict[str, Any], create: bool, problems: dict[str, list[str]]
                        ) -> tuple[Any, dict[str, Any]]:
    """The row to change (None when creating) and its checked German and English names."""
    stored = _code(code, model)
    row = session.scalar(select(model).where(model.code == stored)) if stored else None
    if create:
        if not CODE.regex.match(stored or ""):
            problems["code"] = ["lowercase letters, digits and '-'"]
        elif row is not None:
            raise Conflict(f"This {kind} exists already.", {"code": ["already exists"]})
    elif row is None:
        raise NotFound(f"No such {kind}.", {"code": ["not found"]})
    updates = {name: _text(values.get(name), name, problems, required=True,
                           max_length=column_length(model, name))
               for name in ("name_de", "name_en") if create or name in values}
    return row, updates


def _store(session: Session, user: StaffUser, row: Any, updates: dict[str, Any], kind: str
           ) -> Any:
    """Apply the checked changes to a new or existing row, mark the configuration changed,
    audit, commit."""
    created = row.id is None
    if created:
        session.add(row)
    for name, value in updates.items():
        setattr(row, name, value)
    bump_config_version(session)
    _audit(session, user, f"{'create' if created else 'change'}_{kind}",
           {"code": row.code, "fields": sorted(updates)})
    session.commit()
    return row


def save_category(session: Session, user: StaffUser, code: str, values: dict[str, Any], *,
                  create: bool) -> Category:
    """Create or change a category (codes never change; deactivate instead of deleting)."""
    require_city_editing(user)
    problems: dict[str, list[str]] = {}
    category, updates = _existing_and_names(session, Category, "category", code, values,
                                            create, problems)
    for name in ("description_de", "description_en"):
        if name in values:
            updates[name] = _text(values.get(name), name, problems, required=False,
                                  max_length=column_length(Category, name)) or ""
    if create or "priority" in values:
        priority = values.get("priority")
        if not isinstance(priority, str) or priority not in PRIORITIES:
            problems["priority"] = [f"one of {', '.join(PRIORITIES)}"]
        updates["default_priority"] = priority
    if create or "group" in values:
        group_code = _code(values.get("group"), CategoryGroup)
        group = session.scalar(select(CategoryGroup).where(
            CategoryGroup.code == group_code)) if group_code else None
        if group is None:
            problems["group"] = ["unknown group"]
        else:
            updates["group_id"] = group.id
    if "active" in values:
        if not isinstance(values["active"], bool):
            problems["active"] = ["true or false"]
        updates["active"] = values["active"]
    if problems:
        raise InvalidInput("The category is invalid.", problems)
    if category is None:
        position = len(list(session.scalars(select(Category.id))))
        category = Category(code=code, position=position, icon=None, active=True,
                            description_de="", description_en="")
    return _store(session, user, category, updates, "category")


def save_department(session: Session, user: StaffUser, code: str, values: dict[str, Any], *,
                    create: bool) -> Department:
    """Create or change a department (names, e-mail, active flag, Open311 forwarding)."""
    require_city_editing(user)
    problems: dict[str, list[str]] = {}
    department, updates = _existing_and_names(session, Department, "department", code,
                                              values, create, problems)
    if "email" in values:
        updates["email"] = _text(values.get("email"), "email", problems, required=False,
                                 max_length=column_length(Department, "email"))
    if "active" in values:
        if not isinstance(values["active"], bool):
            problems["active"] = ["true or false"]
        elif values["active"] is False and department is not None and session.scalar(
                select(RoutingRule.id).where(RoutingRule.department_id == department.id)):
            problems["active"] = ["routing rules still send reports here; change them first"]
        updates["active"] = values["active"]
    if "open311" in values:  # null stops forwarding
        updates["open311"], open311 = open311_problems(values["open311"])
        problems.update(open311)
    if problems:
        raise InvalidInput(f"The department '{code}' is invalid.", problems)
    if department is None:
        department = Department(code=code, active=True)
    return _store(session, user, department, updates, "department")
