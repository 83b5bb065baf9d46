"""Read and validate a city configuration YAML file into plain dataclasses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from backend.errors import ConfigurationError
from backend.workflow import Priority

CODE = validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,63}$", error="must be lowercase letters, digits, -")


class TextSchema(Schema):
    de = fields.String(required=True, validate=validate.Length(min=1))
    en = fields.String(required=True, validate=validate.Length(min=1))


class OptionalTextSchema(Schema):
    de = fields.String(load_default="")
    en = fields.String(load_default="")


class Open311ForwardSchema(Schema):
    """Where a department's own Open311 system is; the key comes from an environment variable
    (never from this file)."""

    class Meta:
        unknown = RAISE

    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     error_messages={"invalid": "not an http(s) URL"})
    api_key_env = fields.String(required=True, validate=validate.Regexp(r"^MM_[A-Z0-9_]+$"))
    jurisdiction_id = fields.String(load_default=None)
    service_codes = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    send_contact = fields.Boolean(load_default=False)


def _flatten(messages: Any, prefix: str) -> dict[str, list[str]]:
    """Marshmallow's nested messages as `a.b.c: [messages]`."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            flat.update(_flatten(value, prefix if key == "_schema" else f"{prefix}.{key}"))
        return flat
    return {prefix: list(messages) if isinstance(messages, list) else [str(messages)]}


def open311_problems(value: Any) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """Check one department's forwarding configuration (None: it does not forward).

    Returns the loaded configuration and the problems keyed by field (`open311.url`): without
    a url every forwarding would fail (issue 15), so it is refused where it is written.
    """
    if value is None:
        return None, {}
    if not isinstance(value, dict):
        return None, {"open311": ["must be a mapping (or null for no forwarding)"]}
    try:
        return Open311ForwardSchema().load(value), {}
    except ValidationError as exc:
        return None, _flatten(exc.messages, "open311")


class DepartmentSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.Nested(TextSchema, required=True)
    email = fields.Email(load_default=None)
    open311 = fields.Nested(Open311ForwardSchema, load_default=None)


class GroupSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.Nested(TextSchema, required=True)
    description = fields.Nested(OptionalTextSchema, load_default=dict)
    icon = fields.String(load_default=None)


ATTRIBUTE_TYPES = ["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


class AttributeValueSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    name = fields.Nested(TextSchema, required=True)


class AttributeSchema(Schema):
    """An extra question of a category (an Open311 service attribute)."""

    code = fields.String(required=True, validate=[
        validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="lowercase letters, digits, _"),
        # Open311's `attribute[asset_id]` is ours: the asset register's extension.
        validate.NoneOf(["asset_id"], error="asset_id is reserved for the asset register")])
    datatype = fields.String(required=True, validate=validate.OneOf(ATTRIBUTE_TYPES))
    required = fields.Boolean(load_default=False)
    description = fields.Nested(TextSchema, required=True)
    values = fields.List(fields.Nested(AttributeValueSchema), load_default=list)

    @validates_schema
    def lists_have_values(self, data: dict[str, Any], **_: Any) -> None:
        if data["datatype"].endswith("valuelist") and not data["values"]:
            raise ValidationError({"values": ["a list attribute needs values"]})


class CategorySchema(Schema):
    code = fields.String(required=True, validate=CODE)
    group = fields.String(required=True)
    priority = fields.String(required=True, validate=validate.OneOf([p.value for p in Priority]))
    name = fields.Nested(TextSchema, required=True)
    description = fields.Nested(OptionalTextSchema, load_default=dict)
    icon = fields.String(load_default=None)
    active = fields.Boolean(load_default=True)
    keywords = fields.String(load_default=None)
    attributes = fields.List(fields.Nested(AttributeSchema), load_default=list)
    # false: photos of this category's reports are for staff only, never published.
    photos_public = fields.Boolean(load_default=True)


