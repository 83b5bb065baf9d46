"""GET /api/v1/reports/clusters: the zoomed-out public map, as counts per grid cell."""

from __future__ import annotations

from flask import Blueprint, Response, request

from backend.api.context import map_index, reader, snapshot
from backend.api.fragment_answers import etag, fragment_answer, not_modified
from backend.api.query_schemas import ClusterQuery
from backend.api.request_io import load
from backend.services.public_map.clusters import ClusterFilter, clusters_in
from backend.services.public_map.points import micros_or_none
from backend.services.report_queries import category_ids as category_ids_of
from backend.workflow import expand_status_filter

bp = Blueprint("report_clusters", __name__, url_prefix="/api/v1")
CLUSTER_QUERY_SCHEMA = ClusterQuery()


@bp.get("/reports/clusters")
def report_clusters() -> Response:
    """Reports per map cell.
    ---
    get:
      summary: "The map zoomed out: reports counted per grid cell (64 px at the zoom level)"
      description: >
        Instead of hundreds of pins, one point per non-empty cell of the viewport at the mean
        position of its reports, with the count and the cell's bounds. Same filters as the
        report list; an ETag changes with any report that could change the answer.
      parameters:
        - in: query
          schema: ClusterQuery
      responses:
        200:
          description: A FeatureCollection of cells
          content:
            application/geo+json:
              schema: ClusterCollectionSchema
        304:
          description: Unchanged since the ETag sent in If-None-Match
        422: {$ref: '#/components/responses/Error'}
    """
    args = load(CLUSTER_QUERY_SCHEMA, request.args)
    category_ids = category_ids_of(snapshot(), args["category"]) if args["category"] else None
    statuses = (frozenset(s.value for s in expand_status_filter(args["status"]))
                if args["status"] else None)
    flt = ClusterFilter(args["zoom"], statuses, category_ids,
                        micros_or_none(args["updated_after"]))
    features, total = clusters_in(map_index().cells(reader(), flt), flt.zoom, args["bbox"])
    joined = b",".join(features)
    tag = etag(joined, str(total))
    answer = not_modified(tag)
    if answer is not None:
        return answer
    body = (b'{"type":"FeatureCollection","features":[' + joined
            + b'],"zoom":%d,"total":%d}' % (flt.zoom, total))
    return fragment_answer(body, tag, "application/geo+json")
