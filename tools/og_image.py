"""Draw the site's card for link previews: static/img/og-default.png, 1200×630 (the size
Open Graph and large link previews expect). Made once and committed; run again after a
change of name or colours:

    .venv/bin/python -m tools.og_image [--serif FONT.ttf] [--sans FONT.ttf]

Pillow draws it (already installed: markdownx needs it). The fonts default to Debian's
DejaVu, which any machine with fontconfig has; pass the site's own faces to match them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "static" / "img" / "og-default.png"
SIZE = (1200, 630)
MARGIN = 96
PAPER = "#f6f4ef"
INK = "#1b2430"
MUTED = "#4f5863"
ACCENT = "#1d5c7a"
NAME_LINES = ("Child Protection", "Social Work")
TAGLINE = "An expert blog on child protection social work"
FONTS = Path("/usr/share/fonts/truetype/dejavu")


def draw(serif: Path, sans: Path) -> Image.Image:
    image = Image.new("RGB", SIZE, PAPER)
    pen = ImageDraw.Draw(image)
    # A band down the left edge and a rule under the name: the site's accent, nothing else.
    pen.rectangle((0, 0, 24, SIZE[1]), fill=ACCENT)
    title = ImageFont.truetype(str(serif), 92)
    y = 150
    for line in NAME_LINES:
        pen.text((MARGIN, y), line, font=title, fill=INK)
        y += 112
    pen.rectangle((MARGIN, y + 28, MARGIN + 160, y + 34), fill=ACCENT)
    tagline = ImageFont.truetype(str(sans), 38)
    pen.text((MARGIN, y + 70), TAGLINE, font=tagline, fill=MUTED)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--serif", type=Path, default=FONTS / "DejaVuSerif-Bold.ttf")
    parser.add_argument("--sans", type=Path, default=FONTS / "DejaVuSans.ttf")
    args = parser.parse_args()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    draw(args.serif, args.sans).save(OUTPUT, optimize=True)
    print(f"Wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
