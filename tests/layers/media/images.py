"""Test photos made with Pillow: JPEGs with EXIF time, artist, GPS position and direction; PNGs; broken files."""

from __future__ import annotations

import io
from fractions import Fraction

from PIL import Image


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    d = int(value)
    m = int((value - d) * 60)
    s = Fraction(round((value - d - m / 60) * 3600 * 1000), 1000)
    return Fraction(d), Fraction(m), s


def jpeg(colour: tuple[int, int, int] = (200, 30, 30), *, size: tuple[int, int] = (64, 48),
         taken: str | None = "2026:05:01 10:20:30", artist: str | None = "Li Si",
         lon: float | None = 104.0657, lat: float | None = 30.6598, direction: float | None = 135.5) -> bytes:
    """A small JPEG; EXIF facts where given."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if taken:
        exif[0x0132] = taken
        exif.get_ifd(0x8769)[0x9003] = taken
    if artist:
        exif[0x013B] = artist
    if lon is not None and lat is not None:
        gps = exif.get_ifd(0x8825)
        gps[1], gps[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
        gps[3], gps[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
        if direction is not None:
            gps[16], gps[17] = "T", Fraction(direction).limit_denominator(100)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=80)
    return buffer.getvalue()


def png(colour: tuple[int, int, int] = (30, 200, 30)) -> bytes:
    """A small PNG without EXIF."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, "PNG")
    return buffer.getvalue()


PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
