"""Helpers the sync modules share: times, SQL names, geometry arrays, the audit columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import GeoPackageError
from layers.geopackage import encode_gpb_many

__all__ = [
    "AUDIT_COLUMNS",
    "CHUNK",
    "now_text",
    "quote",
    "geometries",
    "canonical",
    "bounds",
    "gpb_of_wkbs",
    "newer",
]

#: Who made a feature and who changed it last, and when (master, package and workspace alike).
AUDIT_COLUMNS = ("created_by", "created_at", "modified_by", "modified_at")
#: Rows read from SQLite per fetch.
CHUNK = 10_000


def now_text() -> str:
    """The current UTC time as GeoPackage DATETIME text (milliseconds, ``Z``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def quote(name: str) -> str:
    """An SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def geometries(wkbs: Sequence[bytes | None]) -> list[BaseGeometry | None]:
    """Shapely geometries of a list of WKB (None kept), vectorised."""
    if not wkbs:
        return []
    arr = np.empty(len(wkbs), dtype=object)
    arr[:] = list(wkbs)
    try:
        return list(shapely.from_wkb(arr))
    except shapely.errors.GEOSException as exc:
        raise GeoPackageError(f"invalid geometry: {exc}") from None


def canonical(wkbs: Sequence[Any]) -> list[bytes | None]:
    """The same geometries as ISO little-endian WKB written by shapely (None kept).

    Merges compare geometries as these bytes: equal geometries, whichever
    tool wrote them, give equal bytes, and bytes compare fast.
    """
    if not wkbs:
        return []
    arr = np.empty(len(wkbs), dtype=object)
    arr[:] = [g if g is None or isinstance(g, BaseGeometry) else bytes(g) for g in wkbs]
    try:
        if any(isinstance(g, (bytes, bytearray)) for g in arr):
            arr = shapely.from_wkb(arr)
    except shapely.errors.GEOSException as exc:
        raise GeoPackageError(f"invalid geometry: {exc}") from None
    return list(shapely.to_wkb(arr, flavor="iso", byte_order=1))


def bounds(geoms: Sequence[BaseGeometry | None]) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of the non-empty geometries, or None."""
    present = [g for g in geoms if g is not None and not g.is_empty]
    if not present:
        return None
    b = shapely.bounds(np.array(present, dtype=object))
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def gpb_of_wkbs(wkbs: Sequence[bytes | None], srid: int) -> list[bytes | None]:
    """GeoPackage binary of many WKB geometries (None kept), through ``layers.geopackage``'s codec."""
    if not wkbs:
        return []
    return encode_gpb_many(geometries(wkbs), srid)


def newer(a: Any, b: Any) -> bool:
    """True if time *a* is later than *b*; an unknown time is the oldest."""
    if a is None:
        return False
    if b is None:
        return True
    return str(a) > str(b)
