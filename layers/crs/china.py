"""Chinese map datums: WGS84 <-> GCJ-02 ("Mars") <-> BD-09 (Baidu), for scalars and arrays.

GCJ-02 is WGS84 plus an obfuscating offset (a few hundred metres) that
Chinese map services (Amap/Gaode, Tencent, Google in China) use; BD-09 adds
Baidu's own offset on top of GCJ-02. The forward formulas are the published
ones (Krasovsky ellipsoid constants, as in the wandergis/coordtransform and
googollee/eviltransform projects). The inverses have no closed form: they are
computed by fixed-point iteration until the forward image of the result is
within 1e-10 degrees (about 0.01 mm) of the input, so the error of an inverse is
far under a metre.

Outside the rough bounding box of China the offset is not applied (as every
implementation does): coordinates there pass through unchanged.

Every function takes scalars or numpy arrays (any matching shapes) and returns
floats or arrays accordingly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DATUMS",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "to_wgs84",
    "from_wgs84",
]

#: Datum names accepted by :func:`to_wgs84` and :func:`from_wgs84`.
DATUMS = ("wgs84", "gcj02", "bd09")

_A = 6378245.0                      # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323        # Krasovsky 1940 first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOLERANCE = 1e-10                  # degrees, for the inverses
_MAX_ITERATIONS = 30

#: (lon, lat): two floats for scalar input, two numpy arrays for array input.
LonLat = tuple[Any, Any]


def _result(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> LonLat:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def _inputs(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64),
                                   np.asarray(lat, dtype=np.float64))
    return lon, lat, scalar


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> bool | np.ndarray:
    """Return True (or a bool array) where the point is outside China's bounding box.

    Parameters
    ----------
    lon, lat : float or array_like, degrees.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    outside = (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)
    return bool(outside) if outside.ndim == 0 else outside


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84, in degrees, at WGS84 (lon, lat) arrays."""
    x = lon - 105.0
    y = lat - 35.0
    root = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj_rough(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published approximate inverse of the BD-09 offset (first guess)."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    lon: np.ndarray,
    lat: np.ndarray,
    guess: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(w) = (lon, lat) for w by fixed-point iteration from guess."""
    w_lon, w_lat = guess
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = forward(w_lon, w_lat)
        e_lon = f_lon - lon
        e_lat = f_lat - lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
        error = np.nanmax(np.abs(np.concatenate([e_lon.ravel(), e_lat.ravel()])), initial=0.0)
        if error < _TOLERANCE:
            break
    return w_lon, w_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS84 to GCJ-02.

    Parameters
    ----------
    lon, lat : float or array_like, degrees.

    Returns
    -------
    (lon, lat) : floats or numpy arrays, degrees GCJ-02.
    """
    lon, lat, scalar = _inputs(lon, lat)
    return _result(*_wgs_to_gcj(lon, lat), scalar)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 to WGS84 by iteration (error far below 1 m).

    Parameters
    ----------
    lon, lat : float or array_like, degrees GCJ-02.

    Returns
    -------
    (lon, lat) : floats or numpy arrays, degrees WGS84.
    """
    lon, lat, scalar = _inputs(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    return _result(*_invert(_wgs_to_gcj, lon, lat, (lon - dlon, lat - dlat)), scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 to BD-09.

    Parameters
    ----------
    lon, lat : float or array_like, degrees GCJ-02.

    Returns
    -------
    (lon, lat) : floats or numpy arrays, degrees BD-09.
    """
    lon, lat, scalar = _inputs(lon, lat)
    return _result(*_gcj_to_bd(lon, lat), scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 to GCJ-02 by iteration from the published approximation.

    Parameters
    ----------
    lon, lat : float or array_like, degrees BD-09.

    Returns
    -------
    (lon, lat) : floats or numpy arrays, degrees GCJ-02.
    """
    lon, lat, scalar = _inputs(lon, lat)
    return _result(*_invert(_gcj_to_bd, lon, lat, _bd_to_gcj_rough(lon, lat)), scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS84 to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like, degrees WGS84.

    Returns
    -------
    (lon, lat) : floats or numpy arrays, degrees BD-09.
    """
    lon, lat, scalar = _inputs(lon, lat)
    return _result(*_gcj_to_bd(*_wgs_to_gcj(lon, lat)), scalar)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 to WGS84 (through GCJ-02, both steps inverted by iteration).

    Parameters
    ----------
    lon, lat : float or array_like, degrees BD-09.

    Returns
    -------
    (lon, lat) : floats or numpy arrays, degrees WGS84.
    """
    lon, lat, scalar = _inputs(lon, lat)
    g_lon, g_lat = _invert(_gcj_to_bd, lon, lat, _bd_to_gcj_rough(lon, lat))
    dlon, dlat = _gcj_offset(g_lon, g_lat)
    return _result(*_invert(_wgs_to_gcj, g_lon, g_lat, (g_lon - dlon, g_lat - dlat)), scalar)


def to_wgs84(lon: ArrayLike, lat: ArrayLike, datum: str) -> LonLat:
    """Convert coordinates in ``datum`` ('wgs84', 'gcj02' or 'bd09') to WGS84.

    Raises
    ------
    ValueError
        For an unknown datum name.
    """
    if datum == "wgs84":
        lon, lat, scalar = _inputs(lon, lat)
        return _result(lon, lat, scalar)
    if datum == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if datum == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown datum {datum!r}: expected one of {', '.join(DATUMS)}")


def from_wgs84(lon: ArrayLike, lat: ArrayLike, datum: str) -> LonLat:
    """Convert WGS84 coordinates to ``datum`` ('wgs84', 'gcj02' or 'bd09').

    Raises
    ------
    ValueError
        For an unknown datum name.
    """
    if datum == "wgs84":
        lon, lat, scalar = _inputs(lon, lat)
        return _result(lon, lat, scalar)
    if datum == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if datum == "bd09":
        return wgs84_to_bd09(lon, lat)
    raise ValueError(f"unknown datum {datum!r}: expected one of {', '.join(DATUMS)}")
