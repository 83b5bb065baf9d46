"""Photo checks and derivatives on real phone and camera photos and on crafted hostile files."""

from __future__ import annotations

import hashlib
import io
import pickle
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.media.imaging import (
    ACCEPTED,
    DISPLAY_MAX,
    THUMB_MAX,
    Derivative,
    InspectedPhoto,
    PhotoRejected,
    inspect_photo,
    render_derivatives,
    render_naive,
    sniff_format,
)
from tests.shared_data import shared_data_dir

NOKIA = "mobile/HMD_Nokia_8.3_5G.jpg"
IPHONE = "mobile/iphone_13_pro_max.HEIC"
KANSAS = "mobile/IMG_5195.HEIC"
JOLLA = "mobile/jolla.jpg"

# Metadata signatures that must never appear in a derivative's bytes.
FORBIDDEN = (
    b"Exif\x00\x00",
    b"http://ns.adobe.com/xap/1.0/",
    b"<x:xmpmeta",
    b"Photoshop 3.0",
    b"8BIM",
    b"ICC_PROFILE",
)
# JPEG markers a bare JFIF file needs: SOI, APP0, DQT, SOF0-2, DHT, DRI, SOS, EOI.
ALLOWED_JPEG_MARKERS = {0xD8, 0xE0, 0xDB, 0xC0, 0xC1, 0xC2, 0xC4, 0xDD, 0xDA, 0xD9}


# --- fixtures: each big photo is decoded once per module ----------------------------------------


@pytest.fixture(scope="module")
def photos() -> Path:
    """The shared photo collection (skips when absent, fails in CI)."""
    return shared_data_dir() / "photos"


@pytest.fixture(scope="module")
def read(photos: Path) -> Callable[[str], bytes]:
    """Bytes of a shared photo by its path below photos/."""
    return lambda name: (photos / name).read_bytes()


@pytest.fixture(scope="module")
def rendered(read: Callable[[str], bytes]) -> Callable[[str], list[Derivative]]:
    """render_derivatives of a shared photo, computed once per module (HEIC decodes are slow)."""
    cache: dict[str, list[Derivative]] = {}

    def get(name: str) -> list[Derivative]:
        if name not in cache:
            cache[name] = render_derivatives(read(name))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def inspected(read: Callable[[str], bytes]) -> Callable[[str], InspectedPhoto]:
    """inspect_photo of a shared photo, computed once per module."""
    cache: dict[str, InspectedPhoto] = {}

    def get(name: str) -> InspectedPhoto:
        if name not in cache:
            cache[name] = inspect_photo(read(name))
        return cache[name]

    return get


# --- helpers ------------------------------------------------------------------------------------


def pick(derivatives: list[Derivative], name: str, fmt: str) -> Derivative:
    """The one derivative with that name and format."""
    [found] = [d for d in derivatives if d.name == name and d.format == fmt]
    return found


def pixels(derivative: Derivative) -> np.ndarray:
    """Decoded RGB pixels of a derivative as a signed array (for differences)."""
    with Image.open(io.BytesIO(derivative.data)) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


def encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    """Image bytes in a format, as Pillow writes them."""
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk with its CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bilevel_png(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: a few KB on disk, width*height pixels once decoded."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 256) for _ in range(height // 256)]
    parts += [compressor.compress(row * (height % 256)), compressor.flush()]
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", b"".join(parts))
        + png_chunk(b"IEND", b"")
    )


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """Walk a JPEG's marker segments: (marker, payload), entropy-coded data skipped."""
    assert data[:2] == b"\xff\xd8", "no SOI"
    segments: list[tuple[int, bytes]] = [(0xD8, b"")]
    i = 2
    while True:
        assert data[i] == 0xFF, f"no marker at {i}"
        while data[i] == 0xFF:  # fill bytes
            i += 1
        marker = data[i]
        i += 1
        if marker == 0xD9:
            segments.append((marker, b""))
            assert i == len(data), "bytes after EOI"
            return segments
        length = int.from_bytes(data[i : i + 2], "big")
        segments.append((marker, data[i + 2 : i + length]))
        i += length
        if marker == 0xDA:
            # Skip the scan: 0xFF is followed by 0x00 (stuffing) or RSTn inside it.
            while True:
                i = data.index(b"\xff", i)
                following = data[i + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    i += 2
                    continue
                break


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Walk a WebP's RIFF chunks: (fourcc, payload)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert int.from_bytes(data[4:8], "little") + 8 == len(data)
    chunks, i = [], 12
    while i < len(data):
        size = int.from_bytes(data[i + 4 : i + 8], "little")
        chunks.append((data[i : i + 4], data[i + 8 : i + 8 + size]))
        i += 8 + size + (size & 1)
    assert i == len(data)
    return chunks


def assert_no_metadata(derivative: Derivative) -> None:
    """Nothing but pixels: checked on the bytes, then through Pillow."""
    data = derivative.data
    for signature in FORBIDDEN:
        assert signature not in data, (derivative.name, derivative.format, signature)
    if derivative.format == "jpeg":
        segments = jpeg_segments(data)
        markers = {marker for marker, _ in segments}
        assert markers <= ALLOWED_JPEG_MARKERS, sorted(hex(m) for m in markers)
        assert all(p.startswith(b"JFIF\x00") for m, p in segments if m == 0xE0)
    else:
        chunks = webp_chunks(data)
        assert {kind for kind, _ in chunks} <= {b"VP8 ", b"VP8L", b"VP8X"}, chunks
        for kind, payload in chunks:
            if kind == b"VP8X":
                # Flag bits: 0x20 ICC, 0x08 EXIF, 0x04 XMP, 0x02 animation.
                assert payload[0] & 0x2E == 0
    with Image.open(io.BytesIO(data)) as img:
        assert len(img.getexif()) == 0
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(img.info)
        assert img.size == (derivative.width, derivative.height)


def rejection(call: Callable[[], object]) -> PhotoRejected:
    """The PhotoRejected a call raises."""
    with pytest.raises(PhotoRejected) as caught:
        call()
    return caught.value


# --- sniffing -----------------------------------------------------------------------------------


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    """An ISO-BMFF file type box as HEIF and AVIF files start with."""
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00\x00\x00\x08meta"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (ftyp(b"heic", b"mif1", b"heic"), "heif"),
        (ftyp(b"mif1", b"mif1", b"heic", b"miaf"), "heif"),
        (ftyp(b"heix", b"mif1"), "heif"),
        (ftyp(b"msf1", b"hevc"), "heif"),
        (ftyp(b"avif", b"mif1", b"miaf"), None),
        (ftyp(b"mif1", b"avif", b"miaf"), None),
        (ftyp(b"isom", b"mp41"), None),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b"BM6\x00\x00\x00\x00\x00", None),
        (b"II*\x00\x08\x00\x00\x00", None),
        (b"MM\x00*\x00\x00\x00\x08", None),
        (b"%PDF-1.7\n", None),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"hello", None),
        (b"", None),
    ],
)
def test_sniff_format_reads_magic_bytes_only(head: bytes, expected: str | None) -> None:
    assert sniff_format(head) == expected


def test_real_heic_files_sniff_as_heif(read: Callable[[str], bytes]) -> None:
    assert sniff_format(read(IPHONE)[:64]) == "heif"
    assert sniff_format(read(KANSAS)[:64]) == "heif"


# --- orientation: compare pixels, not tags ------------------------------------------------------


def _display_pixels(rendered: Callable[[str], list[Derivative]], name: str) -> np.ndarray:
    return pixels(pick(rendered(name), "display", "jpeg"))


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(
    rendered: Callable[[str], list[Derivative]], kind: str, orientation: int
) -> None:
    reference = _display_pixels(rendered, f"orientation/{kind}_1.jpg")
    result = _display_pixels(rendered, f"orientation/{kind}_{orientation}.jpg")
    assert result.shape == reference.shape
    # Measured: about 5 levels (JPEG noise, plus the files' Generic RGB profile converted to
    # sRGB while _1 has none); a wrongly turned image differs by 40 or more.
    assert np.abs(result - reference).mean() < 12


