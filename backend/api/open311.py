"""Open311 GeoReport v2 server under /open311/v2/ (JSON and XML; thin: services decide)."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from backend.api.context import (
    jobs,
    map_index,
    photo_limits,
    primary_reader,
    read_session,
    reader,
    session,
    settings,
    snapshot,
    storage,
)
from backend.api.fragment_answers import (
    catalogue_answer,
    current_expansion,
    etag,
    fragment_answer,
    not_modified,
)
from backend.api.open311_format import FORMATS, answer, error_answer
from backend.api.query_schemas import utc_instant
from backend.api.rate_limits import api_key_or_address, limiter, open311_limit
from backend.api.request_io import NUL_MESSAGE, bounded_form, request_locale
from backend.db.statements import Source
from backend.errors import DomainError, NotFound, UnsupportedMediaType
from backend.services import api_keys, open311
from backend.services.media_fetch import fetch_media
from backend.services.open311 import MAX_PAGE_SIZE, Open311BadRequest, RequestQuery
from backend.services.public_views import read as public_read
from backend.services.public_views.render import with_extensions
from backend.services.reports import NewReport
from backend.services.submissions import submit_report

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

ATTRIBUTE = re.compile(r"^attribute\[([a-z][a-z0-9_]{0,63})\](\[\])?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Far beyond any real list, and small enough that page × page_size stays a 64-bit offset.
MAX_PAGE = 1_000_000


def open311_errors(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Answer every refusal in Open311's error format, in the asked format."""
    @functools.wraps(handler)
    def wrapped(*args: Any, fmt: str, **kwargs: Any) -> Response:
        if fmt not in FORMATS:
            return error_answer("json", NotFound("Use .json or .xml."))
        try:
            form = bounded_form() if request.method == "POST" else {}
            jurisdiction = request.args.get("jurisdiction_id", form.get("jurisdiction_id"))
            open311.check_jurisdiction(_city_code(), jurisdiction)
            return handler(*args, fmt=fmt, **kwargs)
        except DomainError as exc:
            return error_answer(fmt, exc)
    return wrapped


@bp.errorhandler(429)
def too_many(exc: Any) -> Response:
    """Open311 clients get the limit in the spec's error format (Retry-After is added by the
    limiter)."""
    fmt = (request.view_args or {}).get("fmt", "json")
    return answer(fmt if fmt in FORMATS else "json", "errors", [
        {"code": 429, "description": f"Too many requests: {exc.description}"}], 429)


def _asked_format() -> str:
    fmt = (request.view_args or {}).get("fmt", "json")
    return fmt if fmt in FORMATS else "json"


@bp.errorhandler(HTTPException)
def refused_by_werkzeug(exc: HTTPException) -> Response:
    """Werkzeug's refusals (a body over the size limit, too many form parts, a part header
    too large) in the spec's error format too."""
    status = exc.code or 400
    return answer(_asked_format(), "errors", [
        {"code": status, "description": exc.description or exc.name}], status)


@bp.errorhandler(DomainError)
def refused_before_the_view(exc: DomainError) -> Response:
    """Refusals from before the view (e.g. a NUL character in the address), in the spec's
    error format."""
    return error_answer(_asked_format(), exc)


def _city_code() -> str:
    return current_app.extensions["mm_city_config"].city.get("code", "")


def _base() -> str:
    return f"{settings().base_url}/open311/v2"


