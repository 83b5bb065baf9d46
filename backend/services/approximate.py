"""Approximate locations: a report placed only by district (no map, no GPS, no address)
carries the review flag `approximate_location`; everything that shows a report's point says
so, and the distance-based duplicate search leaves such reports out."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, func

from backend.models import Report

# The reporter chose only a district: staff should look for the place.
APPROXIMATE_LOCATION = "approximate_location"


def approximate(review_flags: Any) -> bool:
    """Whether stored review flags (a list, or JSON text as SQLite hands it back) mark the
    report's point as approximate."""
    if isinstance(review_flags, str):
        review_flags = json.loads(review_flags)
    return APPROXIMATE_LOCATION in (review_flags or ())


def exact_location() -> ColumnElement[bool]:
    """SQL: the report's point is not approximate (works on JSON stored by both backends)."""
    return func.coalesce(cast(Report.review_flags, Text), "").not_like(
        f'%"{APPROXIMATE_LOCATION}"%')
