"""A tiny real geocoder on loopback speaking Photon's `/api` and Nominatim's `/search`.

It knows a few places, matches `q` case-insensitively against their labels, honours the
bounding box (Photon `bbox`, Nominatim `viewbox` + `bounded=1`) only when `honour_box` is set
(a careless geocoder is what the server must guard against), records every request with
its headers, sets a cookie on every answer, and can be told to fail or to answer late.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass(frozen=True)
class KnownPlace:
    """A place the geocoder knows."""

    street: str
    housenumber: str
    postcode: str
    city: str
    lon: float
    lat: float
    type: str = "house"  # Photon's type / Nominatim's addresstype
    name: str = ""

    @property
    def text(self) -> str:
        return f"{self.name} {self.street} {self.housenumber} {self.postcode} {self.city}".lower()


@dataclass
class Request:
    """One request the geocoder received."""

    path: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-cased names


@dataclass
class GeocoderPeer:
    """The server; use as a context manager."""

    places: list[KnownPlace]
    honour_box: bool = False
    status: int = 200
    delay_s: float = 0.0
    requests: list[Request] = field(default_factory=list)

    def __enter__(self) -> GeocoderPeer:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                peer.requests.append(Request(url.path, params,
                                             {k.lower(): v for k, v in self.headers.items()}))
                if peer.delay_s:
                    time.sleep(peer.delay_s)
                if url.path not in ("/api", "/search") or peer.status != 200:
                    self._send(peer.status if peer.status != 200 else 404, b"{}")
                    return
                found = peer.matches(params, photon=url.path == "/api")
                body = (peer.photon(found) if url.path == "/api" else peer.nominatim(found))
                self._send(200, json.dumps(body).encode())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Set-Cookie", "tracker=1; Path=/")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def matches(self, params: dict[str, str], *, photon: bool) -> list[KnownPlace]:
        words = params.get("q", "").lower().replace(",", " ").split()
        found = [p for p in self.places if all(w in p.text for w in words)]
        if self.honour_box:
            if photon:
                minx, miny, maxx, maxy = (float(v) for v in params["bbox"].split(","))
            else:
                minx, maxy, maxx, miny = (float(v) for v in params["viewbox"].split(","))
            found = [p for p in found if minx <= p.lon <= maxx and miny <= p.lat <= maxy]
        return found[:int(params.get("limit", "10"))]

    @staticmethod
    def photon(found: list[KnownPlace]) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
             "properties": {"osm_type": "N", "osm_id": 1, "type": p.type, "name": p.name or None,
                            "street": p.street, "housenumber": p.housenumber or None,
                            "postcode": p.postcode, "city": p.city, "country": "Deutschland"}}
            for p in found]}

    @staticmethod
    def nominatim(found: list[KnownPlace]) -> list[dict[str, Any]]:
        return [{"place_id": i, "lat": str(p.lat), "lon": str(p.lon), "category": "place",
                 "type": p.type, "addresstype": p.type, "name": p.name,
                 "display_name": f"{p.street} {p.housenumber}, {p.postcode} {p.city}",
                 "address": {"road": p.street, "house_number": p.housenumber,
                             "postcode": p.postcode, "city": p.city}}
                for i, p in enumerate(found)]
