"""The one value-equality rule of the workspace and of sync: :func:`same_value`."""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["same_value", "normalised_wkb"]


def normalised_wkb(geometry: BaseGeometry) -> bytes:
    """A geometry as ISO, little-endian WKB written by shapely: equal coordinates give equal bytes."""
    return bytes(shapely.to_wkb(geometry, flavor="iso", byte_order=1))


def same_value(a: Any, b: Any) -> bool:
    """Whether two field values are the same value (the rule of tracking and of every merge).

    * NULL (None) is the same as NULL only: never as 0, ``''`` or an empty geometry.
    * Geometries (shapely objects) are the same when their normalised WKB
      (:func:`normalised_wkb`: ISO flavour, little-endian) is byte for byte
      equal: the same type, dimension and exactly the same coordinates,
      whichever tool wrote them.  A geometry is never the same as a
      non-geometry.  WKB held as ``bytes`` compares as bytes, so compare
      WKB written by the same writer (SpatiaLite's ``AsBinary``, or
      :func:`normalised_wkb`).
    * Floats are the same when they are equal (no tolerance: 0.1 + 0.2 is
      not 0.3); two NaN are the same; numbers compare by value across
      types as Python does (``1`` and ``1.0`` are the same, SQLite stores
      them alike in a REAL or INTEGER column).
    * Text is the same when it is equal character for character: case,
      whitespace and Unicode form count (no normalisation, no trimming);
      text is never the same as a number (``'1'`` is not ``1``).
    """
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, BaseGeometry) or isinstance(b, BaseGeometry):
        if not (isinstance(a, BaseGeometry) and isinstance(b, BaseGeometry)):
            return False
        return normalised_wkb(a) == normalised_wkb(b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)
