"""An optional geocoder (Photon- or Nominatim-compatible) asked by this server only.

What the citizen typed goes to the geocoder the city configured and nowhere else: no client
address, user agent or cookie of theirs is sent, the search is restricted to the city's
bounding box, answers are cached in the process (bounded), and a failure is logged once per
outage, without the query text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import requests

from backend.services.addresses.normalize import fold
from backend.services.addresses.search import Place

log = logging.getLogger(__name__)
KINDS = ("photon", "nominatim")
CACHE_SECONDS = 600.0
USER_AGENT = "Maengelmelder address search"
# Photon's `type` / Nominatim's `addresstype` → our kinds.
KIND_NAMES = {"house": "address", "building": "address", "street": "street", "road": "street",
              "place": "place", "amenity": "place", "locality": "place", "district": "area",
              "city": "area", "suburb": "area", "quarter": "area", "neighbourhood": "area"}


class GeocoderFailed(Exception):
    """The geocoder did not answer usefully (timeout, HTTP error, unreadable answer)."""


@dataclass(frozen=True)
class GeocoderConfig:
    """Where the geocoder is, what it speaks, and how long to wait for it."""

    url: str
    kind: str = "photon"
    timeout_s: float = 1.5
    cache_size: int = 512
    contact: str = ""  # sent in the user agent (Nominatim's usage policy asks for one)


class Geocoder:
    """One geocoder with its cache and outage state; safe to share between threads."""

    def __init__(self, config: GeocoderConfig) -> None:
        if config.kind not in KINDS:
            raise ValueError(f"MM_GEOCODER_KIND must be one of {', '.join(KINDS)}")
        self.config = config
        self._cache: OrderedDict[tuple, tuple[float, list[Place]]] = OrderedDict()
        self._lock = threading.Lock()
        self._failing = False
        # A session of our own: cookies a geocoder sets are dropped after every call; no
        # .netrc credentials (trust_env off), but the HTTP(S)_PROXY of the host still apply.
        self._http = requests.Session()
        self._http.trust_env = False

    def search(self, query: str, limit: int, box: tuple[float, float, float, float]
               ) -> list[Place]:
        """Places for `query` inside the lon/lat box (minx, miny, maxx, maxy); raises
        GeocoderFailed (logged once per outage, never with the query)."""
        key = (fold(query), limit, box)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < CACHE_SECONDS:
                self._cache.move_to_end(key)
                return cached[1]
        try:
            places = self._ask(query, limit, box)
        except GeocoderFailed as exc:
            with self._lock:
                first, self._failing = not self._failing, True
            if first:
                log.warning("geocoder %s failed (%s); address search answers from the "
                            "register until it is back", self.config.kind, exc)
            raise
        with self._lock:
            if self._failing:
                log.info("geocoder %s answers again", self.config.kind)
            self._failing = False
            self._cache[key] = (now, places)
            self._cache.move_to_end(key)
            while len(self._cache) > self.config.cache_size:
                self._cache.popitem(last=False)
        return places

    def _ask(self, query: str, limit: int, box: tuple[float, float, float, float]
             ) -> list[Place]:
        minx, miny, maxx, maxy = box
        base = self.config.url.rstrip("/")
        if self.config.kind == "photon":
            url = f"{base}/api"
            params: dict[str, str | int] = {"q": query, "limit": limit, "lang": "de",
                                            "bbox": f"{minx},{miny},{maxx},{maxy}"}
        else:
            url = f"{base}/search"
            params = {"q": query, "format": "jsonv2", "limit": limit, "addressdetails": 1,
                      "bounded": 1, "viewbox": f"{minx},{maxy},{maxx},{miny}"}
        agent = f"{USER_AGENT} ({self.config.contact})" if self.config.contact else USER_AGENT
        try:
            response = self._http.get(url, params=params, timeout=self.config.timeout_s,
                                      proxies=requests.utils.get_environ_proxies(url),
                                      headers={"User-Agent": agent, "Accept": "application/json"},
                                      allow_redirects=False)
            self._http.cookies.clear()
            if response.status_code != 200:
                raise GeocoderFailed(f"HTTP {response.status_code}")
            data = response.json()
            parsed = (_photon(data) if self.config.kind == "photon" else _nominatim(data))
        except requests.RequestException as exc:
            raise GeocoderFailed(exc.__class__.__name__) from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise GeocoderFailed(f"unreadable answer ({exc.__class__.__name__})") from None
        return [p for p in parsed if minx <= p.lon <= maxx and miny <= p.lat <= maxy]


def _label(street: str, number: str, name: str, postcode: str, city: str) -> str:
    first = f"{street} {number}".strip() if street else name
    if name and street and name != first:
        first = f"{name}, {first}"
    town = " ".join(part for part in (postcode, city) if part)
    return ", ".join(part for part in (first, town) if part)


def _photon(data: dict) -> list[Place]:
    places = []
    for feature in data["features"]:
        props = feature.get("properties") or {}
        lon, lat = (float(v) for v in feature["geometry"]["coordinates"][:2])
        kind = KIND_NAMES.get(str(props.get("type", "")), "place")
        if props.get("housenumber"):
            kind = "address"
        label = _label(str(props.get("street") or ""), str(props.get("housenumber") or ""),
                       str(props.get("name") or ""), str(props.get("postcode") or ""),
                       str(props.get("city") or ""))
        if label:
            places.append(Place(label, lon, lat, kind, "geocoder"))
    return places


def _nominatim(data: list) -> list[Place]:
    places = []
    for item in data:
        address = item.get("address") or {}
        kind = KIND_NAMES.get(str(item.get("addresstype") or item.get("type") or ""), "place")
        if address.get("house_number"):
            kind = "address"
        city = address.get("city") or address.get("town") or address.get("village") or ""
        label = _label(str(address.get("road") or ""), str(address.get("house_number") or ""),
                       str(item.get("name") or ""), str(address.get("postcode") or ""),
                       str(city)) or str(item.get("display_name") or "")
        if label:
            places.append(Place(label, float(item["lon"]), float(item["lat"]), kind,
                                "geocoder"))
    return places