@pytest.mark.parametrize("kind", ["landscape", "portrait"])
def test_the_orientation_metric_tells_a_wrong_rotation_apart(
    rendered: Callable[[str], list[Derivative]], kind: str
) -> None:
    reference = _display_pixels(rendered, f"orientation/{kind}_1.jpg")
    good = _display_pixels(rendered, f"orientation/{kind}_6.jpg")
    for wrong in (good[::-1, ::-1], good[:, ::-1], good[::-1, :]):
        assert np.abs(wrong - reference).mean() > 25


# The inverse of what each EXIF orientation asks a viewer to do, to make a "camera" file.
INVERSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@pytest.fixture(scope="module")
def big_upright() -> Image.Image:
    """A 3600x2000 picture of coloured blocks: large enough that rendering uses JPEG draft."""
    blocks = np.random.default_rng(7).integers(0, 256, size=(10, 18, 3), dtype=np.uint8)
    return Image.fromarray(blocks, "RGB").resize((3600, 2000), Image.Resampling.NEAREST)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_is_right_when_decoding_at_reduced_scale(
    big_upright: Image.Image, orientation: int
) -> None:
    transpose = INVERSE[orientation]
    stored = big_upright.transpose(transpose) if transpose is not None else big_upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(stored, "JPEG", quality=90, exif=exif)
    display = pick(render_derivatives(data), "display", "jpeg")
    assert (display.width, display.height) == (1600, 889)
    expected = np.asarray(big_upright.resize((1600, 889), Image.Resampling.LANCZOS), np.int16)
    assert np.abs(pixels(display) - expected).mean() < 6
    assert (inspect_photo(data).width, inspect_photo(data).height) == (3600, 2000)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_inspect_reports_upright_dimensions(
    inspected: Callable[[str], InspectedPhoto], orientation: int
) -> None:
    photo = inspected(f"orientation/landscape_{orientation}.jpg")
    assert (photo.width, photo.height) == (600, 450)


# --- facts --------------------------------------------------------------------------------------


def test_gps_is_read_from_every_nikon_photo(
    photos: Path, inspected: Callable[[str], InspectedPhoto]
) -> None:
    names = sorted(f"gps/{p.name}" for p in (photos / "gps").glob("*.jpg"))
    assert len(names) == 9
    for name in names:
        facts = inspected(name).facts
        assert facts.place is not None, name
        assert 43.46 <= facts.place.lat <= 43.47 and 11.87 <= facts.place.lon <= 11.89, name
        assert facts.taken_at is not None, name


def test_capture_time_is_read_where_the_file_has_one(
    photos: Path, inspected: Callable[[str], InspectedPhoto]
) -> None:
    for folder in ("cameras", "gps"):
        for path in sorted((photos / folder).iterdir()):
            assert inspected(f"{folder}/{path.name}").facts.taken_at is not None, path.name


def test_heic_gps_is_kansas_city(inspected: Callable[[str], InspectedPhoto]) -> None:
    place = inspected(KANSAS).facts.place
    assert place is not None
    assert 38.8 <= place.lat <= 39.4 and -95.0 <= place.lon <= -94.0


def test_nokia_gps_is_finland_with_aware_time(inspected: Callable[[str], InspectedPhoto]) -> None:
    facts = inspected(NOKIA).facts
    assert facts.place is not None
    assert 60 <= facts.place.lat <= 70 and 20 <= facts.place.lon <= 32
    assert facts.taken_at is not None and facts.taken_at.utcoffset() is not None
    assert facts.taken_at_offset == "+03:00"


def test_jolla_has_no_place_but_a_time(inspected: Callable[[str], InspectedPhoto]) -> None:
    facts = inspected(JOLLA).facts
    assert facts.place is None
    assert facts.taken_at is not None and facts.taken_at.tzinfo is None


def test_iphone_heic_time_is_aware(inspected: Callable[[str], InspectedPhoto]) -> None:
    facts = inspected(IPHONE).facts
    assert facts.place is None
    assert facts.taken_at_offset == "+01:00"


