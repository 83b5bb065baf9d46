"""Answers assembled from pre-rendered fragments: expansion for the caller's language and our
base URL, a strong ETag computed before any expansion, and 304 without assembling anything."""

from __future__ import annotations

import gzip
from collections.abc import Callable

from flask import Response, request

from backend.api.context import settings, snapshot
from backend.api.request_io import request_locale
from backend.services.city_cache import CitySnapshot
from backend.services.public_views.markers import Expansion
from backend.services.public_views.read import etag, expansion

# Public data: anyone may cache it, but must ask whether it changed before using it again.
REVALIDATE = "public, no-cache"
# The city's catalogue (categories, services): changes rarely; a minute's reuse is harmless.
CATALOGUE = "public, max-age=60"
_catalogues: dict[tuple[str, tuple[str, str], str, str], tuple[bytes, str, bytes]] = {}


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


def catalogue_answer(name: str, build: Callable[[CitySnapshot, str], bytes],
                     mimetype: str = "application/json") -> Response:
    """An answer that depends only on the city's configuration and the language, built once
    per configuration version (the version probe needs no session), with an ETag; gzipped
    (compressed once, with the answer) when the client accepts it."""
    snap, locale = snapshot(), request_locale()
    key = (name, snap.versions, locale, settings().base_url)
    found = _catalogues.get(key)
    if found is None:
        if len(_catalogues) > 64:
            _catalogues.clear()
        body = build(snap, locale)
        found = _catalogues[key] = (body, etag(*map(str, key), body),
                                    gzip.compress(body, compresslevel=9, mtime=0))
    body, tag, packed = found
    cached = not_modified(tag, CATALOGUE)
    if cached is not None:
        return cached
    # nginx passes API answers through as they are: the district outlines (the map's base
    # layer on every first visit) are ≈ 48 KB plain and ≈ 9 KB gzipped.
    compress = "gzip" in request.headers.get("Accept-Encoding", "") and len(packed) < len(body)
    response = fragment_answer(packed if compress else body, tag, mimetype, CATALOGUE)
    if compress:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


__all__ = ["CATALOGUE", "REVALIDATE", "catalogue_answer", "current_expansion", "etag",
           "fragment_answer", "not_modified"]