class RuleSchema(Schema):
    category = fields.String(load_default=None)
    group = fields.String(load_default=None)
    districts = fields.List(fields.String(), load_default=None, validate=validate.Length(min=1))
    department = fields.String(required=True)

    @validates_schema
    def one_selector(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("category") and data.get("group"):
            raise ValidationError("give either category or group, not both")


class DistrictsSchema(Schema):
    source = fields.String(required=True)
    number_field = fields.String(load_default="number")
    name_field = fields.String(load_default="name")
    attribution = fields.String(load_default="")
    attribution_short = fields.String(load_default="",
                                      metadata={"description": "Compact form for map corners"})


ASSET_TYPE_CODE = validate.Regexp(r"^[a-z][a-z0-9_-]{0,63}$",
                                  error="must be lowercase letters, digits, _ or -")


class AssetTypeSchema(Schema):
    """A kind of asset (traffic signal, sign post) and the category groups it serves."""

    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=ASSET_TYPE_CODE)
    name = fields.Nested(TextSchema, required=True)
    groups = fields.List(fields.String(), required=True, validate=validate.Length(min=1))


class DemoAssetsSchema(Schema):
    """The asset layer a demo city loads at `init` (file inside MM_SHARED_DATA, or
    MM_DEMO_ASSETS_SOURCE)."""

    class Meta:
        unknown = RAISE

    layer = fields.String(required=True, validate=CODE)
    type = fields.String(required=True)
    file = fields.String(required=True)
    id_field = fields.String(load_default=None)
    name_field = fields.String(load_default=None)
    number_field = fields.String(load_default=None)
    licence = fields.String(load_default="")
    attribution = fields.String(load_default="")


class CitySchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True)
    demo = fields.Boolean(load_default=False)
    default_locale = fields.String(load_default="de")
    locales = fields.List(fields.String(), load_default=lambda: ["de", "en"])
    metric_crs = fields.String(required=True)
    map = fields.Dict(load_default=dict)


HOURS = fields.Float(required=True, validate=validate.Range(min=0.25, max=24 * 365))


class ServiceLevelsSchema(Schema):
    """Hours from creation (or reopening) within which a report of each priority is fixed."""

    class Meta:
        unknown = RAISE

    urgent = HOURS
    high = HOURS
    normal = HOURS
    low = HOURS


DEFAULT_SERVICE_LEVELS = {"urgent": 4.0, "high": 24.0, "normal": 72.0, "low": 168.0}


class TemplateSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    category = fields.String(load_default=None, validate=CODE)
    group = fields.String(load_default=None, validate=CODE)
    status = fields.String(load_default=None)
    texts = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class CityConfigSchema(Schema):
    version = fields.Integer(required=True, validate=validate.Equal(1))
    service_levels = fields.Nested(ServiceLevelsSchema,
                                   load_default=lambda: dict(DEFAULT_SERVICE_LEVELS))
    city = fields.Nested(CitySchema, required=True)
    districts = fields.Nested(DistrictsSchema, required=True)
    departments = fields.List(fields.Nested(DepartmentSchema), required=True)
    groups = fields.List(fields.Nested(GroupSchema), required=True)
    categories = fields.List(fields.Nested(CategorySchema), required=True)
    routing = fields.List(fields.Nested(RuleSchema), required=True)
    asset_types = fields.List(fields.Nested(AssetTypeSchema), load_default=list)
    demo_assets = fields.Nested(DemoAssetsSchema, load_default=None)
    # Response templates added once, when the city has none (admins keep them afterwards).
    response_templates = fields.List(fields.Nested(TemplateSchema), load_default=list)


@dataclass(frozen=True)
class RuleConfig:
    """One routing rule as written in the file."""

    department: str
    category: str | None = None
    group: str | None = None
    districts: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CityConfig:
    """A validated city configuration."""

    city: dict[str, Any]
    districts: dict[str, Any]
    departments: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    routing: list[RuleConfig] = field(default_factory=list)
    service_levels: dict[str, float] = field(default_factory=dict)
    asset_types: list[dict[str, Any]] = field(default_factory=list)
    demo_assets: dict[str, Any] | None = None
    response_templates: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: str = field(default="", compare=False)  # SHA-256 of the file text