def test_inspect_describes_the_upload(
    read: Callable[[str], bytes], inspected: Callable[[str], InspectedPhoto]
) -> None:
    photo = inspected(NOKIA)
    assert (photo.format, photo.content_type) == ("jpeg", "image/jpeg")
    assert (photo.width, photo.height) == (4608, 1976)
    assert photo.size == len(read(NOKIA))
    assert len(photo.sha256) == 64
    heic = inspected(IPHONE)
    assert (heic.format, heic.content_type) == ("heif", ACCEPTED["heif"])
    assert (heic.width, heic.height) == (3024, 4032)


# --- derivatives --------------------------------------------------------------------------------


def test_nokia_derivatives_have_the_expected_sizes(
    rendered: Callable[[str], list[Derivative]],
) -> None:
    derivatives = rendered(NOKIA)
    assert [(d.name, d.format) for d in derivatives] == [
        ("display", "jpeg"),
        ("display", "webp"),
        ("thumb", "jpeg"),
        ("thumb", "webp"),
    ]
    for fmt in ("jpeg", "webp"):
        display, thumb = pick(derivatives, "display", fmt), pick(derivatives, "thumb", fmt)
        assert display.width == DISPLAY_MAX and abs(display.height - 687) <= 1
        assert max(thumb.width, thumb.height) == THUMB_MAX


def test_iphone_heic_display_is_upright_portrait(
    rendered: Callable[[str], list[Derivative]],
) -> None:
    # The HEIC stores a 4032x3024 landscape image plus a 90° rotation (irot); applying the EXIF
    # orientation on top would turn it back to landscape.
    for derivative in rendered(IPHONE):
        longest = DISPLAY_MAX if derivative.name == "display" else THUMB_MAX
        assert derivative.height == longest
        assert derivative.width == round(longest * 3024 / 4032)


def test_small_photos_are_never_upscaled(rendered: Callable[[str], list[Derivative]]) -> None:
    display = pick(rendered("cameras/Canon_40D.jpg"), "display", "jpeg")
    assert (display.width, display.height) == (100, 68)


@pytest.mark.parametrize(
    "name",
    [NOKIA, IPHONE, KANSAS, "gps/DSCN0010.jpg", "orientation/portrait_6.jpg"],
)
def test_derivatives_carry_no_metadata(
    rendered: Callable[[str], list[Derivative]], name: str
) -> None:
    for derivative in rendered(name):
        assert_no_metadata(derivative)
        assert derivative.sha256 == hashlib.sha256(derivative.data).hexdigest()


@pytest.mark.parametrize("folder", ["invalid", "cameras"])
def test_derivatives_of_odd_exif_files_carry_no_metadata(
    photos: Path, rendered: Callable[[str], list[Derivative]], folder: str
) -> None:
    names = sorted(f"{folder}/{p.name}" for p in (photos / folder).iterdir())
    assert names
    for name in names:
        for derivative in rendered(name):
            assert_no_metadata(derivative)


def test_rendering_is_deterministic(
    read: Callable[[str], bytes], rendered: Callable[[str], list[Derivative]]
) -> None:
    for name in (NOKIA, "orientation/landscape_6.jpg", "gps/DSCN0040.jpg"):
        again = render_derivatives(read(name))
        assert [d.sha256 for d in again] == [d.sha256 for d in rendered(name)], name


def test_png_alpha_is_composited_onto_white() -> None:
    img = Image.new("RGBA", (400, 200), (200, 0, 0, 255))
    img.paste((0, 0, 255, 0), (0, 0, 200, 200))  # left half: fully transparent blue
    derivatives = render_derivatives(encode(img, "PNG"))
    for fmt in ("jpeg", "webp"):
        rgb = pixels(pick(derivatives, "display", fmt))
        assert np.abs(rgb[20:180, 20:180] - 255).max() <= 3  # white, not blue or black
        assert np.abs(rgb[20:180, 220:380] - (200, 0, 0)).max() <= 12
    assert inspect_photo(encode(img, "PNG")).format == "png"


