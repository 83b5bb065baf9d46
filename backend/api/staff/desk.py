"""Reports on behalf of a caller: POST /api/v1/staff/reports (thin: the desk service
decides), and the public redemption of a slip's short code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates,
)

from backend.api.context import jobs, session, settings
from backend.api.docs import operation
from backend.api.rate_limits import limiter, login_limit
from backend.api.request_io import idempotency_key, json_body, load
from backend.api.schemas import ReportCreateSchema
from backend.api.staff.session import staff_user
from backend.notify.locales import app_languages
from backend.notify.texts import STATUS_LABELS
from backend.services.desk import on_behalf
from backend.services.reports import NewReport

bp = Blueprint("staff_desk", __name__)
public_bp = Blueprint("slip_codes", __name__, url_prefix="/api/v1")


class CallerReportSchema(ReportCreateSchema):
    """A report staff file for a caller: a citizen's fields plus the caller's contact."""

    name = fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=200),
                         metadata={"description": "The caller's name (optional, staff only)."})
    phone = fields.String(load_default=None, allow_none=True,
                          validate=validate.Regexp(r"^[0-9+()/ .-]{3,40}$"),
                          metadata={"description": "The caller's phone (optional, staff only)."})
    language = fields.String(load_default="de", validate=validate.Length(min=2, max=8),
                             metadata={"description": "The caller's language: their e-mails "
                                       "are written in it."})

    @pre_load
    def blank_contact_is_none(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("name", "phone"):
                if isinstance(data.get(key), str):
                    data[key] = data[key].strip() or None
        return data

    @validates("language")
    def _known_language(self, value: str, **_kwargs: object) -> None:
        if value not in (*STATUS_LABELS, *app_languages(settings().pwa_root)):
            raise ValidationError("not a language we write in")


class SlipCodeSchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Length(min=3, max=40))


CALLER_REPORT = CallerReportSchema()
SLIP_CODE = SlipCodeSchema()


@bp.post("/reports")
@operation("post", "File a report on behalf of a caller (phone, counter): routed like a "
           "citizen's, marked as filed by the service desk for staff only, audited "
           "`report_on_behalf`; a caller's e-mail gets the usual confirmation with the "
           "tracking link. Answers the tracking link and the slip's short code "
           "(dispatchers and admins)", tag="staff",
           ok={201: "Filed (also for a replayed Idempotency-Key)"},
           errors=(401, 403, 409, 422), headers=("Idempotency-Key", "X-CSRF-Token"))
def file_for_caller() -> tuple[Response, int]:
    """File a report for a caller."""
    user = staff_user()
    data = load(CALLER_REPORT, json_body())
    language = data.pop("language")
    cfg = settings()
    filed = on_behalf.file_for_caller(
        session(), user, NewReport(**data), secret_key=cfg.secret_key, locale=language,
        idempotency_key=idempotency_key(), jobs=jobs())
    response = jsonify({
        "id": filed.public_id,
        "tracking_url": f"{cfg.base_url}/track/{filed.tracking_token}",
        "slip_code": filed.slip_code,
        "code_url": f"{cfg.base_url}/track/code",
        "created": filed.created,
    })
    response.headers["Cache-Control"] = "private, no-store"
    if not filed.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response, 201


@public_bp.post("/track/code")
@limiter.limit(login_limit)
@operation("post", "Open a report filed for you at the service desk with the short code on "
           "your slip (`{\"code\": \"k7p3xr9q-4mzt8c2h\"}`): answers its tracking token and "
           "link; rate-limited like logins", tag="reports", errors=(404, 422, 429))
def redeem_slip_code() -> Response:
    """Redeem a slip's short code."""
    data = load(SLIP_CODE, json_body())
    cfg = settings()
    public_id, token = on_behalf.redeem_slip_code(session(), cfg.secret_key, data["code"])
    response = jsonify({"id": public_id, "tracking_token": token,
                        "tracking_url": f"{cfg.base_url}/track/{token}"})
    response.headers["Cache-Control"] = "no-store"
    return response
