"""Apply a city configuration to the database idempotently (keyed by codes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from backend.city.config import CityConfig, RuleConfig, open311_problems
from backend.models import (
    AssetType,
    Category,
    CategoryGroup,
    Department,
    Report,
    RoutingRule,
)
from backend.services.city_state import bump_config_version, get_city_state


@dataclass
class ConfigChanges:
    """What applying a configuration changed; empty when the database already matched."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    rules_added: int = 0
    rules_removed: int = 0
    kept: bool = False  # the file was applied before; edits in the running system stand

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(
            self.created or self.updated or self.deactivated
            or self.rules_added or self.rules_removed
        )


def _sync(obj: Any, values: dict[str, Any]) -> bool:
    """Set attributes that differ; report whether any did."""
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _upsert(session: Session, model: type, code: str, values: dict[str, Any],
            changes: ConfigChanges, kind: str) -> Any:
    obj = session.scalar(select(model).where(model.code == code))
    if obj is None:
        obj = model(code=code, **values)
        session.add(obj)
        session.flush()
        changes.created.append(f"{kind} {code}")
    elif _sync(obj, values):
        changes.updated.append(f"{kind} {code}")
    return obj


def _drop_category_views(session: Session, category_id: int) -> None:
    """Its reports' public views show photos, or no longer may: rendered again."""
    session.execute(text("DELETE FROM report_public WHERE report_id IN "
                         "(SELECT id FROM report WHERE category_id = :id)"), {"id": category_id})


def _deactivate_missing(session: Session, model: type, keep: set[str],
                        changes: ConfigChanges, kind: str) -> None:
    # Never delete: reports keep pointing at retired categories and departments.
    for obj in session.scalars(select(model).where(model.code.not_in(keep), model.active)):
        obj.active = False
        changes.deactivated.append(f"{kind} {obj.code}")


def _rule_key(rule: RoutingRule | RuleConfig, department_code: str) -> tuple:
    if isinstance(rule, RoutingRule):
        districts = tuple(sorted(rule.district_numbers)) if rule.district_numbers else None
        return (rule.category_code, rule.group_code, districts, department_code)
    return (rule.category, rule.group, rule.districts, department_code)


def _sync_rules(session: Session, config: CityConfig, departments: dict[str, Department],
                changes: ConfigChanges) -> None:
    existing = {
        _rule_key(rule, rule.department.code): rule
        for rule in session.scalars(select(RoutingRule))
    }
    wanted = {_rule_key(rule, rule.department): rule for rule in config.routing}
    for key, rule in existing.items():
        if key not in wanted:
            session.delete(rule)
            changes.rules_removed += 1
    for key, rule in wanted.items():
        if key not in existing:
            session.add(RoutingRule(
                category_code=rule.category,
                group_code=rule.group,
                district_numbers=list(rule.districts) if rule.districts else None,
                department_id=departments[rule.department].id,
            ))
            changes.rules_added += 1


def apply_city_config(session: Session, config: CityConfig, *,
                      unless_applied: bool = False) -> ConfigChanges:
    """Make departments, groups, categories, asset types and rules match the file, then
    commit.

    With `unless_applied`, a file that was applied before unchanged is skipped, so changes
    made in the running system (the dispatcher's editor) are kept.
    """
    changes = ConfigChanges()
    state = get_city_state(session)
    if unless_applied and state.config_version and state.config_file_hash == config.fingerprint:
        session.commit()
        changes.kept = True
        return changes
    departments = {
        d["code"]: _upsert(session, Department, d["code"], {
            "name_de": d["name"]["de"], "name_en": d["name"]["en"],
            "email": d.get("email"), "active": True, "open311": d.get("open311"),
        }, changes, "department")
        for d in config.departments
    }
    groups = {
        g["code"]: _upsert(session, CategoryGroup, g["code"], {
            "name_de": g["name"]["de"], "name_en": g["name"]["en"],
            "description_de": g["description"].get("de", ""),
            "description_en": g["description"].get("en", ""),
            "icon": g.get("icon"), "position": position, "active": True,
        }, changes, "group")
        for position, g in enumerate(config.groups)
    }
    for position, c in enumerate(config.categories):
        before = session.scalar(select(Category.photos_public)
                                .where(Category.code == c["code"]))
        category = _upsert(session, Category, c["code"], {
            "group_id": groups[c["group"]].id,
            "name_de": c["name"]["de"], "name_en": c["name"]["en"],
            "description_de": c["description"].get("de", ""),
            "description_en": c["description"].get("en", ""),
            "default_priority": c["priority"], "icon": c.get("icon"),
            "position": position, "active": c.get("active", True),
            "keywords": c.get("keywords"), "attributes": c.get("attributes") or None,
            "photos_public": c.get("photos_public", True),
        }, changes, "category")
        if before is not None and before != category.photos_public:
            _drop_category_views(session, category.id)
    for position, t in enumerate(config.asset_types):
        _upsert(session, AssetType, t["code"], {
            "name_de": t["name"]["de"], "name_en": t["name"]["en"],
            "group_codes": list(t["groups"]), "position": position, "active": True,
        }, changes, "asset type")
    _deactivate_missing(session, Department, set(departments), changes, "department")
    _deactivate_missing(session, CategoryGroup, set(groups), changes, "group")
    _deactivate_missing(
        session, Category, {c["code"] for c in config.categories}, changes, "category"
    )
    # Layers of a retired asset type keep their assets (reports point at them).
    _deactivate_missing(session, AssetType, {t["code"] for t in config.asset_types}, changes,
                        "asset type")
    _sync_rules(session, config, departments, changes)
    state.config_file_hash = config.fingerprint
    if state.city_code != config.city["code"]:
        state.city_code = config.city["code"]
        changes.updated.append(f"city {config.city['code']}")
    if state.metric_crs != config.city["metric_crs"]:
        if state.metric_crs:  # stored cells were computed in the old CRS: recompute them
            session.execute(update(Report).values(x_m=None))
        state.metric_crs = config.city["metric_crs"]
        changes.updated.append("metric CRS")
    if state.service_levels != config.service_levels:
        state.service_levels = dict(config.service_levels)
        changes.updated.append("service levels")
    if changes.changed or not state.config_version:
        bump_config_version(session)
    session.commit()
    return changes


def forwarding_problems(session: Session) -> list[tuple[str, str, str]]:
    """Departments whose stored Open311 forwarding cannot work: (code, field, message).

    Selected as the forwarding service selects them (`open311 IS NOT NULL`), so a JSON null
    left from before migration 0007 shows up too.
    """
    problems: list[tuple[str, str, str]] = []
    for code, value in session.execute(select(Department.code, Department.open311).where(
            Department.open311.is_not(None)).order_by(Department.code)):
        if value is None:
            problems.append((code, "open311", "JSON null instead of SQL NULL; "
                             "run `maengelmelder db upgrade`"))
            continue
        for key, messages in open311_problems(value)[1].items():
            problems.extend((code, key, message) for message in messages)
    return problems