def test_embedded_icc_profile_is_converted_to_srgb(read: Callable[[str], bytes]) -> None:
    with Image.open(io.BytesIO(read("orientation/landscape_2.jpg"))) as tagged:
        generic_rgb = tagged.info["icc_profile"]  # Apple "Generic RGB", gamma 1.8
    grey = Image.new("RGB", (64, 64), (128, 128, 128))
    plain = pixels(pick(render_derivatives(encode(grey, "PNG")), "display", "jpeg"))
    converted = pixels(
        pick(render_derivatives(encode(grey, "PNG", icc_profile=generic_rgb)), "display", "jpeg")
    )
    assert abs(plain.mean() - 128) < 2
    # Gamma 1.8 grey 128 is lighter than sRGB grey 128: about 146 once converted.
    assert 138 < converted.mean() < 155


def test_cmyk_jpeg_becomes_rgb() -> None:
    derivatives = render_derivatives(encode(Image.new("CMYK", (64, 64), (255, 0, 0, 0)), "JPEG"))
    cyan = pixels(pick(derivatives, "display", "jpeg"))[32, 32]
    assert cyan[0] < 40 and cyan[1] > 215 and cyan[2] > 215


def test_fast_and_naive_pipelines_agree(
    read: Callable[[str], bytes], rendered: Callable[[str], list[Derivative]]
) -> None:
    for name in (NOKIA, "orientation/landscape_6.jpg"):
        naive = render_naive(read(name))
        for fast, slow in zip(rendered(name), naive, strict=True):
            assert (fast.name, fast.format) == (slow.name, slow.format)
            assert abs(fast.width - slow.width) <= 1 and abs(fast.height - slow.height) <= 1
            if (fast.width, fast.height) == (slow.width, slow.height):
                assert np.abs(pixels(fast) - pixels(slow)).mean() < 4, (name, fast.name)


# --- rejections ---------------------------------------------------------------------------------


def test_decompression_bomb_is_rejected_before_decoding() -> None:
    bomb = bilevel_png(20_000, 20_000)  # 400 megapixels in about 50 KB
    assert len(bomb) < 100_000
    for call in (inspect_photo, render_derivatives):
        error = rejection(lambda call=call: call(bomb))
        assert (error.status, error.code) == (422, "invalid_photo")
        assert "pixels" in error.message


def test_pixel_limit_is_ours_not_pillows_global() -> None:
    # 64 megapixels: below Pillow's global warning threshold, above our default limit.
    error = rejection(lambda: inspect_photo(bilevel_png(8_000, 8_000)))
    assert (error.status, error.code) == (422, "invalid_photo")
    assert "8000×8000" in error.message
    small = encode(Image.new("RGB", (100, 100)), "PNG")
    assert rejection(lambda: inspect_photo(small, max_pixels=9_999)).status == 422
    assert inspect_photo(small, max_pixels=10_000).width == 100


def test_text_file_named_jpg_is_unsupported() -> None:
    error = rejection(lambda: inspect_photo(b"hello"))
    assert (error.status, error.code) == (415, "unsupported_photo_type")
    for accepted in ("JPEG", "PNG", "WebP", "HEIF"):
        assert accepted in error.message


@pytest.mark.parametrize("keep", [0.6, -200])
def test_truncated_jpeg_is_invalid(read: Callable[[str], bytes], keep: float) -> None:
    data = read(NOKIA)
    cut = data[: int(len(data) * keep)] if keep > 0 else data[: int(keep)]
    for call in (inspect_photo, render_derivatives):
        error = rejection(lambda call=call: call(cut))
        assert (error.status, error.code) == (422, "invalid_photo")


def test_truncated_progressive_jpeg_is_invalid(read: Callable[[str], bytes]) -> None:
    with Image.open(io.BytesIO(read(JOLLA))) as img:
        progressive = encode(img, "JPEG", progressive=True, quality=85)
    assert inspect_photo(progressive).width == 3264
    assert rejection(lambda: inspect_photo(progressive[:-200])).status == 422


