"""Regenerate static/fonts/: the site's two typefaces, cut down to what the site sets.

    .venv/bin/python -m tools.fonts

Source Serif 4 (reading) and Source Sans 3 (the interface), both SIL Open Font Licence,
come from the npm registry as Fontsource packages (`npm pack`, so npm's own cache and
integrity checks apply), pinned below. Each face is then cut with fontTools: the weight
axis narrowed to the weights the stylesheet uses, the optical-size axis (when present)
fixed at text size, and pyftsubset keeping only the characters in CHARACTERS, without
hinting (modern screens smooth outlines themselves) and as WOFF2. Run it again after
changing a pin, an axis or the character set, and commit the fonts it writes.

Needs npm and the dev extras (fonttools, brotli).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "static" / "fonts"

PACKAGES = {
    "source-serif-4": "@fontsource-variable/source-serif-4@5.3.1",
    "source-sans-3": "@fontsource-variable/source-sans-3@5.3.0",
}


@dataclass(frozen=True)
class Face:
    package: str  # a key of PACKAGES
    source: str  # the file inside the package
    output: str  # the file under static/fonts/
    weights: tuple[int, int]  # the range of the variable weight axis that is kept
    italic: bool = False


FACES = (
    Face("source-serif-4", "files/source-serif-4-latin-wght-normal.woff2",
         "source-serif-4-roman.woff2", (400, 700)),
    Face("source-serif-4", "files/source-serif-4-latin-wght-italic.woff2",
         "source-serif-4-italic.woff2", (400, 700), italic=True),
    Face("source-sans-3", "files/source-sans-3-latin-wght-normal.woff2",
         "source-sans-3.woff2", (400, 700)),
)  # fmt: skip

# What the site sets: ASCII; Latin-1 (accented names, £, ·, «», °, ½); Œ œ; the general
# punctuation of the April 2014 text and the templates (dashes, curly quotes, †, •, …,
# primes, ‹ ›); €, ™, the minus sign and the arrows of the navigation. A character
# outside this falls back to the next font in the stylesheet's stack, so the set leans
# generous; check() reports any the content uses that the fonts lack.
CHARACTERS = (
    "U+0020-007E,U+00A0-00FF,U+0131,U+0152-0153,U+02C6,U+02DA,U+02DC,"
    "U+2010-2015,U+2018-201E,U+2020-2022,U+2026,U+2030,U+2032-2033,U+2039-203A,"
    "U+20AC,U+2122,U+2190-2193,U+21A9,U+2212"
)
# Kerning, ligatures and the numeral styles the stylesheet asks for; nothing else.
FEATURES = "kern,liga,clig,calt,ccmp,locl,mark,mkmk,lnum,onum,pnum,tnum,case"


def unicodes(ranges: str = CHARACTERS) -> set[int]:
    points: set[int] = set()
    for part in ranges.split(","):
        first, _, last = part.removeprefix("U+").partition("-")
        points.update(range(int(first, 16), int(last or first, 16) + 1))
    return points


def fetch(spec: str, into: Path) -> tarfile.TarFile:
    """The package's tarball, as npm itself downloads and verifies it."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("tools/fonts.py needs npm (apt-get install npm)")
    name = subprocess.run(
        [npm, "pack", spec, "--pack-destination", str(into), "--silent"],
        check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    return tarfile.open(into / name)


def cut(face: Face, tarball: tarfile.TarFile, work: Path) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    member = tarball.extractfile(f"package/{face.source}")
    if member is None:
        raise SystemExit(f"{face.source} is not in {PACKAGES[face.package]}")
    font = TTFont(member)
    axes = {axis.axisTag: axis for axis in font["fvar"].axes}
    limits: dict[str, object] = {"wght": face.weights}
    if "opsz" in axes:  # text size: the axis costs more than it gives at body sizes
        limits["opsz"] = max(axes["opsz"].minValue, min(axes["opsz"].maxValue, 18))
    font = instancer.instantiateVariableFont(font, limits)
    narrowed = work / f"{Path(face.output).stem}.ttf"
    font.flavor = None
    font.recalcTimestamp = False  # the same packages give the same bytes, run after run
    font.save(narrowed)
    output = OUT / face.output
    subset.main([
        str(narrowed),
        f"--unicodes={CHARACTERS}",
        f"--layout-features={FEATURES}",
        "--no-hinting",
        "--desubroutinize",
        "--flavor=woff2",
        f"--output-file={output}",
    ])  # fmt: skip
    return output


def site_text() -> str:
    """Every character the fixture's posts and the templates can show."""
    parts = [(ROOT / "fixtures" / "april_2014.json").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "templates").rglob("*.html"))]
    return "".join(parts)


def missing(font_path: Path, text: str) -> set[str]:
    """The characters of ``text`` (but for spacing and controls) the font has no glyph for."""
    from fontTools.ttLib import TTFont

    cmap = TTFont(font_path).getBestCmap()
    return {ch for ch in set(text) if ch.isprintable() and not ch.isspace() and ord(ch) not in cmap}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tarballs = {key: fetch(spec, work) for key, spec in PACKAGES.items()}
        written = [cut(face, tarballs[face.package], work) for face in FACES]
        # Both are under the OFL, each with its own copyright line: one file keeps both.
        licences = []
        for key, tarball in tarballs.items():
            member = tarball.extractfile("package/LICENSE")
            body = member.read().decode() if member else ""
            licences.append(f"{key} ({PACKAGES[key]})\n\n{body}")
        (OUT / "OFL.txt").write_text("\n\n".join(licences), encoding="utf-8")
    text = site_text()
    total = 0
    for path in written:
        size = path.stat().st_size
        total += size
        lacking = "".join(sorted(missing(path, text)))
        print(f"{path.relative_to(ROOT)}: {size / 1024:.1f} KB" + (
            f"; falls back for {lacking!r}" if lacking else ""))  # fmt: skip
    print(f"total: {total / 1024:.1f} KB")
    if total >= 150 * 1024:
        sys.exit("the fonts weigh 150 KB or more: narrow an axis or the character set")


if __name__ == "__main__":
    main()
