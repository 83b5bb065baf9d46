"""Render a heatmap PNG: smoothed density of cell counts on a perceptual colour scale, with the
district outlines, a legend, a title and the data attribution. Pure: numbers in, bytes out."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (248, 248, 246)
OUTLINE = (60, 60, 70)
TEXT = (20, 20, 25)
TITLE_H, FOOTER_H, LEGEND_W, MARGIN = 64, 44, 110, 16


@dataclass(frozen=True)
class HeatmapPicture:
    """What to draw, all coordinates in the city's metric CRS (metres)."""

    x: np.ndarray  # cell centres
    y: np.ndarray
    weight: np.ndarray  # reports per cell
    cell_m: float  # the cell size; the smoothing follows it
    outlines: list[shapely.Geometry]  # district polygons
    title: str
    subtitle: str
    attribution: str
    width: int = 1200
    height: int = 1000
    legend: str = "Meldungen/km²"


def _oklab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """OKLab → sRGB in 0..1 (Björn Ottosson's published matrices)."""
    lightness, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    l_ = (lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3
    m_ = (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3
    s_ = (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3
    rgb = np.stack([
        4.0767416621 * l_ - 3.3077115913 * m_ + 0.2309699292 * s_,
        -1.2684380046 * l_ + 2.6097574011 * m_ - 0.3413193965 * s_,
        -0.0041960863 * l_ - 0.7034186147 * m_ + 1.7076147010 * s_,
    ], axis=1)
    rgb = np.clip(rgb, 0, 1)
    return np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * np.power(rgb, 1 / 2.4) - 0.055)


@cache
def colour_scale(n: int = 256) -> np.ndarray:
    """A sequential scale, dark violet → red → yellow, interpolated in OKLab with lightness
    rising evenly (perceptually ordered, readable in grey print and by most colour-blind
    viewers). Returns n×3 uint8."""
    anchors = np.array([  # OKLab (L, a, b)
        [0.27, 0.06, -0.12],   # dark violet
        [0.45, 0.16, -0.06],   # magenta
        [0.62, 0.17, 0.08],    # red-orange
        [0.80, 0.06, 0.15],    # orange-yellow
        [0.96, -0.03, 0.12],   # pale yellow
    ])
    t = np.linspace(0, 1, n)
    positions = np.linspace(0, 1, len(anchors))
    lab = np.stack([np.interp(t, positions, anchors[:, k]) for k in range(3)], axis=1)
    return np.round(_oklab_to_srgb(lab) * 255).astype(np.uint8)


def _gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (same size)."""
    if sigma < 0.5:
        return image
    radius = max(1, int(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(image, ((radius, radius), (0, 0)))
    rows = np.apply_along_axis(lambda c: np.convolve(c, kernel, "valid"), 0, padded)
    padded = np.pad(rows, ((0, 0), (radius, radius)))
    return np.apply_along_axis(lambda r: np.convolve(r, kernel, "valid"), 1, padded)


# Fonts with every German letter (ä ö ü ß, ²): Debian's fonts-dejavu-core (installed by
# scripts/bootstrap and in the image), then the same or Noto elsewhere. Pillow's own default
# font has no umlauts: "München" became "M▯nchen".
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
)
# Rendering changes that change the picture for the same data (part of a cached file's key).
RENDER_VERSION = "2-dejavu"


class FontMissing(RuntimeError):
    """No font with the German letters is installed."""


@cache
def font_path() -> str:
    """The first installed font of FONT_CANDIDATES."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    raise FontMissing("no font with German letters found; install fonts-dejavu-core "
                      f"(looked for {', '.join(FONT_CANDIDATES)})")


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(), size=size)


def _nice_ticks(maximum: float, count: int = 5) -> list[float]:
    if maximum <= 0:
        return [0.0]
    step = 10 ** math.floor(math.log10(maximum / count))
    for factor in (1, 2, 5, 10):
        if maximum / (step * factor) <= count:
            step *= factor
            break
    return [i * step for i in range(int(maximum // step) + 1)]


def render_heatmap(picture: HeatmapPicture) -> bytes:
    """The PNG bytes."""
    width, height = picture.width, picture.height
    map_w = width - LEGEND_W - 2 * MARGIN
    map_h = height - TITLE_H - FOOTER_H
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(picture.outlines, dtype=object)) \
        if picture.outlines else (0.0, 0.0, 1.0, 1.0)
    pad = 0.02 * max(maxx - minx, maxy - miny)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    scale = min(map_w / (maxx - minx), map_h / (maxy - miny))  # pixels per metre
    off_x = MARGIN + (map_w - (maxx - minx) * scale) / 2
    off_y = TITLE_H + (map_h - (maxy - miny) * scale) / 2

    def to_px(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return off_x + (x - minx) * scale, off_y + (maxy - y) * scale

    density = np.zeros((height, width))
    if len(picture.weight):
        px, py = to_px(np.asarray(picture.x, float), np.asarray(picture.y, float))
        cols = np.clip(px.astype(int), 0, width - 1)
        rows = np.clip(py.astype(int), 0, height - 1)
        np.add.at(density, (rows, cols), np.asarray(picture.weight, float))
        density = _gaussian(density, max(1.0, picture.cell_m * scale * 0.8))
    peak = float(density.max())
    # Reports per square kilometre: the smoothed mass per pixel over the pixel's area.
    per_km2 = 1e6 * (scale * scale)
    colours = colour_scale()
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    if peak > 0:
        level = np.sqrt(density / peak)  # square root: hot spots do not swallow the rest
        shown = level > 0.04
        index = np.clip((level * 255).astype(int), 0, 255)
        canvas[shown] = colours[index[shown]]
    image = Image.fromarray(canvas, "RGB")
    draw = ImageDraw.Draw(image)
    for shape in picture.outlines:
        for polygon in getattr(shape, "geoms", [shape]):
            ring = np.asarray(polygon.exterior.coords)
            xs, ys = to_px(ring[:, 0], ring[:, 1])
            draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=OUTLINE, width=1)
    draw.text((MARGIN, 10), picture.title, fill=TEXT, font=_font(22))
    draw.text((MARGIN, 38), picture.subtitle, fill=TEXT, font=_font(14))
    draw.text((MARGIN, height - FOOTER_H + 14), picture.attribution, fill=TEXT, font=_font(12))
    _legend(draw, width - LEGEND_W - MARGIN + 20, TITLE_H + 20, 24,
            min(360, map_h - 60), peak * per_km2, colours, picture.legend)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _legend(draw: ImageDraw.ImageDraw, x: int, y: int, w: int, h: int, peak_km2: float,
            colours: np.ndarray, label: str) -> None:
    draw.text((x - 14, y - 18), label, fill=TEXT, font=_font(12))
    for i in range(h):
        level = 1 - i / (h - 1)
        draw.line([(x, y + i), (x + w, y + i)], fill=tuple(colours[int(level * 255)].tolist()))
    draw.rectangle([x, y, x + w, y + h], outline=OUTLINE)
    for tick in _nice_ticks(peak_km2):
        level = math.sqrt(tick / peak_km2) if peak_km2 > 0 else 0
        ty = y + h - level * h
        draw.line([(x + w, ty), (x + w + 5, ty)], fill=OUTLINE)
        draw.text((x + w + 8, ty - 7), f"{tick:g}", fill=TEXT, font=_font(12))
