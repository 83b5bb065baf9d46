"""Draw the app icons (our own art): a traffic light on the app blue.

Run: /work/main/.venv/bin/python pwa/tools/make_icons.py
Writes pwa/app/icons/icon-192.png, icon-512.png (purpose "any", rounded) and
maskable-192.png, maskable-512.png (full bleed, drawing inside the 80 % safe zone).
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "app" / "icons"
BLUE = (11, 79, 138, 255)
DARK = (27, 27, 27, 255)
WHITE = (255, 255, 255, 255)
LIGHTS = [(229, 57, 53, 255), (255, 179, 0, 255), (67, 160, 71, 255)]


def draw(size: int, maskable: bool) -> Image.Image:
    scale = 4  # draw large, then shrink for smooth edges
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle([0, 0, s, s], fill=BLUE)
        art = 0.62  # inside the safe zone (a circle of 80 % diameter)
    else:
        d.rounded_rectangle([0, 0, s - 1, s - 1], radius=int(s * 0.2), fill=BLUE)
        art = 0.8
    h = s * art
    w = h * 0.42
    x0, y0 = (s - w) / 2, (s - h) / 2
    body_h = h * 0.82
    d.rounded_rectangle([x0, y0, x0 + w, y0 + body_h], radius=int(w * 0.3), fill=DARK,
                        outline=WHITE, width=max(2, int(s * 0.012)))
    r = w * 0.3
    for i, colour in enumerate(LIGHTS):
        cy = y0 + body_h * (i + 0.5) / 3
        d.ellipse([s / 2 - r, cy - r, s / 2 + r, cy + r], fill=colour)
    pole = w * 0.28
    d.rectangle([s / 2 - pole / 2, y0 + body_h, s / 2 + pole / 2, y0 + h], fill=WHITE)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, False).save(OUT / f"icon-{size}.png", optimize=True)
        draw(size, True).save(OUT / f"maskable-{size}.png", optimize=True)
    print("icons written to", OUT)


if __name__ == "__main__":
    main()
