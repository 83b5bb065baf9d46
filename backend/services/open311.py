"""Open311 GeoReport v2 on our data: services from categories, requests from reports.

Requests are routed exactly like reports from our own app (`submissions.submit_report`);
personal fields (e-mail, name, phone) are stored privately and never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.db.statements import Source, rows
from backend.errors import DomainError, InvalidInput, NotFound
from backend.models import Report, ReportEvent
from backend.models.base import utcnow
from backend.services.assets.reporting import asset_for_report
from backend.services.city_cache import CategoryInfo, CitySnapshot
from backend.services.public_map.pages import RequestFilter
from backend.services.public_map.points import micros, micros_or_none
from backend.services.report_queries import in_list
from backend.workflow import CLOSED_STATUSES, OPEN_STATUSES

MAX_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000


class Open311BadRequest(DomainError):
    """A request Open311 answers with 400 (its own error format)."""

    status = 400
    code = "bad_request"


# ------------------------------------------------------------------------------ services
ASSET_ATTRIBUTE = "asset_id"  # our extension: `attribute[asset_id]` on POST requests
ASSET_DESCRIPTION = {
    "de": "{types}: Nummer der Anlage aus dem Anlagenregister dieser Stadt (GET "
          "/api/v1/assets/nearest oder /api/v1/assets/lookup), falls bekannt. Die Meldung "
          "wird an ihren Standort gelegt.",
    "en": "{types}: the id of the asset in this city's asset register (GET "
          "/api/v1/assets/nearest or /api/v1/assets/lookup), if known. The request is "
          "placed at its location.",
}


def _asset_attribute(snapshot: CitySnapshot, category: CategoryInfo, locale: str,
                     order: int) -> dict[str, Any] | None:
    """The optional `asset_id` attribute of a service whose group has asset types."""
    types = snapshot.asset_types_for(category.group.code)
    if not types:
        return None
    text = ASSET_DESCRIPTION["en" if locale == "en" else "de"]
    return {"variable": True, "code": ASSET_ATTRIBUTE, "datatype": "number",
            "required": False, "datatype_description": "asset id (whole number)",
            "order": order,
            "description": text.format(types=" / ".join(t.name.get(locale) for t in types)),
            "values": []}


def _service_attributes(snapshot: CitySnapshot, category: CategoryInfo, locale: str
                        ) -> list[dict[str, Any]]:
    result = []
    for order, attribute in enumerate(category.attributes, 1):
        result.append({
            "variable": True,
            "code": attribute["code"],
            "datatype": attribute["datatype"],
            "required": bool(attribute.get("required")),
            "datatype_description": None,
            "order": order,
            "description": attribute["description"].get(locale) or attribute["description"]["de"],
            "values": [{"key": v["key"], "name": v["name"].get(locale) or v["name"]["de"]}
                       for v in attribute.get("values") or []],
        })
    asset = _asset_attribute(snapshot, category, locale, len(result) + 1)
    return [*result, asset] if asset else result


def active_categories(snapshot: CitySnapshot) -> list[CategoryInfo]:
    """The categories one can report, in the configured order."""
    return sorted((c for c in snapshot.categories.values()
                   if c.active and c.group.active), key=lambda c: c.position)


def services(snapshot: CitySnapshot, locale: str) -> list[dict[str, Any]]:
    """One Open311 service per active category."""
    return [{
        "service_code": c.code,
        "service_name": c.name.get(locale),
        "description": c.description.get(locale) or None,
        "metadata": bool(c.attributes) or bool(snapshot.asset_types_for(c.group.code)),
        "type": "realtime",
        "keywords": c.keywords or f"{c.group.name.get(locale)}, {c.name.get(locale)}",
        "group": c.group.name.get(locale),
    } for c in active_categories(snapshot)]


def service_definition(snapshot: CitySnapshot, code: str, locale: str) -> dict[str, Any]:
    """The attributes of one service."""
    category = snapshot.categories.get(code)
    if category is None or not category.active or not category.group.active:
        raise NotFound(f"Unknown service_code '{code}'.", {"service_code": ["not found"]})
    return {"service_code": code,
            "attributes": _service_attributes(snapshot, category, locale)}


def check_attributes(category: CategoryInfo, given: dict[str, str]) -> dict[str, Any] | None:
    """Attribute values checked against the service definition (datatype, list values,
    required); unknown codes are refused."""
    problems: dict[str, list[str]] = {}
    defined = {a["code"]: a for a in category.attributes}
    values: dict[str, Any] = {}
    for code in given:
        if code not in defined:
            problems[f"attribute[{code}]"] = ["not an attribute of this service"]
    for code, attribute in defined.items():
        raw = given.get(code)
        if raw in (None, ""):
            if attribute.get("required"):
                problems[f"attribute[{code}]"] = ["required"]
            continue
        values[code] = _attribute_value(attribute, raw, problems)
    if problems:
        raise Open311BadRequest("Invalid attribute values.", problems)
    return values or None


def check_asset_attribute(session: Session, category: CategoryInfo, raw: Any) -> int | None:
    """The asset id of `attribute[asset_id]` (None when not given), checked like our app's
    intake: an active asset of a type tied to the category's group; else 400 naming it."""
    field = f"attribute[{ASSET_ATTRIBUTE}]"
    if raw in (None, ""):
        return None
    if isinstance(raw, list) or not str(raw).strip().isdigit() or len(str(raw).strip()) > 18:
        raise Open311BadRequest("attribute[asset_id] is not an asset id.",
                                {field: ["one whole number, an asset's id"]})
    asset_id = int(str(raw).strip())
    try:
        asset_for_report(session, asset_id, category.group.code)
    except InvalidInput as exc:  # the same check, its problem named as Open311 sent it
        problems = exc.fields.get("asset_id", [exc.message])
        raise Open311BadRequest(exc.message, {field: problems}) from exc
    return asset_id


