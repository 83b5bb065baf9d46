"""The reporter's side, reached with the secret tracking token: view, push, "is it fixed?"."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from backend.api.context import jobs, primary_reader, session, settings
from backend.api.fragment_answers import current_expansion, etag, fragment_answer, not_modified
from backend.api.presenters import uploaded_photo
from backend.api.request_io import json_body, load, reporter_locale
from backend.api.schemas import (
    CreatedIdSchema,
    FixedAnswerSchema,
    FollowSchema,
    PublicKeySchema,
    PushSubscriptionSchema,
    UploadedPhotoSchema,
)
from backend.jsonout import safe_json
from backend.services import deliveries, recipients, reports
from backend.services.outcomes import feedback
from backend.services.public_views import read as public_read

bp = Blueprint("tracking", __name__, url_prefix="/api/v1")
# Schemas are built once: instantiating them per request costs more than using them.
UPLOADED_PHOTO_SCHEMA = UploadedPhotoSchema()
PUSH_SUBSCRIPTION_SCHEMA = PushSubscriptionSchema()
FIXED_ANSWER_SCHEMA = FixedAnswerSchema()
CREATED_ID_SCHEMA = CreatedIdSchema()
FOLLOW_SCHEMA = FollowSchema()
PUBLIC_KEY_SCHEMA = PublicKeySchema()


@bp.get("/track/<token>")
def track(token: str) -> Response:
    """A reporter's view of their report.
    ---
    get:
      summary: The reporter's own view of their report (poll it cheaply with If-None-Match)
      parameters:
        - {in: path, name: token, required: true, schema: {type: string}}
      responses:
        200:
          description: The report as the reporter sees it, with an ETag
          content:
            application/json:
              schema: TrackedReportSchema
        304:
          description: Unchanged since the ETag sent in If-None-Match
        404: {$ref: '#/components/responses/Error'}
    """
    detail, email_on_file, uploads = public_read.tracked(primary_reader(), token)
    expand, key = current_expansion()
    extra = safe_json({"email_on_file": email_on_file, "uploads": [
        UPLOADED_PHOTO_SCHEMA.dump(uploaded_photo(row)) for row in uploads]})
    tag = etag(key, detail, extra)[:32]
    private = "private, no-store"
    answer = not_modified(tag, private) or fragment_answer(
        expand(detail.encode())[:-1] + b"," + extra[1:], tag, cache_control=private)
    answer.headers["Referrer-Policy"] = "no-referrer"
    return answer


@bp.post("/track/<token>/push-subscriptions")
def add_push_subscription(token: str) -> tuple[Response, int]:
    """Subscribe a browser to push notifications about this report.
    ---
    post:
      summary: Turn on push notifications for your report
      parameters:
        - {in: path, name: token, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: PushSubscriptionSchema
      responses:
        201:
          description: Stored
          content:
            application/json:
              schema: CreatedIdSchema
        404: {$ref: '#/components/responses/Error'}
        422: {$ref: '#/components/responses/Error'}
    """
    endpoint, p256dh, auth = _push_subscription(load(PUSH_SUBSCRIPTION_SCHEMA, json_body()))
    report = recipients.report_for_token(session(), token)
    recipient = recipients.reporter_recipient(session(), report)
    sub = recipients.add_push_subscription(session(), recipient, endpoint, p256dh, auth)
    return jsonify(CREATED_ID_SCHEMA.dump({"id": sub.id})), 201


@bp.post("/track/<token>/fixed")
def answer_fixed(token: str) -> Response:
    """The reporter says whether a resolved report is really fixed.
    ---
    post:
      summary: "Is it fixed? Yes closes, no reopens one priority higher (14 days); once only"
      parameters:
        - {in: path, name: token, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: FixedAnswerSchema
      responses:
        200:
          description: The report after the answer
          content:
            application/json:
              schema: TrackedReportSchema
        404: {$ref: '#/components/responses/Error'}
        409: {$ref: '#/components/responses/Error'}
    """
    data = load(FIXED_ANSWER_SCHEMA, json_body())
    _answer(token, data["fixed"], data["note"])
    return track(token)


@bp.route("/track/<token>/fixed/<answer>", methods=["GET", "POST"])
def answer_fixed_page(token: str, answer: str) -> tuple[str, int] | str:
    """The e-mail's "fixed?" links: GET shows a confirm button, only POST changes anything."""
    if answer not in ("yes", "no"):
        return render_template("message.html", title="?", text="Unknown answer."), 404
    report = recipients.report_for_token(session(), token)
    # The page exists in German and English: German for German readers (also plain German).
    locale = "de" if report.reporter_locale.lower().startswith("de") else "en"
    if request.method == "POST":
        _answer(token, answer == "yes", None)
        text = {"de": "Danke für Ihre Rückmeldung!", "en": "Thank you for your answer!"}
        return render_template("message.html", title="Mängelmelder", locale=locale,
                               text=text.get(locale, text["de"]))
    return render_template("confirm_fixed.html", fixed=answer == "yes", locale=locale,
                           report_id=report.public_id)


def _answer(token: str, fixed: bool, note: str | None) -> None:
    feedback.answer_fixed(session(), token, fixed, note, jobs())


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> str:
    """One-click unsubscribe (RFC 8058): GET shows a button, POST unsubscribes."""
    if request.method == "POST":
        recipients.unsubscribe(session(), settings().secret_key, token)
        return render_template("message.html", title="Mängelmelder",
                               text="Sie erhalten keine E-Mails mehr zu dieser Meldung. / "
                                    "You will get no more e-mails about this report.")
    return render_template("confirm_unsubscribe.html", token=token)


@bp.get("/push/public-key")
def push_public_key() -> Response:
    """The server's VAPID public key.
    ---
    get:
      summary: The key browsers subscribe to push notifications with
      responses:
        200:
          description: The VAPID public key (URL-safe base64)
          content:
            application/json:
              schema: PublicKeySchema
    """
    return jsonify(PUBLIC_KEY_SCHEMA.dump({"public_key": deliveries.vapid_public_key(session())}))


@bp.post("/reports/<public_id>/followers")
def follow(public_id: str) -> tuple[Response, int]:
    """Follow a report instead of filing a duplicate.
    ---
    post:
      summary: Follow a report (e-mail and/or push) instead of reporting it again
      parameters:
        - {in: path, name: public_id, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: FollowSchema
      responses:
        201:
          description: Following
          content:
            application/json:
              schema: CreatedIdSchema
        404: {$ref: '#/components/responses/Error'}
        422: {$ref: '#/components/responses/Error'}
    """
    data = load(FOLLOW_SCHEMA, json_body())
    push = _push_subscription(data["push_subscription"]) if data["push_subscription"] else None
    report, _, _ = reports.get_report(session(), public_id)
    recipient = recipients.follow_report(session(), report, locale=reporter_locale(),
                                         email=data["email"], push=push)
    return jsonify(CREATED_ID_SCHEMA.dump({"id": recipient.id})), 201


def _push_subscription(data: dict) -> tuple[str, str, str]:
    """A validated browser subscription as (endpoint, p256dh, auth); we will POST to it."""
    recipients.check_push_endpoint(data["endpoint"], settings().push_allow_insecure_endpoints)
    return data["endpoint"], data["keys"]["p256dh"], data["keys"]["auth"]
