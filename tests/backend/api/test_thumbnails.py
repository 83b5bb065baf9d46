"""List and nearby results carry the first photo's thumbnail once it is ready."""

from __future__ import annotations

from typing import Any

from backend.settings import Settings
from tests.backend.api.helpers import create_with_photo
from workers.runner import make_worker


def test_nearby_and_list_show_a_thumbnail_once_the_photo_is_ready(
    client: Any, settings: Settings,
) -> None:
    created = create_with_photo(client)
    nearby_url = "/api/v1/reports/nearby?lat=48.1374&lon=11.5755&category=schild-verdreht"
    assert client.get(nearby_url).get_json()["features"][0]["properties"]["thumb"] is None
    make_worker(settings).work(burst=True)
    thumb = client.get(nearby_url).get_json()["features"][0]["properties"]["thumb"]
    listed = client.get("/api/v1/reports").get_json()["features"][0]["properties"]["thumb"]
    assert thumb == listed and thumb.endswith(".jpg")
    public = client.get(f"/api/v1/reports/{created['id']}").get_json()
    assert thumb == public["photos"][0]["thumb"]["jpeg"]
    image = client.get(thumb.replace(settings.base_url, ""))
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
