"""Large photos made smaller on import: longest edge and JPEG quality, the original EXIF kept."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

from layers.media.content import MediaError, Photo, sha256_hex

__all__ = ["Shrink", "shrink_photo"]

#: The types shrunk (re-encoded in their own format); other files (PDF, GIF, TIFF) are kept as they are.
SHRUNK_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Shrink:
    """The shrink-on-import setting.

    Parameters
    ----------
    max_edge : int
        Longest edge in pixels; a photo with a longer one is scaled down to it.
    quality : int
        JPEG (and WebP) quality of a scaled photo, 1 to 95.
    """

    max_edge: int = 1600
    quality: int = 85

    def __post_init__(self) -> None:
        if not 16 <= self.max_edge <= 20000:
            raise MediaError(f"longest edge {self.max_edge}: must be between 16 and 20000 pixels")
        if not 1 <= self.quality <= 95:
            raise MediaError(f"JPEG quality {self.quality}: must be between 1 and 95")


def shrink_photo(photo: Photo, setting: Shrink) -> Photo:
    """The photo scaled so its longest edge is at most ``setting.max_edge``, or the photo itself.

    The scaled photo keeps its format, its EXIF block as the camera wrote it
    (time, author, position, direction, orientation) and its colour profile;
    its facts (``taken_at`` ...) stay those read from the original. A photo
    already small enough, a type not shrunk (PDF, GIF, TIFF), or one that would
    not get smaller is returned unchanged.
    """
    kind = SHRUNK_TYPES.get(photo.content_type)
    if kind is None:
        return photo
    from PIL import Image

    with Image.open(io.BytesIO(photo.data)) as image:
        if max(image.size) <= setting.max_edge:
            return photo
        exif = image.info.get("exif")
        icc = image.info.get("icc_profile")
        scale = setting.max_edge / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        if kind == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        scaled = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    options: dict[str, object] = {}
    if exif:
        options["exif"] = exif
    if icc:
        options["icc_profile"] = icc
    if kind in ("JPEG", "WEBP"):
        options["quality"] = setting.quality
    if kind == "PNG":
        options["optimize"] = True
    out = io.BytesIO()
    scaled.save(out, kind, **options)
    data = out.getvalue()
    if len(data) >= photo.size:
        return photo
    return dataclasses.replace(photo, data=data, sha256=sha256_hex(data))
