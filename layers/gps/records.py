"""Records streamed by the GPS readers: tracks/routes, segments, waypoints, statistics.

Coordinates are WGS84 longitude/latitude in degrees, elevations in metres
(nan when missing), times in UTC epoch seconds as floats (nan when missing).
Per-point extra values (``hr``, ``cad``, ``atemp``, ``hdop``, ``speed`` in m/s,
``course`` in degrees, ``sat`` ...) are numpy arrays aligned with the points:
float arrays with nan where a point has no value, or object arrays of str (None
where missing) for text values such as ``name`` or ``fix``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["Segment", "Track", "Waypoint", "Record", "GpsStats", "MAX_MESSAGES"]

#: How many detailed messages (with line numbers) a GpsStats keeps.
MAX_MESSAGES = 50


def _empty() -> np.ndarray:
    return np.empty(0, dtype=np.float64)


@dataclass(eq=False)
class Segment:
    """A run of points of a track (or the points of a route), as columns.

    Attributes
    ----------
    lon, lat, ele, time : numpy.ndarray of float64, all of the same length.
    extra : dict of str to numpy.ndarray, per-point values aligned with lon.
    """

    lon: np.ndarray = field(default_factory=_empty)
    lat: np.ndarray = field(default_factory=_empty)
    ele: np.ndarray = field(default_factory=_empty)
    time: np.ndarray = field(default_factory=_empty)
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lon)

    def take(self, index: np.ndarray | slice) -> Segment:
        """Return a new Segment with the points selected by ``index``.

        Parameters
        ----------
        index : array of bool (a mask) or of int (positions)

        Returns
        -------
        Segment
        """
        return Segment(
            lon=self.lon[index], lat=self.lat[index], ele=self.ele[index],
            time=self.time[index],
            extra={key: values[index] for key, values in self.extra.items()},
        )

    def with_coordinates(self, lon: np.ndarray, lat: np.ndarray) -> Segment:
        """Return a copy of this segment with other coordinates (same points)."""
        return replace(self, lon=lon, lat=lat)


@dataclass(eq=False)
class Track:
    """A GPS track (``kind='track'``) or route (``kind='route'``).

    Attributes
    ----------
    name, description : str or None
    kind : 'track' or 'route'
    segments : list of Segment; a route has exactly one; a track may have
        none, and segments may be empty (kept so counts match the file).
    creator : the program that wrote the file (GPX ``creator``), or None.
    device : the source device (GPX ``<src>``, NMEA talkers), or None.
    extras : dict of str to str, other fields (cmt, type, number, link,
        extension values).
    line : line of the file where the record starts (1-based), or None.
    """

    name: str | None
    kind: str
    description: str | None = None
    segments: list[Segment] = field(default_factory=list)
    creator: str | None = None
    device: str | None = None
    extras: dict[str, str] = field(default_factory=dict)
    line: int | None = None

    @property
    def n_points(self) -> int:
        """Number of points over all segments."""
        return sum(len(segment) for segment in self.segments)


@dataclass(eq=False)
class Waypoint:
    """A single named point (GPX ``<wpt>``, a CSV row).

    Attributes
    ----------
    lon, lat : float, degrees WGS84.
    ele : float, metres, nan when missing.
    time : float, UTC epoch seconds, nan when missing.
    name, desc, sym : str or None.
    extras : dict of str to str, every other field or column.
    line : line of the file where the record starts (1-based), or None.
    """

    lon: float
    lat: float
    ele: float = math.nan
    time: float = math.nan
    name: str | None = None
    desc: str | None = None
    sym: str | None = None
    extras: dict[str, str] = field(default_factory=dict)
    line: int | None = None


#: What the readers yield.
Record = Track | Waypoint


@dataclass(eq=False)
class GpsStats:
    """What one reading of a GPS file found; filled while the file is read.

    Attributes
    ----------
    path : str, the file.
    format : 'gpx', 'nmea' or 'csv'.
    version : GPX version ('1.0', '1.1'), or None.
    creator : GPX creator attribute, or None.
    tracks, segments, empty_segments, track_points : counts of tracks,
        their segments (empty ones included) and of the points kept.
    routes, route_points, waypoints : counts of records kept.
    dropped : Counter of points dropped by reason (``'bad_coordinates'``,
        ``'no_fix'``, ``'void_fix'``, ``'checksum'``, ``'bad_sentence'``,
        ``'no_position'``, ...).
    naive_times : how many times had no zone and were read in the given tz.
    bad_times : how many time values could not be read (kept as nan).
    checksum_errors : NMEA sentences skipped for a wrong checksum.
    messages : the first MAX_MESSAGES detailed messages, each naming the line.
    date_note : how an NMEA log without dates was dated (or why its times
        are empty), or None when every fix had a date from the file.
    """

    path: str
    format: str
    version: str | None = None
    creator: str | None = None
    tracks: int = 0
    segments: int = 0
    empty_segments: int = 0
    track_points: int = 0
    routes: int = 0
    route_points: int = 0
    waypoints: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    naive_times: int = 0
    bad_times: int = 0
    checksum_errors: int = 0
    messages: list[str] = field(default_factory=list)
    date_note: str | None = None

    @property
    def naive_time(self) -> bool:
        """True when some times had no zone (so the tz given was used)."""
        return self.naive_times > 0

    @property
    def dropped_total(self) -> int:
        """Total number of points dropped."""
        return sum(self.dropped.values())

    def drop(self, reason: str, line: int | None = None, detail: str | None = None, count: int = 1) -> None:
        """Count ``count`` dropped points for ``reason``; keep a message if given."""
        self.dropped[reason] += count
        if detail is not None:
            self.note(line, detail)

    def note(self, line: int | None, detail: str) -> None:
        """Keep a detailed message (up to MAX_MESSAGES) naming the line."""
        if len(self.messages) < MAX_MESSAGES:
            where = f"{self.path}, line {line}" if line is not None else self.path
            self.messages.append(f"{where}: {detail}")

    def count(self, record: Track | Waypoint) -> None:
        """Add a yielded record to the counts."""
        if isinstance(record, Waypoint):
            self.waypoints += 1
        elif record.kind == "route":
            self.routes += 1
            self.route_points += record.n_points
        else:
            self.tracks += 1
            self.segments += len(record.segments)
            self.empty_segments += sum(1 for s in record.segments if len(s) == 0)
            self.track_points += record.n_points
