"""A full-size phone photo is shrunk in the browser before it is sent (pwa/app/photos.js).

Every other browser test picks a 640×480 camera photo, which photos.js leaves at its size.
Here full-size phone photos from the shared data go through the citizen report form in
Chromium, and the test reads the bytes Chromium actually put on the wire and what the
server stored and processed:

- the largest phone JPEG there, HMD Nokia 8.3 5G, 4608×1976 (9.1 MP, 2.2 MB, EXIF GPS in
  Finland), as the camera wrote it;
- a 12-megapixel iPhone photo: the shared data has it only as HEIC (iPhone 13 Pro Max,
  3024×4032), which Chromium cannot decode and sends unchanged; the test saves it as JPEG
  with its EXIF block (what an iPhone set to "Most Compatible" writes), 12.2 MP, portrait.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from backend.models import Photo, PhotoStatus, Report
from tests.pwa.conftest import LiveServer, running_server, screenshot, server_session
from tests.shared_data import shared_data_dir
from workers.runner import make_worker

MAX_SIDE = 2048  # photos.js MAX_SIDE: the long side the app promises at most


def _nokia_jpeg(tmp_path: Path) -> Path:
    return shared_data_dir() / "photos" / "mobile" / "HMD_Nokia_8.3_5G.jpg"


def _iphone_as_jpeg(tmp_path: Path) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    path = tmp_path / "IMG_0001.jpg"
    with Image.open(shared_data_dir() / "photos" / "mobile" / "iphone_13_pro_max.HEIC") as heic:
        heic.save(path, "JPEG", quality=92, exif=heic.info["exif"])
    return path


# (the photo, its pixel size, the size photos.js must send: long side MAX_SIDE, same aspect)
PHOTOS = {
    "nokia-9mp-jpeg": (_nokia_jpeg, (4608, 1976), (MAX_SIDE, round(1976 * MAX_SIDE / 4608))),
    "iphone-12mp-jpeg": (_iphone_as_jpeg, (3024, 4032), (round(3024 * MAX_SIDE / 4032), MAX_SIDE)),
}


class ReportPosts:
    """WSGI middleware that keeps the raw body and content type of each POST /api/v1/reports.

    Chromium hands DevTools (and so Playwright's request events) no body for a multipart
    upload made of Blobs, so the bytes on the wire are read where they arrive."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[tuple[str, bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/api/v1/reports":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            self.bodies.append((environ.get("CONTENT_TYPE", ""), body))
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


@pytest.fixture
def live_server(database_url: str, tmp_path: Path, redis_url: str) -> Iterator[LiveServer]:
    """The product on loopback, keeping photo originals, recording what report posts carry."""
    with running_server(database_url, tmp_path, redis_url, keep_photo_originals=True) as server:
        server.app.wsgi_app = ReportPosts(server.app.wsgi_app)  # type: ignore[method-assign]
        yield server


def _uploaded_photos(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """The `photos` parts (file name, bytes) of a multipart/form-data request body."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    return [(part.get_filename(), part.get_payload(decode=True)) for part in message.iter_parts()
            if part.get_param("name", header="content-disposition") == "photos"]


@pytest.mark.parametrize("photo", PHOTOS, ids=list(PHOTOS))
def test_a_full_size_phone_photo_is_shrunk_in_the_browser_before_upload(
    phone: Any, live_server: LiveServer, tmp_path: Path, photo: str,
) -> None:
    make, full_size, expected = PHOTOS[photo]
    source = make(tmp_path)
    with Image.open(source) as original:
        assert original.format == "JPEG" and original.size == full_size
        assert original.getexif().get(0x0112, 1) == 1  # upright: no EXIF rotation to apply

    phone.goto("/report")
    phone.click("#locate-me")
    phone.wait_for_function("document.querySelector('#location-summary').classList.contains('is-set')")
    phone.check("input[name='group'][value='schild']", force=True)
    phone.check("input[name='category'][value='schild-fehlt']", force=True)
    phone.set_input_files("#photos", str(source))
    preview = phone.wait_for_selector("#photo-previews li.photo-preview img", timeout=20000)
    # The preview shows the shrunk copy the app will send, not the full-size file.
    phone.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=preview)
    assert preview.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == list(expected)
    phone.fill("#description", "Das Vorfahrtsschild an der Kreuzung fehlt.")
    screenshot(phone, f"de-photo-downscale-{photo}")
    phone.click("#submit-report")
    phone.wait_for_selector("#confirmation", state="visible", timeout=30000)
    report_id = phone.text_content("#confirmation-id").strip()

    # What Chromium put on the wire: one JPEG of the promised size, EXIF (and its GPS) gone.
    posts = live_server.app.wsgi_app.bodies
    assert len(posts) == 1, len(posts)
    content_type, body = posts[0]
    ((name, sent),) = _uploaded_photos(body, content_type)
    assert name == source.name
    with Image.open(io.BytesIO(sent)) as image:
        assert image.format == "JPEG"
        assert image.size == expected
        assert not image.getexif()  # re-encoding dropped the EXIF block, GPS included
    assert len(sent) < source.stat().st_size / 3, (len(sent), source.stat().st_size)

    # What the server stored is exactly those bytes; the worker then makes the public copies.
    for session in server_session(live_server):
        report = session.scalar(select(Report).where(Report.public_id == report_id))
        (stored,) = session.scalars(select(Photo).where(Photo.report_id == report.id))
        assert stored.original_sha256 == hashlib.sha256(sent).hexdigest()
        assert (stored.width, stored.height) == expected
        assert stored.original_size == len(sent)
        assert stored.content_type == "image/jpeg"
        assert stored.exif_lat is None and stored.exif_lon is None
    make_worker(live_server.app.extensions["mm_settings"]).work(burst=True)
    for session in server_session(live_server):
        photo = session.scalar(select(Photo).where(Photo.report_id == report.id))
        assert photo.status == PhotoStatus.READY, (photo.status, photo.failure_reason)
        sizes = {(d.name, d.format): (d.width, d.height) for d in photo.derivatives}
        assert sizes and all(max(size) <= MAX_SIDE for size in sizes.values()), sizes
    shown = phone.request.get(f"/api/v1/reports/{report_id}").json()
    (public,) = shown["photos"]
    display = public["display"]
    assert max(display["width"], display["height"]) <= MAX_SIDE
    assert display["jpeg"].startswith(live_server.url)
    served = phone.request.get(display["jpeg"])
    assert served.ok, display["jpeg"]
    with Image.open(io.BytesIO(served.body())) as image:
        assert image.size == (display["width"], display["height"])
