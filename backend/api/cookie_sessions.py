"""Flask's cookie sessions, without their cost for the many requests that carry no cookie."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Like Flask's default, but a request without a session cookie skips the signer setup.

    Citizens' API calls never carry one; building the itsdangerous serializer for each of them
    was a measurable share of the report intake's CPU time.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return self.session_class() if app.secret_key else None
        return super().open_session(app, request)
