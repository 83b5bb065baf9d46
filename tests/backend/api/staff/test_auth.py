"""Staff login: cookies, CSRF, session fixation, logout, rate limit, API tokens."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.backend.api.helpers import assert_error, create
from tests.backend.api.staff_helpers import (
    PASSWORD,
    QUEUE_URL,
    audit_actions,
    login,
    make_user,
    report_url,
    token_for,
)

LOGIN_URL = "/api/v1/auth/login"
MITTE = ("bezirksinspektion-mitte",)


def _cookie(client: Any) -> str | None:
    cookie = client.get_cookie("mm_staff")
    return cookie.value if cookie else None


def test_login_sets_a_safe_cookie_and_answers_who_and_the_csrf_token(app: Flask,
                                                                      client: Any) -> None:
    make_user(app, "anna", "crew", MITTE)
    response = client.post(LOGIN_URL, json={"username": "Anna", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == "anna"
    assert body["user"]["role"] == "crew"
    assert [d["code"] for d in body["user"]["departments"]] == list(MITTE)
    assert len(body["csrf_token"]) >= 32
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # plain-http local development
    assert response.headers["Cache-Control"] == "no-store"
    me = client.get("/api/v1/auth/me").get_json()
    assert me["user"]["username"] == "anna" and me["csrf_token"] == body["csrf_token"]


def test_asking_who_is_logged_in_without_a_session_is_no_error(app: Flask, client: Any
                                                               ) -> None:
    # A login page asks first; a signed-out visitor is an answer, not a 401 in the log.
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.get_json() == {"user": None, "csrf_token": None}
    assert response.headers["Cache-Control"] == "no-store"
    # an API token that is not valid is still refused
    assert_error(client.get("/api/v1/auth/me", headers={"Authorization": "Bearer nope"}),
                 401, "not_authenticated")


def test_the_cookie_is_secure_outside_local_development(app_with: Any) -> None:
    app, _ = app_with(base_url="https://maengel.example.org")
    make_user(app, "anna", "crew", MITTE)
    response = app.test_client().post(LOGIN_URL, json={"username": "anna",
                                                        "password": PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_credentials_are_401_naming_both_fields(app: Flask, client: Any) -> None:
    make_user(app, "anna", "crew", MITTE)
    for body in ({"username": "anna", "password": "wrong password!"},
                 {"username": "nobody", "password": PASSWORD}):
        assert_error(client.post(LOGIN_URL, json=body), 401, "invalid_credentials",
                     {"username", "password"})
    assert _cookie(client) is None
    assert_error(client.post(LOGIN_URL, json={"username": "anna"}), 422, "validation_failed",
                 {"password"})


def test_an_inactive_account_cannot_log_in(app: Flask, client: Any) -> None:
    from backend.extensions import db
    from backend.services.staff.users import update_user

    make_user(app, "anna", "crew", MITTE)
    with app.app_context():
        update_user(db.session, "anna", active=False)
    assert client.post(LOGIN_URL, json={"username": "anna", "password": PASSWORD}
                       ).status_code == 401


def test_too_many_failures_are_429_with_retry_after_even_for_the_right_password(
    app_with: Any,
) -> None:
    app, _ = app_with(login_max_failures=3, login_window_s=600)
    client = app.test_client()
    make_user(app, "anna", "crew", MITTE)
    for _ in range(3):
        assert client.post(LOGIN_URL, json={"username": "anna", "password": "nope nope nope"}
                           ).status_code == 401
    response = client.post(LOGIN_URL, json={"username": "anna", "password": PASSWORD})
    assert_error(response, 429, "rate_limited")
    assert 0 < int(response.headers["Retry-After"]) <= 600
    # Another account from another address is not affected.
    make_user(app, "bert", "crew", MITTE)
    other = app.test_client()
    response = other.post(LOGIN_URL, json={"username": "bert", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert response.status_code == 200


def test_a_success_clears_the_users_failures(app_with: Any) -> None:
    app, _ = app_with(login_max_failures=2)
    client = app.test_client()
    make_user(app, "anna", "crew", MITTE)
    bad = {"username": "anna", "password": "nope nope nope"}
    assert client.post(LOGIN_URL, json=bad).status_code == 401
    login(client, "anna")
    assert client.post(LOGIN_URL, json=bad).status_code == 401
    login(client, "anna")


def test_login_issues_a_new_session_id_and_revokes_the_one_sent_along(app: Flask,
                                                                      client: Any) -> None:
    make_user(app, "anna", "crew", MITTE)
    login(client, "anna")
    first = _cookie(client)
    login(client, "anna")
    second = _cookie(client)
    assert first and second and first != second
    # Session fixation: a cookie planted before the login is worthless afterwards.
    attacker = app.test_client()
    attacker.set_cookie("mm_staff", first)
    assert attacker.get(QUEUE_URL).status_code == 401
    assert client.get(QUEUE_URL).status_code == 200


def test_a_made_up_session_cookie_is_not_adopted(app: Flask, client: Any) -> None:
    make_user(app, "anna", "crew", MITTE)
    client.set_cookie("mm_staff", "chosen-by-the-attacker")
    login(client, "anna")
    assert _cookie(client) != "chosen-by-the-attacker"
    attacker = app.test_client()
    attacker.set_cookie("mm_staff", "chosen-by-the-attacker")
    assert attacker.get(QUEUE_URL).status_code == 401


def test_logout_ends_the_session_on_the_server(app: Flask, client: Any) -> None:
    make_user(app, "anna", "crew", MITTE)
    csrf = login(client, "anna")
    kept = _cookie(client)
    response = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert _cookie(client) is None
    replay = app.test_client()
    replay.set_cookie("mm_staff", kept)
    assert_error(replay.get(QUEUE_URL), 401, "not_authenticated")
    assert audit_actions(app) == [("anna", "login"), ("anna", "logout")]


def test_changes_without_the_csrf_token_are_refused_and_change_nothing(app: Flask,
                                                                       client: Any) -> None:
    make_user(app, "anna", "crew", MITTE)
    report = create(client)
    csrf = login(client, "anna")
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        response = client.post(report_url(report["id"], "status"),
                               json={"status": "acknowledged"}, headers=headers)
        assert_error(response, 403, "csrf_failed", {"X-CSRF-Token"})
    assert client.get(f"/api/v1/reports/{report['id']}").get_json()["status"] == "submitted"
    assert client.post("/api/v1/auth/logout").status_code == 403  # logout needs it too
    response = client.post(report_url(report["id"], "status"), json={"status": "acknowledged"},
                           headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200
    assert response.get_json()["status"] == "acknowledged"


def test_api_tokens_need_no_csrf_token_and_can_be_wrong(app: Flask, client: Any) -> None:
    make_user(app, "anna", "crew", MITTE, password=None)
    report = create(client)
    headers = token_for(app, "anna")
    response = client.post(report_url(report["id"], "claim"), headers=headers)
    assert response.status_code == 200
    assert response.get_json()["assigned_to"]["username"] == "anna"
    assert client.post(LOGIN_URL, json={"username": "anna", "password": "x" * 12}
                       ).status_code == 401  # no password: token-only account


def test_a_password_change_ends_the_persons_sessions(app: Flask, client: Any) -> None:
    from backend.extensions import db
    from backend.services.staff.users import update_user

    make_user(app, "anna", "crew", MITTE)
    login(client, "anna")
    with app.app_context():
        update_user(db.session, "anna", password="a brand new password")
    assert client.get(QUEUE_URL).status_code == 401
