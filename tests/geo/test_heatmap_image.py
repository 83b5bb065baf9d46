"""The heatmap picture: German text drawn with real glyphs, and one colour scale for the
PNG and the analyst's screen."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import shapely
from PIL import Image, ImageDraw

from geo.heatmap_image import HeatmapPicture, _font, colour_scale, render_heatmap

ROOT = Path(__file__).resolve().parents[2]
MISSING = "\U000f0000"  # a private-use code point: no font has it, it is drawn as .notdef


def _glyph(text: str, size: int = 22) -> np.ndarray:
    image = Image.new("L", (60, 40), 0)
    ImageDraw.Draw(image).text((4, 2), text, fill=255, font=_font(size))
    return np.asarray(image)


def test_every_german_letter_has_its_own_glyph() -> None:
    notdef = _glyph(MISSING)
    for letter in "äöüÄÖÜß²":
        drawn = _glyph(letter)
        assert drawn.any(), letter
        assert not np.array_equal(drawn, notdef), f"{letter} is drawn as an empty box"
    # and the umlaut is not the bare vowel: its dots are there
    assert not np.array_equal(_glyph("ü"), _glyph("u"))


def _picture(title: str) -> bytes:
    x = np.array([0.0, 500.0, 1000.0])
    y = np.array([0.0, 500.0, 0.0])
    return render_heatmap(HeatmapPicture(
        x=x, y=y, weight=np.array([1.0, 5.0, 2.0]), cell_m=500.0,
        outlines=[shapely.box(-500, -500, 1500, 1000)], title=title,
        subtitle="Alle Kategorien", attribution="© Landeshauptstadt München",
        width=600, height=500, legend="Meldungen/km²"))


def test_the_title_renders_umlauts_not_boxes() -> None:
    # The title row of "München" differs from the same title with the ü missing from the
    # font: what the empty box looked like.
    title_rows = slice(8, 40)
    umlaut = np.asarray(Image.open(io.BytesIO(_picture("Meldungen in München"))))[title_rows]
    boxed = np.asarray(Image.open(io.BytesIO(_picture(f"Meldungen in M{MISSING}nchen"))))[
        title_rows]
    assert not np.array_equal(umlaut, boxed)


def _hexes(text: str) -> list[str]:
    return re.findall(r"#[0-9a-f]{6}", text)


def test_the_screen_uses_the_scale_of_the_png() -> None:
    scale = colour_scale()
    samples = ["#{:02x}{:02x}{:02x}".format(*scale[round(i * 255 / 8)]) for i in range(9)]
    script = (ROOT / "pwa" / "app" / "staff" / "analystmap.js").read_text()
    scale_line = next(line for line in script.splitlines() if line.startswith("const SCALE"))
    assert _hexes(scale_line) == samples
    css = (ROOT / "pwa" / "app" / "staff.css").read_text()
    gradient = css[css.index(".heat-scale {"):].split("}", 1)[0]
    assert _hexes(gradient) == samples
