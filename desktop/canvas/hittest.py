"""Geometric queries on feature arrays: nearest feature, in-rectangle, vertices.

All functions are vectorised over the features returned by a source's
``features_in_extent`` for a small box around the cursor.
"""

from __future__ import annotations

import numpy as np
import shapely

from .source import FeatureArrays

__all__ = ["distances", "nearest", "in_rect", "vertices", "nearest_vertex"]


def _line_segments(lines: list[np.ndarray]):
    """Return segment starts, ends and owning feature index of polylines."""
    counts = np.fromiter((len(c) for c in lines), dtype=np.int64, count=len(lines))
    if counts.sum() == 0:
        empty = np.empty((0, 2))
        return empty, empty, np.empty(0, np.int64)
    xy = np.concatenate([np.asarray(c, dtype=np.float64).reshape(-1, 2) for c in lines])
    owner = np.repeat(np.arange(len(lines)), counts)
    joined = owner[:-1] == owner[1:]
    a = xy[:-1][joined]
    b = xy[1:][joined]
    seg_owner = owner[:-1][joined]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    single = np.flatnonzero(counts == 1)
    if single.size:  # a one-vertex line is a point: a zero-length segment
        p = xy[starts[single]]
        a = np.concatenate((a, p))
        b = np.concatenate((b, p))
        seg_owner = np.concatenate((seg_owner, single))
    return a, b, seg_owner


def distances(features: FeatureArrays, x: float, y: float) -> np.ndarray:
    """Return the distance from (x, y) to each feature, in map units."""
    if features.lines is None:
        return np.hypot(features.x - x, features.y - y)
    n = len(features)
    result = np.full(n, np.inf)
    if n == 0:
        return result
    a, b, owner = _line_segments(features.lines)
    ab = b - a
    length2 = (ab ** 2).sum(axis=1)
    p = np.array([x, y])
    t = np.where(length2 > 0, ((p - a) * ab).sum(axis=1) / np.where(length2 > 0, length2, 1), 0.0)
    t = np.clip(t, 0.0, 1.0)
    closest = a + ab * t[:, None]
    d = np.hypot(closest[:, 0] - x, closest[:, 1] - y)
    np.minimum.at(result, owner, d)
    return result


def nearest(features: FeatureArrays, x: float, y: float, tolerance: float):
    """Return (index, distance) of the feature nearest (x, y) within tolerance.

    Returns
    -------
    tuple of (int, float), or None
        None when no feature lies within ``tolerance`` map units.
    """
    if len(features) == 0:
        return None
    d = distances(features, x, y)
    i = int(np.argmin(d))
    if not d[i] <= tolerance:
        return None
    return i, float(d[i])


def in_rect(features: FeatureArrays, bbox) -> np.ndarray:
    """Return a mask of features inside (points) or crossing (lines) a box."""
    xmin, ymin, xmax, ymax = bbox
    if features.lines is None:
        return ((features.x >= xmin) & (features.x <= xmax)
                & (features.y >= ymin) & (features.y <= ymax))
    if len(features) == 0:
        return np.zeros(0, dtype=bool)
    counts = np.fromiter((len(c) for c in features.lines), dtype=np.int64)
    xy = np.concatenate(features.lines)
    geoms = shapely.linestrings(xy, indices=np.repeat(np.arange(len(counts)), counts)) \
        if (counts >= 2).all() else np.array(
            [shapely.LineString(c) if len(c) >= 2 else shapely.Point(c[0]) for c in features.lines])
    return shapely.intersects(geoms, shapely.box(xmin, ymin, xmax, ymax))


def vertices(features: FeatureArrays):
    """Return (feature index, x, y) of every vertex of the features."""
    if features.lines is None:
        return np.arange(len(features)), features.x, features.y
    if len(features) == 0:
        return np.empty(0, np.int64), np.empty(0), np.empty(0)
    counts = np.fromiter((len(c) for c in features.lines), dtype=np.int64)
    xy = np.concatenate(features.lines)
    return np.repeat(np.arange(len(counts)), counts), xy[:, 0], xy[:, 1]


def nearest_vertex(features: FeatureArrays, x: float, y: float, tolerance: float,
                   exclude_fid: int | None = None):
    """Return (x, y, fid) of the vertex nearest (x, y) within tolerance, or None.

    Parameters
    ----------
    exclude_fid : int, optional
        Skip this feature's vertices (the feature being moved).
    """
    owner, vx, vy = vertices(features)
    if vx.size == 0:
        return None
    d = np.hypot(vx - x, vy - y)
    if exclude_fid is not None:
        d = np.where(features.fid[owner] == exclude_fid, np.inf, d)
    i = int(np.argmin(d))
    if not d[i] <= tolerance:
        return None
    return float(vx[i]), float(vy[i]), int(features.fid[owner[i]])