def _attribute_value(attribute: dict[str, Any], raw: Any, problems: dict[str, list[str]]
                     ) -> Any:
    field = f"attribute[{attribute['code']}]"
    kind = attribute["datatype"]
    keys = {v["key"] for v in attribute.get("values") or []}
    items = raw if isinstance(raw, list) else [raw]
    if kind == "number":
        try:
            return float(items[0])
        except ValueError:
            problems[field] = ["must be a number"]
    elif kind == "datetime":
        try:
            return datetime.fromisoformat(str(items[0]).replace("Z", "+00:00")).isoformat()
        except ValueError:
            problems[field] = ["must be an ISO 8601 date-time"]
    elif kind in ("singlevaluelist", "multivaluelist"):
        unknown = [i for i in items if i not in keys]
        if unknown or (kind == "singlevaluelist" and len(items) != 1):
            problems[field] = [f"one of {', '.join(sorted(keys))}"
                               + (" (one value)" if kind == "singlevaluelist" else "")]
        return items if kind == "multivaluelist" else items[0]
    else:
        text = str(items[0])
        if len(text) > 4000:
            problems[field] = ["at most 4000 characters"]
        return text
    return None


# ------------------------------------------------------------------------------ requests

@dataclass(frozen=True)
class RequestQuery:
    """GET requests: ids override everything else."""

    ids: tuple[str, ...] | None = None
    service_codes: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None  # open | closed
    bbox: tuple[float, float, float, float] | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = 100


def date_window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The creation-time window: at most 90 days; the last 90 days by default."""
    if start is None and end is None:
        end = utcnow()
    if start is None:
        start = end - MAX_WINDOW  # type: ignore[operator]
    if end is None:
        end = start + MAX_WINDOW
    if end < start:
        raise Open311BadRequest("end_date is before start_date.",
                                {"end_date": ["must not be before start_date"]})
    if end - start > MAX_WINDOW:
        raise Open311BadRequest("start_date and end_date may be at most 90 days apart.",
                                {"end_date": ["at most 90 days after start_date"]})
    return start, end


def request_filter(snapshot: CitySnapshot, query: RequestQuery) -> RequestFilter:
    """The query (without ids) for the map index (see public_map.pages.requests_page)."""
    start, end = date_window(query.start, query.end)
    statuses = None
    if query.status:
        statuses = frozenset(s.value for s in (OPEN_STATUSES if query.status == "open"
                                               else CLOSED_STATUSES))
    return RequestFilter(
        start=micros(start), end=micros(end), statuses=statuses,
        category_ids=frozenset(snapshot.categories[c].id for c in query.service_codes
                               if c in snapshot.categories) if query.service_codes else None,
        bbox=query.bbox,
        updated_after=micros_or_none(query.updated_after),
        updated_before=micros_or_none(query.updated_before),
        offset=(query.page - 1) * query.page_size, limit=query.page_size)


def requests_by_ids(session: Source, public_ids: tuple[str, ...]) -> list[tuple]:
    """The reports with these public ids (newest first) as (id, stored request, stored
    extended attributes) rows; a view not stored yet is None (see public_views.read.complete).
    Every other query is answered from the map index (`request_filter`)."""
    if not public_ids:
        return []
    clause, values = in_list("r.public_id", "p", list(public_ids))
    return rows(session, "SELECT r.id, v.open311, v.open311_ext FROM report r "
                "LEFT JOIN report_public v ON v.report_id = r.id WHERE " + clause
                + " ORDER BY r.created_at DESC, r.id DESC", values)


def request_updates(session: Session, start: datetime | None, end: datetime | None,
                    page: int, page_size: int) -> list[tuple[ReportEvent, str]]:
    """mySociety's servicerequestupdates: public status changes in the window, oldest first."""
    start, end = date_window(start, end)
    rows = session.execute(
        select(ReportEvent, Report.public_id).join(Report, Report.id == ReportEvent.report_id)
        .where(ReportEvent.at >= start, ReportEvent.at <= end,
               ReportEvent.from_status.is_not(None))
        .order_by(ReportEvent.at, ReportEvent.id)
        .offset((page - 1) * page_size).limit(page_size)).all()
    return [(row[0], row[1]) for row in rows]


def check_jurisdiction(snapshot_city_code: str, given: str | None) -> None:
    """A jurisdiction_id, when given, must be ours."""
    if given is not None and given != snapshot_city_code:
        raise NotFound(f"Unknown jurisdiction_id '{given}'.", {"jurisdiction_id": ["not found"]})


def page_args(page: Any, page_size: Any) -> tuple[int, int]:
    """Checked page numbers."""
    try:
        number, size = int(page or 1), int(page_size or 100)
    except ValueError as exc:
        raise InvalidInput("page and page_size must be numbers.",
                           {"page": ["a whole number"]}) from exc
    if number < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise Open311BadRequest("Bad paging.", {"page_size": [f"1 to {MAX_PAGE_SIZE}"]})
    return number, size
