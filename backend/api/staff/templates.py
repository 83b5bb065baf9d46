"""Response templates: admins manage them (/api/v1/admin/templates), staff get the ones that
fit a report filled in (/api/v1/staff/reports/<id>/templates). Thin: the service decides."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from backend.api.context import session
from backend.api.docs import operation
from backend.api.request_io import json_body, load, request_locale
from backend.api.schemas import StrictBoolean
from backend.api.staff.session import staff_user
from backend.services import templates
from backend.services.templates.placeholders import PLACEHOLDERS
from backend.services.templates.store import MAX_NAME, languages

admin_bp = Blueprint("staff_template_admin", __name__)  # under /api/v1/admin
staff_bp = Blueprint("staff_templates", __name__)  # under /api/v1/staff

PLACEHOLDER_LIST = ", ".join("{" + p + "}" for p in PLACEHOLDERS)


class TemplateChangeSchema(Schema):
    """A template as an admin sends it; texts are checked language by language."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=MAX_NAME))
    category = fields.String(allow_none=True, validate=validate.Length(max=64))
    group = fields.String(allow_none=True, validate=validate.Length(max=64))
    status = fields.String(allow_none=True, validate=validate.Length(max=16))
    texts = fields.Dict(keys=fields.String(validate=validate.Length(max=16)),
                        values=fields.String(allow_none=True),
                        metadata={"description": "Text per language (de and en required); "
                                  f"placeholders: {PLACEHOLDER_LIST}"})
    active = StrictBoolean()


class TemplateCreateSchema(TemplateChangeSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    texts = fields.Dict(keys=fields.String(validate=validate.Length(max=16)),
                        values=fields.String(allow_none=True), required=True)


class ReportTemplatesQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(load_default=None, validate=validate.Length(max=16), metadata={
        "description": "The status the report is to move to; templates for any status too"})


CREATE, CHANGE, QUERY = TemplateCreateSchema(), TemplateChangeSchema(), ReportTemplatesQuery()


def _listing() -> Response:
    response = jsonify({
        "templates": [templates.template_view(t)
                      for t in templates.list_templates(session(), staff_user())],
        "placeholders": list(PLACEHOLDERS), "languages": list(languages())})
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@admin_bp.get("/templates")
@operation("get", "Every response template, the placeholders and languages (admins)",
           tag="admin", errors=(401, 403))
def list_templates() -> Response:
    """Response templates for the admin screen."""
    return _listing()


@admin_bp.post("/templates")
@operation("post", "Add a response template (admins; audited)", tag="admin",
           ok={201: "The template"}, errors=(401, 403, 409, 422))
def create_template() -> tuple[Response, int]:
    """Add a template."""
    user = staff_user()
    template = templates.save_template(session(), user, None, load(CREATE, json_body()))
    return jsonify(templates.template_view(template)), 201


@admin_bp.patch("/templates/<int:template_id>")
@operation("patch", "Change or deactivate a response template (admins; audited)", tag="admin",
           errors=(401, 403, 404, 409, 422))
def change_template(template_id: int) -> Response:
    """Change a template."""
    user = staff_user()
    template = templates.save_template(session(), user, template_id,
                                       load(CHANGE, json_body()))
    return jsonify(templates.template_view(template))


@staff_bp.get("/reports/<public_id>/templates")
@operation("get", "The active templates for this report and target status, filled in for the "
           "reporter (their language) and for the caller; send the text as public_note",
           tag="staff", errors=(401, 403, 404, 422), query="ReportTemplatesQuery")
def report_templates(public_id: str) -> Response:
    """Templates filled in for one report."""
    user = staff_user()
    query = load(QUERY, request.args)
    response = jsonify(templates.report_templates(
        session(), user, public_id, status=query["status"], staff_locale=request_locale()))
    response.headers["Cache-Control"] = "private, no-store"
    return response
