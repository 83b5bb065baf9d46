"""Render every error, ours or Werkzeug's, as `{"error": {"code", "message", "fields"}}`."""

from __future__ import annotations

import logging

import psycopg
from flask import Flask, Response, jsonify
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from backend.errors import DomainError, RateLimited
from backend.extensions import db

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
    413: "payload_too_large", 415: "unsupported_media_type", 429: "too_many_requests",
}


def error_response(status: int, code: str, message: str, fields: dict | None = None
                   ) -> tuple[Response, int]:
    """The one error envelope."""
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> tuple[Response, int]:
        response, status = error_response(exc.status, exc.code, exc.message, exc.fields)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response, status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        status = exc.code or 500
        response, _ = error_response(
            status, HTTP_CODES.get(status, "http_error"), exc.description or exc.name
        )
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response, status

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    # The hottest write goes to psycopg directly (backend.db.report_insert): its errors
    # arrive unwrapped.
    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg.InterfaceError)
    def database_unavailable(exc: Exception) -> tuple[Response, int]:
        # The database went away (restart, failover) or is locked: nothing was written (the
        # transaction is rolled back), and the client may simply try again.
        log.warning("database unavailable: %s", str(exc).splitlines()[0][:200])
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the connection may be gone; the pool replaces it
            db.session.remove()
        response, status = error_response(
            503, "database_unavailable",
            "The service is briefly unavailable. Please try again in a few seconds.")
        response.headers["Retry-After"] = "5"
        return response, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")
