"""Analysts' exports: heatmaps as GeoJSON, CSV and PNG (large ones built by a worker)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from backend.api.asset_schemas import asset_ref
from backend.api.context import jobs, read_session, settings, snapshot, storage
from backend.api.docs import operation
from backend.api.query_schemas import INSTANT_RANGE, CommaList, StatusList, utc_instant
from backend.api.request_io import load, request_locale
from backend.api.staff.session import staff_user
from backend.errors import InvalidInput, NotFound
from backend.permissions import require_analytics
from backend.services import asset_figures, heatmap_export, service_figures
from backend.services.analytics_filter import ReportSelection
from backend.services.city_cache import CitySnapshot
from backend.services.heatmap import CellSpec, matching_count
from backend.services.heatmap_export import FORMATS, HeatmapRequest
from backend.workflow import expand_status_filter

bp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics")

EXPORT_NAME = re.compile(r"^heatmap-[0-9a-f]{40}\.(geojson|csv|png)$")


class DateOrDateTime(fields.String):
    """An ISO date (midnight UTC) or an ISO date-time with zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(text) == 10:
                parsed = datetime.combine(date.fromisoformat(text), time(), UTC)
            else:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError("an ISO date (2026-01-31) or date-time with zone") from exc
        if parsed.tzinfo is None:
            raise ValidationError("a date-time needs a time zone (e.g. Z)")
        try:
            return utc_instant(parsed)
        except ValueError as exc:
            raise ValidationError(INSTANT_RANGE) from exc


class SelectionQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    from_ = DateOrDateTime(data_key="from", load_default=None,
                           metadata={"description": "Created at or after (ISO date or time)"})
    to = DateOrDateTime(load_default=None, metadata={"description": "Created before"})
    category = CommaList(load_default=None, metadata={"description": "Category codes"})
    group = CommaList(load_default=None, metadata={"description": "Category group codes"})
    district = CommaList(load_default=None, metadata={"description": "District numbers"})
    status = StatusList(load_default=None, metadata={
        "description": "Statuses, or open / closed"})
    department = CommaList(load_default=None, metadata={"description": "Department codes"})

    @validates_schema(skip_on_field_errors=False)
    def check(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if data.get("category") and data.get("group"):
            errors["group"] = ["give category or group, not both"]
        if data.get("from_") and data.get("to") and data["from_"] >= data["to"]:
            errors["to"] = ["must be after from"]
        if errors:
            raise ValidationError(errors)


class HeatmapQuery(SelectionQuery):
    cell_m = fields.Integer(load_default=None, validate=validate.Range(50, 2000), metadata={
        "description": "Square cells of this many metres (default 100)"})
    h3_res = fields.Integer(load_default=None, validate=validate.Range(7, 10), metadata={
        "description": "H3 hexagons at this resolution instead of squares"})
    format = fields.String(load_default="geojson", validate=validate.OneOf(list(FORMATS)))
    width = fields.Integer(load_default=1200, validate=validate.Range(300, 4000))
    height = fields.Integer(load_default=1000, validate=validate.Range(300, 4000))

    @validates_schema(skip_on_field_errors=False)
    def one_cell_kind(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("cell_m") is not None and data.get("h3_res") is not None:
            raise ValidationError({"h3_res": ["give cell_m or h3_res, not both"]})


HEATMAP_QUERY = HeatmapQuery()


def _ids(codes: list[str] | None, known: dict[str, int], field: str,
         problems: dict[str, list[str]]) -> frozenset[int] | None:
    if codes is None:
        return None
    unknown = [c for c in codes if c not in known]
    if unknown:
        problems[field] = [f"unknown: {', '.join(unknown)}"]
    return frozenset(known[c] for c in codes if c in known)


def selection_from(query: dict[str, Any], snap: CitySnapshot) -> ReportSelection:
    """The report selection of a validated query (unknown codes named per field)."""
    problems: dict[str, list[str]] = {}
    categories = _ids(query["category"], {c: i.id for c, i in snap.categories.items()},
                      "category", problems)
    if query["group"] is not None:
        unknown = [g for g in query["group"] if g not in snap.groups]
        if unknown:
            problems["group"] = [f"unknown: {', '.join(unknown)}"]
        categories = frozenset(c.id for c in snap.categories.values()
                               if c.group.code in query["group"])
    districts = _ids(query["district"], {n: d.id for n, d in snap.districts.items()},
                     "district", problems)
    departments = _ids(query["department"], {d.code: d.id
                                             for d in snap.departments_by_id.values()},
                       "department", problems)
    if problems:
        raise InvalidInput("Unknown codes in the filter.", problems)
    statuses = (frozenset(s.value for s in expand_status_filter(query["status"]))
                if query["status"] else None)
    return ReportSelection(start=query["from_"], end=query["to"], category_ids=categories,
                           district_ids=districts, department_ids=departments,
                           statuses=statuses)


def filters_text(query: dict[str, Any], locale: str) -> str:
    """The filters in words, for the PNG's subtitle."""
    en = locale == "en"
    parts = []
    if query["from_"] or query["to"]:
        start = query["from_"].date().isoformat() if query["from_"] else "…"
        end = query["to"].date().isoformat() if query["to"] else "…"
        parts.append(f"{start} – {end}")
    for key, de, en_name in (("category", "Kategorie", "category"), ("group", "Gruppe", "group"),
                             ("district", "Bezirk", "district"), ("status", "Status", "status"),
                             ("department", "Dienststelle", "department")):
        if query[key]:
            parts.append(f"{en_name if en else de}: {', '.join(query[key])}")
    cell = (f"H3 {query['h3_res']}" if query["h3_res"] is not None
            else f"{query['cell_m'] or 100} m")
    parts.append(("cells " if en else "Zellen ") + cell)
    return " · ".join(parts) if parts else ("all reports" if en else "alle Meldungen")


def _file_response(key: str, data: bytes, fmt: str) -> Response:
    response = Response(data, mimetype=FORMATS[fmt].split(";")[0])
    if fmt == "csv":
        response.headers["Content-Type"] = FORMATS["csv"]
    name = key.rsplit("/", 1)[-1]
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, max-age=0"
    return response


@bp.get("/heatmap")
@operation("get", "Reports per grid square or H3 cell as GeoJSON, CSV or PNG (analysts)",
           tag="analytics",
           ok={200: "The file", 202: "Being built; fetch the result URL later"},
           query="HeatmapQuery")
def heatmap() -> Response | tuple[Response, int]:
    """A heatmap of reports."""
    require_analytics(staff_user())
    query = load(HEATMAP_QUERY, request.args)
    snap = snapshot()
    selection = selection_from(query, snap)
    spec = CellSpec(cell_m=None if query["h3_res"] is not None else (query["cell_m"] or 100),
                    h3_res=query["h3_res"])
    locale = request_locale()
    heat_request = HeatmapRequest(
        selection=selection, spec=spec, fmt=query["format"], width=query["width"],
        height=query["height"],
        title=("Reports" if locale == "en" else "Meldungen") + " – Mängelmelder",
        filters_text=filters_text(query, locale),
        attribution=_attribution(),
        legend="reports/km²" if locale == "en" else "Meldungen/km²")
    replica = read_session()  # analysts' reads go to the replica when there is one
    version = heatmap_export.data_version(replica)
    key = heatmap_export.file_key(heat_request, version)
    store = storage()
    if store.exists(key):
        return _file_response(key, store.get(key), query["format"])
    if matching_count(replica, selection) > settings().analytics_sync_max_reports:
        heatmap_export.start_job(jobs(), heat_request, key)
        return _pending(key, "queued")
    key, data = heatmap_export.cached_or_build(replica, store, heat_request)
    return _file_response(key, data, query["format"])


def _attribution() -> str:
    from flask import current_app

    districts = current_app.extensions["mm_city_config"].districts
    return "Mängelmelder · " + (districts.get("attribution_short")
                                or districts.get("attribution") or "")


def _pending(key: str, status: str) -> tuple[Response, int]:
    name = key.rsplit("/", 1)[-1]
    url = f"{settings().base_url}/api/v1/analytics/exports/{name}"
    response = jsonify({"status": status, "result": url})
    response.headers["Location"] = url
    response.headers["Retry-After"] = "2"
    return response, 202


@bp.get("/exports/<name>")
@operation("get", "A finished export, or 202 while a worker builds it",
           tag="analytics", ok={200: "The file", 202: "Not ready yet"}, errors=(401, 403, 404))
def export(name: str) -> Response | tuple[Response, int]:
    """A file a worker builds."""
    require_analytics(staff_user())
    if not EXPORT_NAME.match(name):
        raise NotFound("No such export.", {"name": ["not found"]})
    key = f"exports/{name}"
    store = storage()
    if store.exists(key):
        return _file_response(key, store.get(key), name.rsplit(".", 1)[1])
    state = heatmap_export.job_state(jobs(), key)
    if state is None:
        raise NotFound("No such export (or it expired); ask for it again.",
                       {"name": ["not found"]})
    return _pending(key, str(state))


class SummaryQuery(SelectionQuery):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


SUMMARY_QUERY = SummaryQuery()


@bp.get("/summary")
@operation("get", "Volume, backlog, times to acknowledge and resolve, share past target",
           tag="analytics", ok={200: "The figures as JSON or CSV"}, query="SummaryQuery")
def summary() -> Response:
    """Service-level figures."""
    require_analytics(staff_user())
    query = load(SUMMARY_QUERY, request.args)
    snap = snapshot()
    figures = service_figures.summary(read_session(), selection_from(query, snap), snap,
                                      request_locale())
    figures["generated_at"] = datetime.now(UTC)
    if query["format"] == "json":
        response = jsonify(figures)
    else:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(service_figures.summary_rows(figures))
        response = Response(out.getvalue(), content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'attachment; filename="summary.csv"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


class AssetRankingQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    from_ = DateOrDateTime(data_key="from", load_default=None,
                           metadata={"description": "Reports created at or after"})
    to = DateOrDateTime(load_default=None, metadata={"description": "Created before"})
    type = fields.String(load_default=None, validate=validate.Length(min=1, max=64), metadata={
        "description": "An asset type's code, e.g. traffic_signal"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))

    @validates_schema(skip_on_field_errors=False)
    def check(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] >= data["to"]:
            raise ValidationError({"to": ["must be after from"]})


ASSET_RANKING_QUERY = AssetRankingQuery()


@bp.get("/assets")
@operation("get", "The most-reported assets (signals, sign posts): per asset its reports in the "
           "window, the open ones, the median hours to fix (resolved minus created) and the "
           "last report (analysts)", tag="analytics", query="AssetRankingQuery")
def assets() -> Response:
    """Reports per asset."""
    require_analytics(staff_user())
    query = load(ASSET_RANKING_QUERY, request.args)
    ranked = asset_figures.most_reported_assets(read_session(), query["from_"], query["to"],
                                                query["type"], query["limit"])
    response = jsonify({
        "from": query["from_"], "to": query["to"], "type": query["type"],
        "assets": [{"asset": asset_ref(f.asset), "reports": f.reports, "open": f.open,
                    "median_hours_to_fix": f.median_hours_to_fix,
                    "last_report_at": f.last_report_at} for f in ranked],
        "generated_at": datetime.now(UTC),
    })
    response.headers["Cache-Control"] = "private, no-cache"
    return response
