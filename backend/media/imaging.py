"""Check uploaded photos and render their display and thumbnail derivatives (pure, bytes in/out).

Two entry points: `inspect_photo` runs at upload time and must stay cheap; `render_derivatives`
runs in a worker and produces metadata-free, sRGB, upright JPEG and WebP copies. Any input,
however hostile, ends either in a result or in a `PhotoRejected`; nothing else escapes.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import pillow_heif
from PIL import Image, ImageCms, ImageOps

from geo.photo_exif import NO_FACTS, PhotoFacts, read_photo_facts

# Registering is idempotent; done at import so every Image.open below can see HEIF.
pillow_heif.register_heif_opener()

ACCEPTED = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heif": "image/heif"}
DISPLAY_MAX = 1600
THUMB_MAX = 320
MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000

JPEG_QUALITY = 82
WEBP_QUALITY = 80
# Encoder settings, measured on the Nokia photo's 1600x686 display copy: libwebp's default
# method 4 takes 70 ms, method 2 28 ms for a 0.4 % larger file. A progressive JPEG takes 12 ms,
# a Huffman-optimized one 5 ms, a plain baseline one 2 ms for a 2-4 % larger file: the JPEG is
# only the fallback for clients without WebP, so the cheap one. No metadata option is passed
# on purpose: nothing but pixels goes out.
_JPEG_SAVE = {"format": "JPEG", "quality": JPEG_QUALITY}
_WEBP_SAVE = {"format": "WEBP", "quality": WEBP_QUALITY, "method": 2}

# Downscaling in two steps: first by an integer factor (libjpeg's DCT scaling for JPEG, a box
# reduce otherwise) to within a factor of 2 of the target, then a proper filter for the rest.
# Against a one-step full-resolution Lanczos this keeps about 43 dB PSNR on the phone photos,
# far above the ~37 dB the q82 JPEG / q80 WebP encode keeps, at a fraction of the cost (12 MP
# HEIC: 45 ms instead of 106 ms). After DCT scaling, the remaining < 2x needs only a short
# filter: on the Nokia photo Hamming takes 11.7 ms at 39.6 dB against full-size Lanczos,
# bicubic 18.2 ms at 42.7 dB, Lanczos 25.5 ms; all stay above the ~37 dB the encode keeps.
_AFTER_DRAFT = Image.Resampling.HAMMING
_DISPLAY_REDUCING_GAP = 1.0
_THUMB_REDUCING_GAP = 2.0

# The Pillow plugin ids each sniffed format may be opened with. A JPEG carrying a
# Multi-Picture index (phones write previews and depth maps that way) opens as "MPO".
_PLUGINS = {"jpeg": ("JPEG",), "png": ("PNG",), "webp": ("WEBP",), "heif": ("HEIF",)}
_OPENED_AS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}, "webp": {"WEBP"}, "heif": {"HEIF"}}

# Enough of the file to see an ISO-BMFF ftyp box with a long list of compatible brands.
SNIFF_BYTES = 256
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_HEVC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_STRUCTURE_BRANDS = frozenset({b"mif1", b"msf1"})
# AVIF files are HEIF containers too (they list mif1 as compatible) but are not accepted.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ICC_SPACE_OF_MODE = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK"}
_WHITE = (255, 255, 255)


class PhotoRejected(Exception):
    """An upload that is not an acceptable photo; maps to one API error (413, 415 or 422)."""

    status: int
    code: str
    message: str

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        # All three go into args so the exception survives pickling (e.g. in RQ job results).
        super().__init__(status, code, message)

    def __str__(self) -> str:
        """Return the message meant for the citizen or app developer."""
        return self.message


@dataclass(frozen=True)
class InspectedPhoto:
    """What the upload check learned about a photo; width and height are upright (oriented)."""

    format: str
    content_type: str
    width: int
    height: int
    facts: PhotoFacts
    sha256: str
    size: int


@dataclass(frozen=True)
class Derivative:
    """One rendered copy of a photo: "display" or "thumb", as "jpeg" or "webp"."""

    name: str
    format: str
    data: bytes
    width: int
    height: int
    sha256: str


def sniff_format(head: bytes) -> str | None:
    """Return "jpeg", "png", "webp" or "heif" from a file's first bytes, or None if not accepted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if len(head) >= 16 and head[4:8] == b"ftyp":
        return "heif" if _is_heif_ftyp(head) else None
    return None


