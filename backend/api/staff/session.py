"""Who is calling: the staff session cookie (with its CSRF token) or a bearer API token."""

from __future__ import annotations

import hmac
from datetime import timedelta

from flask import Response, g, request

from backend.api.context import jobs, session, settings
from backend.errors import CsrfFailed, NotAuthenticated
from backend.models import StaffSession, StaffUser
from backend.rate_limit import FailureLimiter
from backend.services.staff import auth as staff_auth

COOKIE = "mm_staff"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_lifetime() -> timedelta:
    """How long a login lasts without activity."""
    return timedelta(hours=settings().staff_session_hours)


def login_limiter() -> FailureLimiter:
    """Failed logins counted in Redis, shared by every web process."""
    return FailureLimiter(jobs().connection, "login", settings().login_window_s)


def current_session() -> StaffSession | None:
    """The live staff session behind the request's cookie, if any."""
    if "mm_staff_session" not in g:
        g.mm_staff_session = staff_auth.session_for_cookie(
            session(), request.cookies.get(COOKIE), session_lifetime())
    return g.mm_staff_session


def staff_user() -> StaffUser:
    """The authenticated staff member, or 401; a cookie-authenticated change needs the
    session's CSRF token in the `X-CSRF-Token` header, or 403."""
    if "mm_staff_user" in g:
        return g.mm_staff_user
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = staff_auth.user_for_api_token(session(), header[7:].strip())
        if user is None:
            raise NotAuthenticated("The API token is not valid.",
                                   {"Authorization": ["unknown or revoked token"]})
    else:
        row = current_session()
        if row is None:
            raise NotAuthenticated("Please log in.", {"session": ["not logged in"]})
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), row.csrf_token.encode()):
                raise CsrfFailed("The request lacks the session's CSRF token.",
                                 {CSRF_HEADER: ["missing or wrong"]})
        user = row.user
    g.mm_staff_user = user
    return user


def set_session_cookie(response: Response, value: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure outside plain-http development."""
    response.set_cookie(COOKIE, value, max_age=int(session_lifetime().total_seconds()),
                        httponly=True, samesite="Lax", secure=settings().secure_cookies,
                        path="/")


def clear_session_cookie(response: Response) -> None:
    """Remove the session cookie from the browser."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=settings().secure_cookies)