def _datetime(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311BadRequest(f"{name} is not an ISO 8601 date-time.",
                                {name: ["ISO 8601 with time zone"]}) from exc
    if value.tzinfo is None:
        raise Open311BadRequest(f"{name} needs a time zone.", {name: ["add Z or +01:00"]})
    try:
        return utc_instant(value)
    except ValueError as exc:
        raise Open311BadRequest(f"{name} is out of range.", {name: [str(exc)]}) from exc


def _codes(name: str) -> tuple[str, ...] | None:
    raw = request.args.get(name)
    codes = tuple(c.strip() for c in raw.split(",") if c.strip()) if raw else None
    # More ids than a page holds are pointless, and each one is a bound SQL parameter.
    if codes and len(codes) > MAX_PAGE_SIZE:
        raise Open311BadRequest(f"At most {MAX_PAGE_SIZE} values in {name}.",
                                {name: [f"at most {MAX_PAGE_SIZE} comma-separated values"]})
    return codes


def _paging() -> tuple[int, int]:
    page, page_size = open311.page_args(request.args.get("page"), request.args.get("page_size"))
    if page > MAX_PAGE:
        raise Open311BadRequest("page is too large.", {"page": [f"1 to {MAX_PAGE}"]})
    return page, page_size


@bp.get("/discovery.<fmt>")
@open311_errors
def discovery(fmt: str) -> Response:
    """Where this Open311 service is and what it speaks."""
    return answer(fmt, "discovery", {
        "changeset": "2026-11-22T00:00:00Z",
        "contact": f"{settings().base_url}/",
        "key_service": "API keys are issued by the city's administrators.",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": _base(), "changeset": "2026-11-22T00:00:00Z", "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    })


@bp.get("/services.<fmt>")
@open311_errors
def services(fmt: str) -> Response:
    """Every active category as a service."""
    return catalogue_answer(f"open311-services.{fmt}", lambda snap, locale: answer(
        fmt, "services", open311.services(snap, locale)).get_data(),
        "text/xml" if fmt == "xml" else "application/json")


@bp.get("/services/<code>.<fmt>")
@open311_errors
def service_definition(code: str, fmt: str) -> Response:
    """The attributes of one service."""
    return answer(fmt, "service_definition",
                  open311.service_definition(snapshot(), code, request_locale()))


def _requests(fmt: str, sess: Source, rows: list, extensions: bool) -> Response:
    """Service requests from (id, request, extended attributes) rows, in the asked format:
    stored fragments, expanded (XML is written from the same JSON)."""
    requests = public_read.complete(sess, [(r[0], r[1]) for r in rows], "open311")
    if extensions:
        extended = public_read.complete(sess, [(r[0], r[2]) for r in rows], "open311_ext")
        requests = [with_extensions(q.encode(), e.encode()).decode()
                    for q, e in zip(requests, extended, strict=True)]
    expand, key = current_expansion()
    return _joined_requests(fmt, expand(("[" + ",".join(requests) + "]").encode()), key)


def _joined_requests(fmt: str, joined: bytes, key: str) -> Response:
    """A JSON array of expanded requests as the answer in the asked format."""
    if fmt == "xml":
        return answer(fmt, "service_requests", orjson.loads(joined))
    tag = etag(key, joined)
    return not_modified(tag) or fragment_answer(joined, tag)


@bp.get("/requests.<fmt>")
@open311_errors
def list_requests(fmt: str) -> Response:
    """Service requests, filtered (service_request_id overrides every other filter).

    With `extensions=true` each carries `extended_attributes` (our GeoReport v2 extension):
    detailed_status, district, department, media_urls and `asset` (AssetRefSchema or null).
    """
    from backend.api.query_schemas import BBox

    args = request.args
    status = args.get("status")
    if status and status not in ("open", "closed"):
        raise Open311BadRequest("status is open or closed.", {"status": ["open or closed"]})
    bbox = None
    if args.get("bbox"):
        try:
            bbox = BBox().deserialize(args["bbox"])
        except Exception as exc:  # noqa: BLE001 - any parse failure is the client's
            raise Open311BadRequest("bbox is minLon,minLat,maxLon,maxLat.",
                                    {"bbox": ["four numbers"]}) from exc
    page, page_size = _paging()
    query = RequestQuery(
        ids=_codes("service_request_id"), service_codes=_codes("service_code"),
        start=_datetime("start_date"), end=_datetime("end_date"), status=status, bbox=bbox,
        updated_after=_datetime("updated_after"), updated_before=_datetime("updated_before"),
        page=page, page_size=page_size)
    replica = reader()  # lists: the replica
    if query.ids is not None:
        return _requests(fmt, replica, open311.requests_by_ids(replica, query.ids),
                         args.get("extensions") == "true")
    # Chosen from the process's map index; the stored requests from the replica, if any.
    expand, key = current_expansion()
    requests = map_index().request_page(replica, open311.request_filter(snapshot(), query),
                                        expand, key, args.get("extensions") == "true")
    return _joined_requests(fmt, b"[" + b",".join(requests) + b"]", key)


@bp.get("/requests/<public_id>.<fmt>")
@open311_errors
def get_request(public_id: str, fmt: str) -> Response:
    """One service request (as a list of one, like the spec); `extensions=true` as in the
    list."""
    one = primary_reader()
    rows = open311.requests_by_ids(one, (public_id,))
    if not rows:
        raise NotFound(f"No service request '{public_id}'.", {"service_request_id": ["not found"]})
    return _requests(fmt, one, rows, request.args.get("extensions") == "true")


@bp.get("/tokens/<token>.<fmt>")
@open311_errors
def token(token: str, fmt: str) -> Response:
    """Requests are created at once; their token is the request id itself."""
    rows = open311.requests_by_ids(session(), (token,))
    if not rows:
        raise NotFound(f"Unknown token '{token}'.", {"token": ["not found"]})
    return answer(fmt, "service_requests", [{"service_request_id": token, "token": token}])


@bp.get("/servicerequestupdates.<fmt>")
@open311_errors
def updates(fmt: str) -> Response:
    """Public status changes (mySociety's extension), oldest first."""
    page, page_size = _paging()
    rows = open311.request_updates(read_session(), _datetime("start_date"), _datetime("end_date"),
                                   page, page_size)
    from backend.workflow import OPEN311_STATE, Status

    return answer(fmt, "service_request_updates", [{
        "update_id": str(event.id), "service_request_id": public_id,
        "status": OPEN311_STATE[Status(event.to_status)],
        "extended_status": event.to_status,
        "updated_datetime": event.at.isoformat(timespec="seconds"),
        "description": event.public_note or "", "media_url": None,
    } for event, public_id in rows])


def _number(name: str) -> float | None:
    raw = request.form.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise Open311BadRequest(f"{name} is not a number.", {name: ["a number"]}) from exc
    if not math.isfinite(value):
        raise Open311BadRequest(f"{name} is not a number.", {name: ["a finite number"]})
    return value


def _check_form_text(form: MultiDict[str, str]) -> None:
    """Refuse a multipart part without a name and NUL characters (PostgreSQL cannot store
    them, and no person types them)."""
    problems: dict[str, list[str]] = {}
    for name, value in form.items(multi=True):
        if name is None:
            problems["form"] = ["a part without a name"]
        elif "\x00" in name or "\x00" in value:
            problems[name.replace("\x00", "\\0")] = [NUL_MESSAGE]
    if problems:
        raise Open311BadRequest("The form holds unreadable fields.", problems)


@bp.post("/requests.<fmt>")
@limiter.limit(open311_limit, key_func=api_key_or_address)
@open311_errors
def create_request(fmt: str) -> Response:
    """Create a service request, routed exactly like one from our app.

    `attribute[asset_id]=<id>` (extension) points it at an asset, checked like our app's
    intake; other `attribute[code]` values are checked against the service definition.
    """
    if request.mimetype not in FORM_TYPES:
        raise UnsupportedMediaType(
            "Send the request form-encoded (application/x-www-form-urlencoded).",
            {"Content-Type": [f"expected a form, got '{request.mimetype or ''}'"]})
    form = bounded_form()
    _check_form_text(form)
    key = api_keys.check_api_key(session(), form.get("api_key"))
    code = form.get("service_code") or ""
    snap = snapshot()
    category = snap.categories.get(code)
    if not code:
        raise Open311BadRequest("service_code is required.", {"service_code": ["required"]})
    if category is None or not category.active or not category.group.active:
        raise NotFound(f"Unknown service_code '{code}'.", {"service_code": ["not found"]})
    lat, lon = _number("lat"), _number("long")
    problems: dict[str, list[str]] = {}
    if lat is None or lon is None:
        problems["lat"] = ["lat and long are required (addresses cannot be located here)"]
    elif not (-90 <= lat <= 90 and -180 <= lon <= 180):
        problems["lat"] = ["lat/long out of range"]
    description = (form.get("description") or "").strip()
    if len(description) > 4000:
        problems["description"] = ["at most 4000 characters"]
    email = (form.get("email") or "").strip() or None
    if email and not EMAIL.match(email):
        problems["email"] = ["not an e-mail address"]
    given: dict[str, Any] = {}
    for name in form:
        match = ATTRIBUTE.match(name)
        if match:
            given[match[1]] = form.getlist(name) if match[2] else form.get(name)
        elif name.startswith("attribute"):
            problems[name] = ["unknown attribute field"]
    if problems:
        raise Open311BadRequest("The request is incomplete or invalid.", problems)
    asset_id = open311.check_asset_attribute(session(), category,
                                             given.pop(open311.ASSET_ATTRIBUTE, None))
    attributes = open311.check_attributes(category, given)
    name = " ".join(p for p in (form.get("first_name"), form.get("last_name")) if p) or None
    data = NewReport(category=code, lat=lat, lon=lon,  # type: ignore[arg-type]
                     description=description, address=form.get("address_string") or None,
                     email=email, name=name[:200] if name else None,
                     phone=(form.get("phone") or None), attributes=attributes,
                     api_key_id=key.id, asset_id=asset_id)
    uploads, notice = [], None
    if form.get("media_url"):
        hosts = frozenset(h.strip().lower() for h in settings().open311_media_hosts.split(",")
                          if h.strip())
        fetched = fetch_media(form["media_url"], hosts, settings().photo_max_bytes)
        uploads, notice = ([fetched.data] if fetched.data else []), fetched.problem
    created = submit_report(session(), storage(), jobs(), data, uploads, photo_limits(),
                            secret_key=settings().secret_key, locale=request_locale(),
                            snapshot=snap, source="open311")
    return answer(fmt, "service_requests", [{
        "service_request_id": created.report.public_id, "token": None,
        "service_notice": notice, "account_id": None}], 201)