def inspect_photo(
    data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS
) -> InspectedPhoto:
    """Validate an upload and read its facts; raise PhotoRejected for anything unacceptable.

    Cost (bench/photos.py): a JPEG is decoded at 1/8 scale, which still reads every compressed
    byte and so catches truncation: about 18 ms for 9 megapixels. PNG and WebP are decoded in
    full. HEIF has no reduced-scale decode, so a 12-megapixel HEIC costs a full decode, about
    0.2-0.3 s here and up to 1.4 s on slower machines: the price of refusing damaged files.
    """
    fmt = _check_envelope(data, max_bytes)
    with _rejecting(), _open(data, fmt, max_pixels) as img:
        width, height = img.size
        _reject_animation(img, fmt)
        if fmt == "jpeg":
            # DCT scaling skips most of the inverse transform but not the entropy decoding, so a
            # file that ends early still fails in load() below.
            img.draft(img.mode, (max(1, width // 8), max(1, height // 8)))
        # LOAD_TRUNCATED_IMAGES stays False (the Pillow default): a cut file raises here.
        img.load()
        facts = _facts(img)
        if _orientation(img, fmt) >= 5:
            width, height = height, width
    return InspectedPhoto(
        format=fmt,
        content_type=ACCEPTED[fmt],
        width=width,
        height=height,
        facts=facts,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def render_derivatives(data: bytes, *, max_pixels: int = MAX_PIXELS) -> list[Derivative]:
    """Render display and thumb copies (JPEG and WebP each): upright, sRGB, no metadata.

    Returns display JPEG, display WebP, thumb JPEG, thumb WebP; the display copy fits
    DISPLAY_MAX and the thumb THUMB_MAX on the long side, never upscaled. Deterministic: the
    same bytes give byte-identical derivatives, so a re-run job is a no-op.
    """
    return encode_derivatives(render_display(data, max_pixels=max_pixels))


def encode_derivatives(display: Image.Image) -> list[Derivative]:
    """The four public files of a display-sized image (see `render_derivatives`)."""
    return _encode("display", display) + _encode("thumb", _shrink(display, THUMB_MAX))


def render_display(data: bytes, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The upright sRGB display copy (DISPLAY_MAX on the long side at most) of a photo."""
    fmt = _check_envelope(data, None)
    with _rejecting():
        with _open(data, fmt, max_pixels) as img:
            orientation = _orientation(img, fmt)
            target = _fit(img.size, DISPLAY_MAX)
            box = None
            if fmt == "jpeg" and target != img.size:
                # Let libjpeg decode at the smallest 1/2, 1/4 or 1/8 scale still >= the display
                # size; the resample below then only has to cover the remaining factor (< 2).
                drafted = img.draft(img.mode, target)
                box = drafted[1] if drafted else None
            img.load()
            icc = img.info.get("icc_profile")
            work = _normalize_mode(img)
        if work.size != target:
            resample = _AFTER_DRAFT if box is not None else Image.Resampling.LANCZOS
            work = work.resize(target, resample, box=box, reducing_gap=_DISPLAY_REDUCING_GAP)
        # Turning the small image is cheaper than turning the decoded one, and the result is
        # the same. Colour conversion, too, runs on the display-sized image only.
        if orientation in _TRANSPOSE:
            work = work.transpose(_TRANSPOSE[orientation])
        return _to_srgb(_flatten(work), icc)


def render_naive(data: bytes, *, max_pixels: int = MAX_PIXELS) -> list[Derivative]:
    """Render the same four derivatives the straightforward way; only for the benchmark."""
    fmt = _check_envelope(data, None)
    with _rejecting():
        with _open(data, fmt, max_pixels) as img:
            img.load()
            icc = img.info.get("icc_profile")
            upright = ImageOps.exif_transpose(img)
        full = _to_srgb(_flatten(_normalize_mode(upright)), icc)
        display = full.resize(_fit(full.size, DISPLAY_MAX), Image.Resampling.LANCZOS)
        thumb = full.resize(_fit(full.size, THUMB_MAX), Image.Resampling.LANCZOS)
        return _encode("display", display) + _encode("thumb", thumb)


def _is_heif_ftyp(head: bytes) -> bool:
    size = int.from_bytes(head[0:4], "big")
    start, end = 8, min(size, len(head))
    if size == 1:  # a 64-bit box size follows the type
        start, end = 16, min(int.from_bytes(head[8:16], "big"), len(head))
    elif size == 0:  # the box runs to the end of the file
        end = len(head)
    major = head[start : start + 4]
    # Compatible brands follow the major brand and a 4-byte minor version.
    brands = {head[i : i + 4] for i in range(start + 8, end - 3, 4)} | {major}
    if major in _AVIF_BRANDS:
        return False
    if brands & _HEVC_BRANDS:
        return True
    return bool(brands & _HEIF_STRUCTURE_BRANDS) and not brands & _AVIF_BRANDS


def _check_envelope(data: bytes, max_bytes: int | None) -> str:
    # Cheap checks first: none of them needs an image decoder.
    if len(data) == 0:
        raise PhotoRejected(422, "invalid_photo", "The photo is empty (0 bytes).")
    if max_bytes is not None and len(data) > max_bytes:
        raise PhotoRejected(
            413,
            "photo_too_large",
            f"The photo is {_human_size(len(data))}; at most {_human_size(max_bytes)} "
            "are accepted. Please send a smaller photo.",
        )
    fmt = sniff_format(bytes(data[:SNIFF_BYTES]))
    if fmt is None:
        raise PhotoRejected(
            415,
            "unsupported_photo_type",
            "This file type is not accepted. Please send a photo as JPEG, PNG, WebP or "
            "HEIF/HEIC (" + ", ".join(ACCEPTED.values()) + ").",
        )
    return fmt


def _human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    if size >= 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size} bytes"


@contextmanager
def _rejecting() -> Iterator[None]:
    # Decoders for four formats (three C libraries) raise an open-ended set of exception types
    # on hostile input: OSError, ValueError, SyntaxError, struct.error, EOFError, RuntimeError...
    # The contract is that a bad upload is a 422, never a 500, so everything is translated here.
    try:
        yield
    except (PhotoRejected, MemoryError):
        raise  # running out of memory says nothing about the file (the job's limit decides)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    except Exception as exc:
        raise _damaged() from exc


def _too_many_pixels(
    size: tuple[int, int] | None = None, limit: int | None = None
) -> PhotoRejected:
    dims = f" ({size[0]}×{size[1]})" if size else ""
    most = f"; at most {limit / 1e6:g} megapixels are accepted" if limit else ""
    return PhotoRejected(422, "invalid_photo", f"The photo has too many pixels{dims}{most}.")


def _damaged() -> PhotoRejected:
    return PhotoRejected(
        422, "invalid_photo", "The photo could not be read: the file is damaged or incomplete."
    )


def _heif_is_whole(data: bytes) -> bool:
    """Whether every top-level ISO-BMFF box of a HEIF file ends inside the file."""
    # libheif decodes a cut file without complaint (the missing tiles come out grey) and
    # pillow-heif has no strict mode. A cut upload always leaves its last box (mdat) short.
    offset, end = 0, len(data)
    while offset < end:
        if end - offset < 8:
            return False
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size == 1:  # a 64-bit size follows the box type
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            return True  # "up to the end of the file": nothing left to compare against
        if size < 8 or offset + size > end:
            return False
        offset += size
    return True


@contextmanager
def _open(data: bytes, fmt: str, max_pixels: int) -> Iterator[Image.Image]:
    if fmt == "heif" and not _heif_is_whole(data):
        raise _damaged()
    # Only the plugin matching the sniffed magic may parse the file: no format confusion.
    with Image.open(io.BytesIO(data), formats=_PLUGINS[fmt]) as img:
        if img.format not in _OPENED_AS[fmt]:
            raise PhotoRejected(
                422, "invalid_photo", "The photo's content does not match its file type."
            )
        width, height = img.size
        if width < 1 or height < 1:
            raise PhotoRejected(422, "invalid_photo", "The photo has no pixels.")
        # Our own limit, checked from the header before any pixel is decoded. Pillow's global
        # MAX_IMAGE_PIXELS is process-wide and only warns below twice its value.
        if width * height > max_pixels:
            raise _too_many_pixels((width, height), max_pixels)
        yield img


def _reject_animation(img: Image.Image, fmt: str) -> None:
    # HEIF files often hold more top-level images (bursts, depth, thumbnails); only the primary
    # image is used, so they are not animations. MPO JPEGs likewise hold previews, not frames.
    if fmt in ("png", "webp") and getattr(img, "n_frames", 1) > 1:
        raise PhotoRejected(
            422, "invalid_photo", "Animated images are not accepted; please send a single photo."
        )


def _facts(img: Image.Image) -> PhotoFacts:
    try:
        return read_photo_facts(img.getexif())
    except Exception:
        # A broken EXIF block costs the facts, never the photo.
        return NO_FACTS


def _orientation(img: Image.Image, fmt: str) -> int:
    if fmt == "heif":
        # libheif already applies the container's rotation and mirroring (irot/imir) and the
        # HEIF spec says EXIF orientation must then be ignored; pillow-heif resets it to 1.
        return 1
    try:
        value = img.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    if max(width, height) <= longest:
        return width, height  # never upscale
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink(img: Image.Image, longest: int) -> Image.Image:
    target = _fit(img.size, longest)
    if target == img.size:
        return img
    return img.resize(target, Image.Resampling.LANCZOS, reducing_gap=_THUMB_REDUCING_GAP)


def _normalize_mode(img: Image.Image) -> Image.Image:
    """Bring any decoded mode to RGB, RGBA, L or CMYK: the modes resizing and ICC handle well."""
    mode = img.mode
    if mode in ("RGB", "L", "CMYK", "RGBA"):
        if "transparency" in img.info and mode in ("RGB", "L"):
            return img.convert("RGBA")
        return img
    if mode in ("LA", "La", "PA", "RGBa") or (mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    if mode == "1":
        return img.convert("L")
    if mode.startswith("I;16") or mode == "I":
        # 16-bit greyscale (PNG): keep the top 8 bits instead of clipping everything to white.
        return img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return img.convert("RGB")


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode != "RGBA":
        return img
    # JPEG has no alpha, and a white backdrop is what a transparent photo shows on our pages.
    background = Image.new("RGB", img.size, _WHITE)
    background.paste(img, mask=img.getchannel("A"))
    return background


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to sRGB RGB through the embedded ICC profile when there is a usable one."""
    transform = _transform_to_srgb(icc, img.mode) if icc else None
    if transform is not None:
        try:
            return ImageCms.applyTransform(img, transform) or img
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a profile lcms accepted but cannot apply: fall back to the plain conversion
    return img if img.mode == "RGB" else img.convert("RGB")


@lru_cache(maxsize=32)
def _transform_to_srgb(icc: bytes, mode: str) -> ImageCms.ImageCmsTransform | None:
    # Phones embed the same few profiles (Display P3, sRGB) in every photo: build each
    # transform once. NOCACHE drops lcms's one-pixel cache, which is what makes a shared
    # transform safe to use from several threads.
    space = _ICC_SPACE_OF_MODE.get(mode)
    if space is None:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        # A profile for another colour space (an RGB profile on a greyscale JPEG) is ignored.
        if profile.profile.xcolor_space.strip() != space:
            return None
        return ImageCms.buildTransform(profile, _srgb(), mode, "RGB", flags=ImageCms.Flags.NOCACHE)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _encode(name: str, img: Image.Image) -> list[Derivative]:
    # Start from an empty info dict: the JPEG encoder falls back to im.info for a comment, and
    # nothing of the original (EXIF, XMP, ICC, IPTC, comments) may reach a public copy.
    img.info = {}
    outputs = []
    for fmt, options in (
        ("jpeg", _JPEG_SAVE),
        ("webp", _WEBP_SAVE),
    ):
        buffer = io.BytesIO()
        img.save(buffer, **options)
        data = buffer.getvalue()
        outputs.append(
            Derivative(
                name=name,
                format=fmt,
                data=data,
                width=img.width,
                height=img.height,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    return outputs
