"""A photo file read and checked: size limit, SHA-256, MIME type from its bytes, decoding, EXIF."""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from layers.errors import TongchengError

__all__ = ["MediaError", "DEFAULT_MAX_BYTES", "IMAGE_TYPES", "Photo", "read_photo", "photo_from_bytes",
           "sniff_content_type",
           "sha256_hex", "EXTENSIONS", "hash_file_name"]

#: Largest photo or attachment accepted by default (50 MB).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024

#: Content types decoded with Pillow to be sure they are images.
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/tiff")

#: File name extension of a photo written as a file named by its hash, by content type.
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
              "image/tiff": ".tif", "application/pdf": ".pdf"}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"%PDF-", "application/pdf"),
)


class MediaError(TongchengError):
    """A photo cannot be stored or read: names the file and the problem; nothing was stored."""


@dataclass(frozen=True)
class Photo:
    """A photo (or PDF attachment) checked and ready to store."""

    data: bytes
    sha256: str
    content_type: str
    file_name: str | None = None
    taken_at: str | None = None
    author: str | None = None
    lon: float | None = None
    lat: float | None = None
    direction: float | None = None

    @property
    def size(self) -> int:
        return len(self.data)


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of *data* as 64 lowercase hex digits."""
    return hashlib.sha256(data).hexdigest()


def sniff_content_type(data: bytes) -> str | None:
    """The MIME type of *data* from its first bytes, or None if it is no type we take."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def hash_file_name(sha256: str, content_type: str) -> str:
    """The name of a photo written as a file: its hash and the extension of its type."""
    return sha256 + EXTENSIONS.get(content_type, ".bin")


def read_photo(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Photo:
    """Read and check one photo file.

    Raises
    ------
    MediaError
        One line naming the file: missing, empty, over *max_bytes* (checked
        before reading), not an image (or PDF), or an image that cannot be decoded.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(f"{path}: no such file") from None
    if not path.is_file():
        raise MediaError(f"{path}: not a file")
    if size == 0:
        raise MediaError(f"{path}: empty file (0 bytes), not a photo")
    if size > max_bytes:
        raise MediaError(f"{path}: {_mb(size)} is over the limit of {_mb(max_bytes)} per photo")
    data = path.read_bytes()
    return photo_from_bytes(data, str(path), file_name=path.name, max_bytes=max_bytes)


def photo_from_bytes(data: bytes, where: str, *, file_name: str | None = None,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> Photo:
    """Check bytes as :func:`read_photo` does; *where* names them in messages."""
    if not data:
        raise MediaError(f"{where}: empty file (0 bytes), not a photo")
    if len(data) > max_bytes:
        raise MediaError(f"{where}: {_mb(len(data))} is over the limit of {_mb(max_bytes)} per photo")
    content_type = sniff_content_type(data)
    if content_type is None:
        raise MediaError(f"{where}: not an image (JPEG, PNG, GIF, WebP, TIFF) or a PDF")
    exif: dict[str, Any] = {}
    if content_type == "application/pdf":
        if b"%%EOF" not in data[-1024:]:
            raise MediaError(f"{where}: damaged PDF (no end of file marker)")
    else:
        exif = _decode(data, where)
    return Photo(data=data, sha256=sha256_hex(data), content_type=content_type, file_name=file_name, **exif)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _decode(data: bytes, where: str) -> dict[str, Any]:
    """Decode the whole image (so a damaged one is refused) and return its EXIF facts."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                exif = image.getexif()
                image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        raise MediaError(f"{where}: the image cannot be decoded ({exc})") from None
    return _exif_facts(exif)


_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132
_ARTIST = 0x013B


def _exif_facts(exif: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        gps = exif.get_ifd(_GPS_IFD)
    except Exception:  # a damaged EXIF block never refuses a decodable photo
        return facts
    taken = sub.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if isinstance(taken, str) and len(taken) >= 19 and taken[4] == ":" and taken[7] == ":":
        facts["taken_at"] = taken[:10].replace(":", "-") + "T" + taken[11:19]
    artist = exif.get(_ARTIST)
    if isinstance(artist, str) and artist.strip("\x00 "):
        facts["author"] = artist.strip("\x00 ")
    lat = _degrees(gps.get(2), gps.get(1), "S")
    lon = _degrees(gps.get(4), gps.get(3), "W")
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        facts["lat"], facts["lon"] = lat, lon
    direction = _number(gps.get(17))
    if direction is not None and 0 <= direction <= 360:
        facts["direction"] = direction
    return facts


def _number(value: Any) -> float | None:
    try:
        if isinstance(value, tuple) and len(value) == 2:
            return float(Fraction(int(value[0]), int(value[1])))
        return float(value) if value is not None else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    if not isinstance(value, tuple) or len(value) != 3:
        return None
    parts = [_number(v) for v in value]
    if any(p is None for p in parts):
        return None
    d, m, s = (p or 0.0 for p in parts)
    degrees = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    return -degrees if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative else degrees
