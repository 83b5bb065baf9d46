"""GET /api/v1/districts/outlines: the base layer of maps without tiles."""

from __future__ import annotations

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