@pytest.mark.parametrize("keep", [0.5, -200, -1])
def test_truncated_heic_is_invalid(read: Callable[[str], bytes], keep: float) -> None:
    # libheif alone would decode these, painting the missing tiles grey.
    data = read(KANSAS)
    cut = data[: int(len(data) * keep)] if keep > 0 else data[: int(keep)]
    for call in (inspect_photo, render_derivatives):
        error = rejection(lambda call=call: call(cut))
        assert (error.status, error.code) == (422, "invalid_photo")


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_truncated_png_and_webp_are_invalid(read: Callable[[str], bytes], fmt: str) -> None:
    with Image.open(io.BytesIO(read("gps/DSCN0010.jpg"))) as img:
        data = encode(img, fmt)
    assert inspect_photo(data).format == fmt.lower()
    for cut in (data[: len(data) // 2], data[:-200]):
        assert rejection(lambda cut=cut: inspect_photo(cut)).status == 422


def test_magic_without_an_image_is_invalid() -> None:
    assert rejection(lambda: inspect_photo(b"\xff\xd8\xffhello")).status == 422
    assert rejection(lambda: inspect_photo(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)).status == 422


def test_zero_bytes_is_invalid() -> None:
    error = rejection(lambda: inspect_photo(b""))
    assert (error.status, error.code) == (422, "invalid_photo")
    assert rejection(lambda: render_derivatives(b"")).status == 422


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_images_are_rejected(fmt: str) -> None:
    red, blue = Image.new("RGB", (64, 64), "red"), Image.new("RGB", (64, 64), "blue")
    data = encode(red, fmt, save_all=True, append_images=[blue], duration=100)
    error = rejection(lambda: inspect_photo(data))
    assert (error.status, error.code) == (422, "invalid_photo")
    assert "Animated" in error.message


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "PDF", "AVIF"])
def test_other_formats_are_unsupported(fmt: str) -> None:
    data = encode(Image.new("RGB", (64, 64), "red"), fmt)
    error = rejection(lambda: inspect_photo(data))
    assert (error.status, error.code) == (415, "unsupported_photo_type")


def test_pdf_header_is_unsupported() -> None:
    assert rejection(lambda: inspect_photo(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")).status == 415


def test_oversize_upload_is_too_large(read: Callable[[str], bytes]) -> None:
    data = read("gps/DSCN0010.jpg")
    error = rejection(lambda: inspect_photo(data, max_bytes=100_000))
    assert (error.status, error.code) == (413, "photo_too_large")
    assert "KB" in error.message
    assert inspect_photo(data, max_bytes=len(data)).size == len(data)


def test_rejection_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(PhotoRejected(415, "unsupported_photo_type", "No GIFs.")))
    assert (error.status, error.code, error.message, str(error)) == (
        415,
        "unsupported_photo_type",
        "No GIFs.",
        "No GIFs.",
    )


# --- robustness -------------------------------------------------------------------------------


def test_no_shared_photo_crashes_the_pipeline(
    photos: Path,
    inspected: Callable[[str], InspectedPhoto],
    rendered: Callable[[str], list[Derivative]],
) -> None:
    names = sorted(str(p.relative_to(photos)) for p in photos.rglob("*") if p.is_file())
    assert len(names) >= 40
    for name in names:
        try:
            photo = inspected(name)
            derivatives = rendered(name)
        except PhotoRejected:
            continue
        assert photo.content_type in ACCEPTED.values()
        assert len(derivatives) == 4


def test_damaged_bytes_never_escape_as_other_errors(read: Callable[[str], bytes]) -> None:
    rng = random.Random(20240901)
    small = Image.new("RGBA", (48, 32), (10, 200, 30, 128))
    originals = [
        read("cameras/Nikon_D70.jpg"),
        read("invalid/image01551.jpg"),
        encode(small, "PNG"),
        encode(small, "WEBP"),
    ]
    for original in originals:
        for _ in range(25):
            damaged = bytearray(original)
            for _ in range(rng.randint(1, 8)):
                damaged[rng.randrange(3, len(damaged))] = rng.randrange(256)
            if rng.random() < 0.3:
                damaged = damaged[: rng.randrange(4, len(damaged))]
            for call in (inspect_photo, render_derivatives):
                try:
                    call(bytes(damaged))
                except PhotoRejected as error:
                    assert error.status in (413, 415, 422)
