"""Dispatchers edit the city's categories, departments and routing rules; admins manage staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from backend.api.context import session
from backend.api.docs import operation
from backend.api.request_io import json_body, load, request_locale
from backend.api.schemas import StrictBoolean
from backend.api.staff.presenters import user_view
from backend.api.staff.session import staff_user
from backend.api.staff.templates import admin_bp as templates_bp
from backend.city.config import CODE
from backend.models import Category, CategoryGroup, Department, District, StaffUser
from backend.models.base import Base
from backend.permissions import Role, require_user_admin
from backend.services import city_editing
from backend.services.city_editing import PRIORITIES, RuleInput, column_length
from backend.services.staff import users as staff_users

bp = Blueprint("staff_admin", __name__, url_prefix="/api/v1/admin")
bp.register_blueprint(templates_bp)  # /templates (response templates, issue 20.1)

# More codes in one list than any city has; bounds the SQL IN lists and error messages.
MAX_CODES = 1000


def _fits(model: type[Base], name: str) -> validate.Length:
    """No longer than the model's column (PostgreSQL refuses longer text with an error)."""
    return validate.Length(max=column_length(model, name))


def _filled(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be blank")


def _name(model: type[Base], name: str, *, required: bool) -> fields.String:
    """A German or English name: text that is not blank and fits its column."""
    return fields.String(required=required, validate=[_fits(model, name), _filled])


def _codes(model: type[Base], **kwargs: Any) -> fields.List:
    """A list of codes of `model` (each fitting its column)."""
    return fields.List(fields.String(validate=_fits(model, "code")),
                       validate=validate.Length(max=MAX_CODES), **kwargs)


class InputSchema(Schema):
    """A request body: typed fields, unknown ones refused."""

    class Meta:
        unknown = RAISE


class ChangeSchema(InputSchema):
    """A PATCH body: every field optional, but at least one (an empty change would still
    be audited and make every process reload the configuration)."""

    @validates_schema
    def changes_something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("name at least one field to change", field_name="body")


def _category_fields(*, create: bool) -> dict[str, fields.Field]:
    """What a category body holds; creating one needs group, names and priority."""
    return {
        "group": fields.String(required=create, validate=_fits(CategoryGroup, "code")),
        "name_de": _name(Category, "name_de", required=create),
        "name_en": _name(Category, "name_en", required=create),
        "description_de": fields.String(allow_none=True),
        "description_en": fields.String(allow_none=True),
        "priority": fields.String(required=create, validate=validate.OneOf(PRIORITIES)),
        "active": StrictBoolean(),
    }


def _department_fields(*, create: bool) -> dict[str, fields.Field]:
    """What a department body holds; creating one needs the names."""
    return {
        "name_de": _name(Department, "name_de", required=create),
        "name_en": _name(Department, "name_en", required=create),
        "email": fields.Email(allow_none=True, validate=_fits(Department, "email")),
        "active": StrictBoolean(),
        "open311": fields.Raw(allow_none=True),  # checked field by field in the service
    }


def _new(fields_: dict[str, fields.Field]) -> dict[str, fields.Field]:
    return {"code": fields.String(required=True, validate=CODE), **fields_}


CategoryCreateSchema = InputSchema.from_dict(_new(_category_fields(create=True)),
                                             name="CategoryCreateSchema")
CategoryChangeSchema = ChangeSchema.from_dict(_category_fields(create=False),
                                              name="CategoryChangeSchema")
DepartmentCreateSchema = InputSchema.from_dict(_new(_department_fields(create=True)),
                                               name="DepartmentCreateSchema")
DepartmentChangeSchema = ChangeSchema.from_dict(_department_fields(create=False),
                                                name="DepartmentChangeSchema")


class RuleSchema(InputSchema):
    id = fields.Integer(load_default=None)  # sent back by the editor; ignored
    category = fields.String(load_default=None, allow_none=True,
                             validate=_fits(Category, "code"))
    group = fields.String(load_default=None, allow_none=True,
                          validate=_fits(CategoryGroup, "code"))
    districts = fields.List(fields.String(validate=_fits(District, "number")),
                            load_default=None, allow_none=True,
                            validate=validate.Length(max=MAX_CODES))
    department = fields.String(required=True, validate=_fits(Department, "code"))


class RulesSchema(InputSchema):
    rules = fields.List(fields.Nested(RuleSchema), required=True,
                        validate=validate.Length(min=1, max=1000))


class UserCreateSchema(InputSchema):
    username = fields.String(required=True, validate=_fits(StaffUser, "username"))
    display_name = fields.String(load_default=None, validate=_fits(StaffUser, "display_name"))
    password = fields.String(required=True, validate=validate.Length(max=1024))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    departments = _codes(Department, load_default=list)


class UserChangeSchema(ChangeSchema):
    display_name = fields.String(validate=_fits(StaffUser, "display_name"))
    password = fields.String(validate=validate.Length(max=1024))
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    departments = _codes(Department)
    active = StrictBoolean()


RULES, USER_CREATE, USER_CHANGE = RulesSchema(), UserCreateSchema(), UserChangeSchema()
CATEGORY_CREATE, CATEGORY_CHANGE = CategoryCreateSchema(), CategoryChangeSchema()
DEPARTMENT_CREATE, DEPARTMENT_CHANGE = DepartmentCreateSchema(), DepartmentChangeSchema()


def _overview() -> Response:
    response = jsonify(city_editing.city_overview(session(), staff_user()))
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/city")
@operation("get", "The city configuration as stored (dispatchers and admins)",
           tag="admin", errors=(401, 403))
def city() -> Response:
    """Departments, groups, categories, rules and districts for the editor."""
    return _overview()


@bp.put("/routing-rules")
@operation("put", "Replace every routing rule (a fallback rule must remain)",
           tag="admin", errors=(401, 403, 422))
def routing_rules() -> Response:
    """Replace all routing rules."""
    user = staff_user()
    data = load(RULES, json_body())
    rules = [RuleInput(department=r["department"], category=r["category"] or None,
                       group=r["group"] or None,
                       districts=tuple(r["districts"]) if r["districts"] else None)
             for r in data["rules"]]
    city_editing.replace_rules(session(), user, rules)
    return _overview()


@bp.post("/categories")
@operation("post", "Add a category",
           tag="admin", ok={201: "The configuration after the change"}, errors=(401, 403, 409, 422))
def create_category() -> tuple[Response, int]:
    """Add a category."""
    user = staff_user()
    data = load(CATEGORY_CREATE, json_body())
    city_editing.save_category(session(), user, data.pop("code"), data, create=True)
    return _overview(), 201


@bp.patch("/categories/<code>")
@operation("patch", "Change a category's names, group, priority or active flag",
           tag="admin", errors=(401, 403, 404, 422))
def change_category(code: str) -> Response:
    """Change a category."""
    user = staff_user()
    city_editing.save_category(session(), user, code, load(CATEGORY_CHANGE, json_body()),
                               create=False)
    return _overview()


@bp.post("/departments")
@operation("post", "Add a department",
           tag="admin", ok={201: "The configuration after the change"}, errors=(401, 403, 409, 422))
def create_department() -> tuple[Response, int]:
    """Add a department."""
    user = staff_user()
    data = load(DEPARTMENT_CREATE, json_body())
    city_editing.save_department(session(), user, data.pop("code"), data, create=True)
    return _overview(), 201


@bp.patch("/departments/<code>")
@operation("patch", "Change a department's names, e-mail, active flag or Open311 forwarding",
           tag="admin", errors=(401, 403, 404, 422))
def change_department(code: str) -> Response:
    """Change a department."""
    user = staff_user()
    city_editing.save_department(session(), user, code, load(DEPARTMENT_CHANGE, json_body()),
                                 create=False)
    return _overview()


@bp.get("/users")
@operation("get", "Every staff account (admins)", tag="admin", errors=(401, 403))
def users() -> Response:
    """Staff accounts."""
    require_user_admin(staff_user())
    locale = request_locale()
    response = jsonify({"users": [user_view(u, locale)
                                  for u in staff_users.list_users(session())]})
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/users")
@operation("post", "Create a staff account (admins)",
           tag="admin", ok={201: "The account"}, errors=(401, 403, 409, 422))
def create_user() -> tuple[Response, int]:
    """Create a staff account."""
    admin = staff_user()
    require_user_admin(admin)
    data = load(USER_CREATE, json_body())
    user = staff_users.create_user(session(), **data)
    city_editing.audit(session(), admin, "create_user", {"username": user.username,
                                                         "role": user.role})
    return jsonify(user_view(user, request_locale())), 201


@bp.patch("/users/<username>")
@operation("patch", "Change a staff account; a new password, role or deactivation ends sessions",
           tag="admin", errors=(401, 403, 404, 422))
def change_user(username: str) -> Response:
    """Change a staff account."""
    admin = staff_user()
    require_user_admin(admin)
    data = load(USER_CHANGE, json_body())
    user = staff_users.update_user(session(), username, **data)
    city_editing.audit(session(), admin, "change_user",
                       {"username": user.username, "fields": sorted(data)})
    return jsonify(user_view(user, request_locale()))
