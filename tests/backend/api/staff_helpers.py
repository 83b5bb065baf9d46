"""Staff accounts, logins and tokens for the staff API tests."""

from __future__ import annotations

from typing import Any

from flask import Flask

from backend.extensions import db
from backend.models import AuditEntry
from backend.services.staff.auth import create_api_token
from backend.services.staff.users import create_user

PASSWORD = "correct horse battery staple"
QUEUE_URL = "/api/v1/staff/queue"


def report_url(public_id: str, action: str = "") -> str:
    """The staff URL of a report (or of one of its actions)."""
    return f"/api/v1/staff/reports/{public_id}" + (f"/{action}" if action else "")


def make_user(app: Flask, username: str, role: str, departments: tuple[str, ...] = (),
              password: str | None = PASSWORD) -> None:
    """Create a staff account in the app's database."""
    with app.app_context():
        create_user(db.session, username=username, password=password, role=role,
                    departments=list(departments), display_name=username.title())


def token_for(app: Flask, username: str) -> dict[str, str]:
    """Headers authenticating as `username` with a fresh API token."""
    with app.app_context():
        token = create_api_token(db.session, username, "tests")
    return {"Authorization": f"Bearer {token}"}


def login(client: Any, username: str, password: str = PASSWORD) -> str:
    """Log in through the API; returns the CSRF token."""
    response = client.post("/api/v1/auth/login", json={"username": username,
                                                       "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["csrf_token"]


def audit_actions(app: Flask) -> list[tuple[str, str]]:
    """(actor, action) of every audit entry, oldest first."""
    with app.app_context():
        return [(e.actor, e.action) for e in db.session.query(AuditEntry).order_by(
            AuditEntry.id)]
