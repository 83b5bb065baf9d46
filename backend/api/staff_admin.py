"""Dispatchers edit the city's categories, departments and routing rules; admins manage staff."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from marshmallow import RAISE, Schema, fields, validate

from backend.api.context import session
from backend.api.docs import operation
from backend.api.request_io import json_body, load, request_locale
from backend.api.staff_presenters import user_view
from backend.api.staff_session import staff_user
from backend.permissions import Role, require_user_admin
from backend.services import city_editing, staff_users
from backend.services.city_editing import RuleInput

bp = Blueprint("staff_admin", __name__, url_prefix="/api/v1/admin")

class RuleSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.Integer(load_default=None)  # sent back by the editor; ignored
    category = fields.String(load_default=None, allow_none=True)
    group = fields.String(load_default=None, allow_none=True)
    districts = fields.List(fields.String(), load_default=None, allow_none=True)
    department = fields.String(required=True)


class RulesSchema(Schema):
    class Meta:
        unknown = RAISE

    rules = fields.List(fields.Nested(RuleSchema), required=True,
                        validate=validate.Length(min=1, max=1000))


class UserCreateSchema(Schema):
    class Meta:
        unknown = RAISE

    username = fields.String(required=True)
    display_name = fields.String(load_default=None)
    password = fields.String(required=True, validate=validate.Length(max=1024))
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    departments = fields.List(fields.String(), load_default=list)


class UserChangeSchema(Schema):
    class Meta:
        unknown = RAISE

    display_name = fields.String()
    password = fields.String(validate=validate.Length(max=1024))
    role = fields.String(validate=validate.OneOf([r.value for r in Role]))
    departments = fields.List(fields.String())
    active = fields.Boolean()


RULES, USER_CREATE, USER_CHANGE = RulesSchema(), UserCreateSchema(), UserChangeSchema()


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
    body = json_body()
    city_editing.save_category(session(), user, str(body.pop("code", "")), body, create=True)
    return _overview(), 201


@bp.patch("/categories/<code>")
@operation("patch", "Change a category's names, group, priority or active flag",
           tag="admin", errors=(401, 403, 404, 422))
def change_category(code: str) -> Response:
    """Change a category."""
    user = staff_user()
    city_editing.save_category(session(), user, code, json_body(), create=False)
    return _overview()


@bp.post("/departments")
@operation("post", "Add a department",
           tag="admin", ok={201: "The configuration after the change"}, errors=(401, 403, 409, 422))
def create_department() -> tuple[Response, int]:
    """Add a department."""
    user = staff_user()
    body = json_body()
    city_editing.save_department(session(), user, str(body.pop("code", "")), body,
                                 create=True)
    return _overview(), 201


@bp.patch("/departments/<code>")
@operation("patch", "Change a department's names, e-mail, active flag or Open311 forwarding",
           tag="admin", errors=(401, 403, 404, 422))
def change_department(code: str) -> Response:
    """Change a department."""
    user = staff_user()
    city_editing.save_department(session(), user, code, json_body(), create=False)
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
