"""GET /api/v1/districts/outlines: the base layer of maps without tiles."""

from __future__ import annotations

import gzip
from typing import Any

import shapely
from shapely.geometry import shape


def test_every_district_with_its_label_inside_and_the_city_boundary(client: Any) -> None:
    response = client.get("/api/v1/districts/outlines")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert len(response.data) < 80_000  # simplified: light enough for a phone
    body = response.get_json()
    districts = [f for f in body["features"] if f["properties"]["kind"] == "district"]
    city = [f for f in body["features"] if f["properties"]["kind"] == "city"]
    assert len(districts) == 25 and len(city) == 1
    names = {f["properties"]["number"]: f["properties"]["name"] for f in districts}
    assert names["01"] == "Altstadt-Lehel"
    for feature in districts:
        polygon = shape(feature["geometry"])
        label = shapely.Point(feature["properties"]["label_lon"],
                              feature["properties"]["label_lat"])
        assert polygon.buffer(1e-4).contains(label), feature["properties"]["name"]
    marienplatz = shapely.Point(11.5755, 48.1374)
    assert shape(city[0]["geometry"]).distance(marienplatz) > 0.02  # the boundary, not a fill
    tag = response.headers["ETag"]
    assert client.get("/api/v1/districts/outlines",
                      headers={"If-None-Match": tag}).status_code == 304


def test_outlines_and_categories_are_gzipped_for_a_browser_and_plain_otherwise(client: Any) -> None:
    # Every first visit downloads the outlines: ≈ 48 KB plain, ≈ 10 KB gzipped (issue 22.1).
    for path in ("/api/v1/districts/outlines", "/api/v1/categories"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert "Content-Encoding" not in plain.headers
        assert packed.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.data) == plain.data
        assert packed.headers["ETag"] == plain.headers["ETag"]
    outlines = client.get("/api/v1/districts/outlines", headers={"Accept-Encoding": "gzip"})
    assert len(outlines.data) < 15_000
