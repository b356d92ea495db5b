"""Draw public/favicon.ico (16, 32 and 48 px) after static/favicon.svg's design: the
site's accent colour, rounded, "CP" in the bold reading face.

    .venv/bin/python -m tools.favicon

Run once after tools/fonts.py, and again only if the design changes; commit the icon.
Pillow draws it (it cannot read SVG), from the site's own subset font (fontTools turns
the WOFF2 into the TrueType Pillow reads).
"""

from __future__ import annotations

import io
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / "static" / "fonts" / "source-serif-4-roman.woff2"
OUTPUT = ROOT / "public" / "favicon.ico"
ACCENT = (0x17, 0x5E, 0x6A, 255)  # --accent in static/css/site.css
SIZE = 256  # drawn large, then reduced: smoother edges at 16 px


def draw() -> None:
    from fontTools.ttLib import TTFont
    from PIL import Image, ImageDraw, ImageFont

    font = TTFont(FONT)
    font.flavor = None
    truetype = io.BytesIO()
    font.save(truetype)
    truetype.seek(0)
    face = ImageFont.truetype(truetype, size=int(SIZE * 0.55))
    face.set_variation_by_axes([700])
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, SIZE - 1, SIZE - 1), radius=SIZE * 7 // 32, fill=ACCENT)
    pen.text((SIZE / 2, SIZE * 0.53), "CP", font=face, fill="white", anchor="mm")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    image.save(OUTPUT, sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    draw()
