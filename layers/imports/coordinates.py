"""Source coordinates to the workspace CRS.

A source CRS is an EPSG code (``EPSG:4326`` WGS84, ``EPSG:4490`` CGCS2000, a
Gauss-Krüger zone such as ``EPSG:4544`` or ``EPSG:4513``) or one of the web-map
datums of Chinese map services, ``gcj02`` (AMap, Tencent) and ``bd09`` (Baidu):
longitudes and latitudes shifted from WGS84, brought back with
``layers.crs.china`` before the projection. A point lands only inside the area
of use of the workspace CRS (pyproj's, widened by ``AREA_MARGIN_DEG``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyproj
import shapely

from layers.crs.china import to_wgs84
from layers.crs.epsg import epsg_crs
from layers.imports.problems import InventoryImportError

__all__ = ["SourceCrs", "parse_source_crs", "Reprojector", "AREA_MARGIN_DEG"]

#: Degrees added on every side of the CRS's area of use (as the GPS import does).
AREA_MARGIN_DEG = 1.0

_ALIASES = {"wgs84": "EPSG:4326", "cgcs2000": "EPSG:4490"}


@dataclass(frozen=True)
class SourceCrs:
    """The CRS of the source's coordinates: an EPSG code, and a datum shift for GCJ-02/BD-09."""

    label: str
    epsg: int
    datum: str = "wgs84"   # "gcj02" and "bd09": longitude/latitude in a web-map datum


def parse_source_crs(text: str) -> SourceCrs:
    """``EPSG:n`` (anything with an EPSG code), ``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09``."""
    name = text.strip().lower().replace("-", "").replace("_", "")
    if name in ("gcj02", "bd09"):
        return SourceCrs(name, 4326, name)
    code, parsed = epsg_crs(_ALIASES.get(name, text.strip()), InventoryImportError)
    return SourceCrs(f"EPSG:{code}", code)


class Reprojector:
    """Moves geometries from the source CRS to the target CRS and checks the area of use."""

    def __init__(self, source: SourceCrs, target_crs: str) -> None:
        self.source = source
        self.target_crs = target_crs
        target = pyproj.CRS.from_user_input(target_crs)
        source_crs = pyproj.CRS.from_epsg(source.epsg)
        # Coordinates already WGS84 longitude, latitude (EPSG:4326, or after undoing GCJ-02 / BD-09) need no move.
        self._to_lonlat = None if source.epsg == 4326 else pyproj.Transformer.from_crs(source_crs, 4326,
                                                                                       always_xy=True)
        self._to_target = pyproj.Transformer.from_crs(
            4326 if source.datum != "wgs84" else source_crs, target, always_xy=True)
        area = target.area_of_use
        if area is None:
            self.area: tuple[float, float, float, float] | None = None
            self.area_name = target_crs
        else:
            west, south, east, north = area.bounds
            if west > east:
                west, east = -180.0, 180.0
            m = AREA_MARGIN_DEG
            self.area = (west - m, south - m, east + m, north + m)
            self.area_name = area.name.rstrip(".")

    def move(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Source coordinates as WGS84 longitude and latitude (for the area check) and in the target CRS."""
        if self.source.datum != "wgs84":
            lon, lat = to_wgs84(x, y, self.source.datum)
            lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
            tx, ty = self._to_target.transform(lon, lat)
        else:
            lon, lat = self._to_lonlat.transform(x, y) if self._to_lonlat is not None else (x, y)
            tx, ty = self._to_target.transform(x, y)
        return (np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), np.asarray(tx, dtype=float),
                np.asarray(ty, dtype=float))

    def refused(self, lon: np.ndarray, lat: np.ndarray, tx: np.ndarray,
                ty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per moved coordinate: outside the area of use (or not a position at all); not transformed."""
        outside = ~(np.isfinite(lon) & np.isfinite(lat))
        if self.area is not None:
            w, s, e, n = self.area
            outside |= (lon < w) | (lon > e) | (lat < s) | (lat > n)
        return outside, ~(np.isfinite(tx) & np.isfinite(ty))

    def why(self, outside: bool) -> str:
        """Why a geometry cannot land: outside the area of use, or not transformed."""
        return (f"outside the area of use of {self.target_crs} ({self.area_name})" if outside else
                f"cannot be transformed from {self.source.label} to {self.target_crs}")

    def many(self, geometries: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
        """Every geometry of an array (none None or empty) in the target CRS, all coordinates transformed at
        once; per geometry None or why it cannot land (as :meth:`__call__`, whose answers these are)."""
        flat = shapely.force_2d(np.asarray(geometries, dtype=object))
        xy, index = shapely.get_coordinates(flat, return_index=True)
        lon, lat, tx, ty = self.move(xy[:, 0], xy[:, 1])
        outside, unmoved = self.refused(lon, lat, tx, ty)
        count = len(flat)
        out = np.bincount(index, weights=outside, minlength=count) > 0
        bad = np.bincount(index, weights=unmoved, minlength=count) > 0
        moved = shapely.set_coordinates(flat.copy(), np.column_stack([tx, ty]))
        why: list[str | None] = [None] * count
        if out.any() or bad.any():
            for i in np.flatnonzero(out | bad).tolist():
                why[i] = self.why(bool(out[i]))
        return moved, why

    def __call__(self, geometry: object) -> tuple[object, str | None]:
        """(the geometry in the target CRS, None) or (None, why it cannot land)."""
        outside: list[bool] = []

        def move(xy: np.ndarray) -> np.ndarray:
            lon, lat, tx, ty = self.move(xy[:, 0], xy[:, 1])
            if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
                outside.append(True)
            elif self.area is not None:
                w, s, e, n = self.area
                outside.append(bool(((lon < w) | (lon > e) | (lat < s) | (lat > n)).any()))
            return np.column_stack([tx, ty])

        moved = shapely.transform(shapely.force_2d(geometry), move)
        if outside and outside[0]:
            return None, f"outside the area of use of {self.target_crs} ({self.area_name})"
        coordinates = shapely.get_coordinates(moved)
        if not np.isfinite(coordinates).all():
            return None, f"cannot be transformed from {self.source.label} to {self.target_crs}"
        return moved, None

