"""Domain exceptions; the API renders each as one JSON error envelope with its status code."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a caller can cause; carries a stable code and the fields at fault."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class MalformedRequest(DomainError):
    """The request body cannot be read at all (not JSON, not an object)."""

    status = 400
    code = "malformed_request"


class InvalidInput(DomainError):
    """One or more fields are missing or invalid; `fields` names each with its messages."""

    status = 422
    code = "validation_failed"


class OutsideServiceArea(InvalidInput):
    """The point lies outside every district of the city."""

    code = "outside_service_area"


class NotFound(DomainError):
    """The addressed resource does not exist (or is not visible to the caller)."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request contradicts the current state, e.g. an idempotency key reused differently."""

    status = 409
    code = "conflict"


class PayloadTooLarge(DomainError):
    """The body or a file is larger than allowed."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    """The body or a file is of a type we do not accept."""

    status = 415
    code = "unsupported_media_type"


class ConfigurationError(DomainError):
    """A city configuration or data file is invalid; `fields` points at the problems."""

    code = "invalid_configuration"


class ServiceNotReady(DomainError):
    """The city is not set up far enough to accept reports (no districts, no rules)."""

    status = 503
    code = "service_not_ready"


class NotAuthenticated(DomainError):
    """No valid staff session or API token."""

    status = 401
    code = "not_authenticated"


class InvalidCredentials(NotAuthenticated):
    """User name or password wrong (never says which)."""

    code = "invalid_credentials"


class CsrfFailed(DomainError):
    """A cookie-authenticated change without the session's CSRF token."""

    status = 403
    code = "csrf_failed"


class RateLimited(DomainError):
    """Too many attempts; `retry_after` seconds until the next one is allowed."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
