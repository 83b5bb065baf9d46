"""rq jobs for analysts: build an export file the API promised with a 202."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.services import heatmap_export
from workers.context import job_context


def build_heatmap(request: dict[str, Any], key: str) -> str:
    """Build the heatmap file under `key` (nothing to do when it exists already)."""
    ctx = job_context()
    with Session(ctx.engine) as session:
        heatmap_export.build_into(session, ctx.storage,
                                  heatmap_export.HeatmapRequest.from_dict(request), key)
    return key
