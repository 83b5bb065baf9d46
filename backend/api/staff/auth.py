"""Staff login, logout and "who am I"."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from backend.api.context import session, settings
from backend.api.docs import operation
from backend.api.rate_limits import limiter, login_limit
from backend.api.request_io import json_body, load, request_locale
from backend.api.staff.presenters import user_view
from backend.api.staff.session import (
    COOKIE,
    clear_session_cookie,
    current_session,
    login_limiter,
    session_lifetime,
    set_session_cookie,
    staff_user,
)
from backend.services.staff import auth as staff_auth

bp = Blueprint("staff_auth", __name__, url_prefix="/api/v1/auth")


class LoginSchema(Schema):
    class Meta:
        unknown = RAISE

    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


LOGIN_SCHEMA = LoginSchema()


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/login")
@limiter.limit(login_limit)
@operation("post", "Staff login: sets the session cookie, answers the CSRF token",
           tag="staff", errors=(401, 422, 429))
def login() -> Response:
    """Log in with user name and password."""
    data = load(LOGIN_SCHEMA, json_body())
    result = staff_auth.login(
        session(), login_limiter(), username=data["username"], password=data["password"],
        address=request.remote_addr or "unknown", max_failures=settings().login_max_failures,
        lifetime=session_lifetime(), replaces=request.cookies.get(COOKIE))
    response = jsonify({"user": user_view(result.session.user, request_locale()),
                        "csrf_token": result.session.csrf_token})
    set_session_cookie(response, result.cookie)
    return _no_store(response)


@bp.get("/me")
@operation("get", "The current staff member and the session's CSRF token; `user` and "
           "`csrf_token` are null when nobody is logged in (a login page asks this first, "
           "which is no error)", tag="staff", errors=(401,))
def me() -> Response:
    """The logged-in staff member, or nobody. A sent API token that is not valid is 401."""
    if not request.headers.get("Authorization") and current_session() is None:
        return _no_store(jsonify({"user": None, "csrf_token": None}))
    user = staff_user()
    row = current_session()
    return _no_store(jsonify({"user": user_view(user, request_locale()),
                              "csrf_token": row.csrf_token if row else None}))


@bp.post("/logout")
@operation("post", "Log out (the session ends on the server)",
           tag="staff", ok={204: "Logged out"}, errors=(401, 403), headers=("X-CSRF-Token",))
def logout() -> tuple[Response, int]:
    """End the session (server-side)."""
    staff_user()  # logged in, and the CSRF token matches
    staff_auth.logout(session(), request.cookies.get(COOKIE, ""))
    response = Response(status=204)
    clear_session_cookie(response)
    return _no_store(response), 204
