"""Answers assembled from pre-rendered fragments: expansion for the caller's language and our
base URL, a strong ETag computed before any expansion, and 304 without assembling anything."""

from __future__ import annotations

from flask import Response, request

from backend.api.context import settings, snapshot
from backend.api.request_io import request_locale
from backend.services.public_views.markers import Expansion
from backend.services.public_views.read import etag, expansion

# Public data: anyone may cache it, but must ask whether it changed before using it again.
REVALIDATE = "public, no-cache"


def current_expansion() -> tuple[Expansion, str]:
    """The expansion for this request, and a key that names it (for ETags)."""
    snap, locale, base = snapshot(), request_locale(), settings().base_url
    return expansion(snap, locale, base), f"{snap.versions}|{locale}|{base}"


def not_modified(tag: str, cache_control: str = REVALIDATE) -> Response | None:
    """304 when the client's If-None-Match names `tag` (a proxy may have weakened it)."""
    if request.if_none_match and request.if_none_match.contains_weak(tag):
        return Response(status=304, headers={"ETag": f'"{tag}"', "Cache-Control": cache_control})
    return None


def fragment_answer(body: bytes, tag: str | None, mimetype: str = "application/json",
                    cache_control: str = REVALIDATE) -> Response:
    """A 200 with the assembled body."""
    response = Response(body, mimetype=mimetype)
    if tag is not None:
        response.headers["ETag"] = f'"{tag}"'
    response.headers["Cache-Control"] = cache_control
    return response


__all__ = ["REVALIDATE", "current_expansion", "etag", "fragment_answer", "not_modified"]