def _check_references(data: dict[str, Any]) -> dict[str, Any]:
    problems: dict[str, Any] = {}
    departments = {d["code"] for d in data["departments"]}
    groups = {g["code"] for g in data["groups"]}
    categories = {c["code"] for c in data["categories"]}
    for kind, items in (("departments", data["departments"]), ("groups", data["groups"]),
                        ("categories", data["categories"]),
                        ("asset_types", data["asset_types"])):
        codes = [item["code"] for item in items]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            problems[kind] = [f"duplicate code(s): {', '.join(duplicates)}"]
    for i, cat in enumerate(data["categories"]):
        if cat["group"] not in groups:
            problems[f"categories.{i}.group"] = [f"unknown group '{cat['group']}'"]
    for i, rule in enumerate(data["routing"]):
        if rule["department"] not in departments:
            problems[f"routing.{i}.department"] = [f"unknown department '{rule['department']}'"]
        if rule.get("category") and rule["category"] not in categories:
            problems[f"routing.{i}.category"] = [f"unknown category '{rule['category']}'"]
        if rule.get("group") and rule["group"] not in groups:
            problems[f"routing.{i}.group"] = [f"unknown group '{rule['group']}'"]
    for i, asset_type in enumerate(data["asset_types"]):
        unknown = [g for g in asset_type["groups"] if g not in groups]
        if unknown:
            problems[f"asset_types.{i}.groups"] = [f"unknown group(s): {', '.join(unknown)}"]
    demo = data.get("demo_assets")
    if demo and demo["type"] not in {t["code"] for t in data["asset_types"]}:
        problems["demo_assets.type"] = [f"unknown asset type '{demo['type']}'"]
    if not any(not r.get("category") and not r.get("group") and not r.get("districts")
               for r in data["routing"]):
        problems["routing"] = ["needs a fallback rule (no category, no group, no districts)"]
    return problems


def _name_departments(messages: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Forwarding problems keyed by department code (`departments[verkehrstechnik].open311.url`)
    rather than by position, so the message says which department to fix."""
    by_index = messages.get("departments")
    items = raw.get("departments")
    if not isinstance(by_index, dict) or not isinstance(items, list):
        return messages
    named: dict[str, Any] = {}
    for index, problems in list(by_index.items()):
        if not isinstance(index, int) or not isinstance(problems, dict) \
                or "open311" not in problems:
            continue
        item = items[index] if index < len(items) else None
        code = item.get("code") if isinstance(item, dict) else None
        label = code if isinstance(code, str) and code else str(index)
        named.update(_flatten(problems.pop("open311"), f"departments[{label}].open311"))
        if not problems:
            del by_index[index]
    if not by_index:
        del messages["departments"]
    return {**messages, **named}


def parse_city_config(text: str) -> CityConfig:
    """Validate YAML text; raises ConfigurationError naming every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError("a city configuration must be a YAML mapping")
    try:
        data = CityConfigSchema(unknown=RAISE).load(raw)
    except ValidationError as exc:
        raise ConfigurationError("invalid city configuration",
                                 _name_departments(exc.messages, raw)) from exc
    problems = _check_references(data)
    if problems:
        raise ConfigurationError("invalid city configuration", problems)
    rules = [
        RuleConfig(
            department=r["department"],
            category=r.get("category"),
            group=r.get("group"),
            districts=tuple(sorted(r["districts"])) if r.get("districts") else None,
        )
        for r in data["routing"]
    ]
    return CityConfig(
        city=data["city"],
        districts=data["districts"],
        departments=data["departments"],
        groups=data["groups"],
        categories=data["categories"],
        routing=rules,
        service_levels=dict(data["service_levels"]),
        asset_types=data["asset_types"],
        demo_assets=data["demo_assets"],
        response_templates=data["response_templates"],
        fingerprint=hashlib.sha256(text.encode()).hexdigest(),
    )


def problem_lines(error: ConfigurationError) -> list[str]:
    """One line per problem of a refused configuration; a department's forwarding problems
    read `department <code>: open311.url: <message>`."""
    if not error.fields:
        return [error.message]
    lines = []
    for key, messages in _flatten(error.fields, "").items():
        key = key.removeprefix(".")
        if key.startswith("departments[") and "]." in key:
            code, field = key.removeprefix("departments[").split("].", 1)
            key = f"department {code}: {field}"
        lines.extend(f"{key}: {message}" for message in messages)
    return lines


def load_city_config(path: str | Path) -> CityConfig:
    """Read and validate a city configuration file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read city configuration {path}: {exc}") from exc
    return parse_city_config(text)
