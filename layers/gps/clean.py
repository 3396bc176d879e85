"""Cleaning of GPS traces: HDOP and speed filters, Douglas-Peucker simplification.

Every function returns the cleaned segment and a Counter of what it dropped
and why, so the import summary can report it. Reasons:

* ``'hdop_above_max'``: the point's HDOP is above the threshold;
* ``'speed_above_max'``: reaching the point from the last kept one needs a
  speed above the threshold (a jump);
* ``'time_not_increasing'``: the point's time is not after the last kept one
  (so no speed can be computed);
* ``'simplified'``: Douglas-Peucker removed it (within the tolerance).

Distances are measured in the UTM zone of the segment's centre (WGS84 / UTM,
EPSG 326xx north, 327xx south), where a metre is a metre to within 0.1 %.
"""

import math
from collections import Counter
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import shapely
from pyproj import Transformer

from layers.gps.records import Segment, Track

__all__ = ["CleanResult", "drop_hdop", "drop_fast", "simplify", "clean_track", "utm_epsg"]


class CleanResult(NamedTuple):
    """A cleaned segment and the Counter of dropped points by reason."""

    segment: Segment
    dropped: Counter[str]


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 / UTM zone containing (lon, lat), e.g. 32648 for Chengdu."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=16)
def _to_utm(epsg: int) -> Transformer:
    return Transformer.from_crs(4326, epsg, always_xy=True)


def _project(segment: Segment) -> tuple[np.ndarray, np.ndarray]:
    """Segment coordinates in metres (x, y arrays) in the UTM zone of its centre."""
    epsg = utm_epsg(float(np.median(segment.lon)), float(np.median(segment.lat)))
    return _to_utm(epsg).transform(segment.lon, segment.lat)


def drop_hdop(segment: Segment, max_hdop: float) -> CleanResult:
    """Drop points whose HDOP is above ``max_hdop``.

    Points without an HDOP (no ``'hdop'`` column, or nan) are kept.

    Parameters
    ----------
    segment : Segment
    max_hdop : float

    Returns
    -------
    CleanResult
    """
    hdop = segment.extra.get("hdop")
    if hdop is None or hdop.dtype == object:
        return CleanResult(segment, Counter())
    bad = hdop > max_hdop            # nan compares False: kept
    count = int(np.count_nonzero(bad))
    if not count:
        return CleanResult(segment, Counter())
    return CleanResult(segment.take(~bad), Counter(hdop_above_max=count))


def drop_fast(segment: Segment, max_kmh: float) -> CleanResult:
    """Drop points reached at more than ``max_kmh`` from the last kept point.

    The walk goes in time order of the file: each point with a time is
    compared with the last kept point with a time; a point whose time is not
    later is dropped (``'time_not_increasing'``). Points without a time are
    kept and not used as reference. The first timed point is trusted: a jump
    at the very start makes the following points look fast, so filter HDOP
    first where available.

    Parameters
    ----------
    segment : Segment
    max_kmh : float

    Returns
    -------
    CleanResult
    """
    n = len(segment)
    if n < 2:
        return CleanResult(segment, Counter())
    x, y = _project(segment)
    xs, ys, ts = x.tolist(), y.tolist(), segment.time.tolist()
    max_ms = max_kmh / 3.6
    keep = np.ones(n, dtype=bool)
    dropped: Counter[str] = Counter()
    last: int | None = None
    for i in range(n):
        t = ts[i]
        if t != t:
            continue
        if last is None:
            last = i
            continue
        dt = t - ts[last]
        if dt <= 0:
            keep[i] = False
            dropped["time_not_increasing"] += 1
        elif math.hypot(xs[i] - xs[last], ys[i] - ys[last]) > max_ms * dt:
            keep[i] = False
            dropped["speed_above_max"] += 1
        else:
            last = i
    if not dropped:
        return CleanResult(segment, dropped)
    return CleanResult(segment.take(keep), dropped)


def simplify(segment: Segment, tolerance_m: float) -> CleanResult:
    """Douglas-Peucker simplification with a tolerance in metres.

    The first and last points are always kept; kept points keep all their
    values (time, elevation, extra columns).

    Parameters
    ----------
    segment : Segment
    tolerance_m : float, metres.

    Returns
    -------
    CleanResult
    """
    n = len(segment)
    if n < 3 or tolerance_m <= 0:
        return CleanResult(segment, Counter())
    x, y = _project(segment)
    # The point index rides along as Z, which GEOS keeps on the kept vertices.
    line = shapely.linestrings(x, y, np.arange(n, dtype=np.float64))
    simple = shapely.simplify(line, tolerance_m, preserve_topology=False)
    kept = shapely.get_coordinates(simple, include_z=True)[:, 2].astype(np.int64)
    kept = np.unique(kept)
    if len(kept) == n:
        return CleanResult(segment, Counter())
    return CleanResult(segment.take(kept), Counter(simplified=n - len(kept)))


def clean_track(
    track: Track,
    *,
    max_hdop: float | None = None,
    max_speed_kmh: float | None = None,
    tolerance_m: float | None = None,
) -> tuple[Track, Counter[str]]:
    """Apply the HDOP filter, the speed filter then simplification to every segment.

    Parameters
    ----------
    track : Track
    max_hdop, max_speed_kmh, tolerance_m : float or None (None skips that step).

    Returns
    -------
    track : Track, a copy with the cleaned segments (empty segments stay).
    dropped : Counter of dropped points by reason, over all segments.
    """
    dropped: Counter[str] = Counter()
    segments: list[Segment] = []
    for segment in track.segments:
        if max_hdop is not None:
            segment, counts = drop_hdop(segment, max_hdop)
            dropped.update(counts)
        if max_speed_kmh is not None:
            segment, counts = drop_fast(segment, max_speed_kmh)
            dropped.update(counts)
        if tolerance_m is not None:
            segment, counts = simplify(segment, tolerance_m)
            dropped.update(counts)
        segments.append(segment)
    cleaned = Track(name=track.name, kind=track.kind, description=track.description,
                    segments=segments, creator=track.creator, device=track.device,
                    extras=dict(track.extras), line=track.line)
    return cleaned, dropped
