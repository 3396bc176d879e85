"""Import of GPS files into a workspace's survey layers ``gps_tracks`` and ``gps_waypoints``.

One call imports several files inside one transaction, each file in its own
savepoint:

* a file that cannot be read (hostile, malformed, truncated, not GPS) is
  rolled back alone, even when its error comes after records were read (a
  truncated large GPX); the other files still import and the error is kept in
  that file's summary (``FileSummary.error``);
* a cancel rolls back everything: nothing of the call is written;
* a file whose SHA-256 is already in either layer (imported before, or twice
  in the same call) is skipped with a message, not an error; so after fixing
  a bad file the same command can simply be run again.

Points the workspace cannot hold are skipped, never fatal: a point (track,
route or waypoint) outside the area of use of the workspace CRS (pyproj's,
widened by :data:`AREA_MARGIN_DEG` degrees) or that cannot be transformed to
it is left out, counted in ``FileSummary.dropped`` (``'outside_area'``,
``'not_transformable'``) and reported with the file and line.

Geometry: tracks and routes become one MultiLineString each, in the workspace
CRS (pyproj, from EPSG:4326 with ``always_xy=True``); segments without a line
(empty or one point) are left out of the geometry but counted; a track with no
line at all is not stored and is reported. A segment of two or more fixes all
at one place (a receiver held still, e.g. over a manhole cover) cannot be a
line: it is kept as one *stationary* waypoint at that place, its fixes counted
in its ``extras`` (``stationary_fixes``, ``start_time``, ``end_time``,
``point_values``); ``layers.gps.average`` averages such sessions. Lengths
are geodesic, on the WGS84 ellipsoid (``pyproj.Geod``), summed over the stored
segments (after cleaning). Times are stored in UTC.

A file read without error is ``imported``; it may still have given nothing
(``nothing_kept``, with ``nothing_kept_reason`` saying what was found and why
nothing was kept) or have skipped points (``skipped_total``); ``status`` is one
word or two on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
import shapely

from layers.errors import Cancelled, GpsImportError, TongchengError
from layers.gps import Track, read_gps
from layers.gps.clean import clean_track
from layers.gps.monitor import CancelCheck, Progress, cancel_callback
from layers.gps.records import MAX_MESSAGES, Segment, Waypoint
from layers.gps.timeparse import parse_tz
from layers.log import logger
from layers.sqlite.spatialite import multilinestring_blob_pieces, multilinestring_blob_size
from layers.workspace.bulk import BIG_BLOB_BYTES, insert_streamed

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

log = logger(__name__)

__all__ = ["import_gps", "ImportSummary", "FileSummary", "file_hash", "TRACKS_LAYER", "WAYPOINTS_LAYER",
           "AREA_MARGIN_DEG", "area_of_use"]

TRACKS_LAYER = "gps_tracks"
WAYPOINTS_LAYER = "gps_waypoints"
_WAYPOINT_BATCH = 10_000
_HASH_CHUNK = 1 << 20
_TRANSFORM_CHUNK = 1 << 16
_GEOD = pyproj.Geod(ellps="WGS84")
#: Degrees added on every side of a CRS's area of use before a point counts as outside it
#: (Gauss-Krueger zones are still accurate a little beyond their 3 or 6 degrees).
AREA_MARGIN_DEG = 1.0
#: Reasons of ``dropped`` that the user asked for (cleaning options), not skipped input.
_SKIP_REASONS = ("outside_area", "not_transformable")

#: A feature to insert: (attributes, shapely geometry).
_Row = tuple[dict[str, Any], Any]


@dataclass
class FileSummary:
    """What the import did with one file.

    Attributes
    ----------
    path : str; name : the file name stored in ``source_file``.
    sha256 : hex digest of the file's content (``source_hash``).
    format : 'gpx', 'nmea' or 'csv' (None if the file could not be opened).
    duplicate : True when the file was skipped because its hash was already
        imported; ``message`` then says so.
    tracks, routes, segments, empty_segments, track_points, route_points,
    waypoints : what the file holds, as read (the reader's counts: equal to
        GDAL's for a GPX; points the reader dropped are not counted).
    points : vertices stored, over tracks and routes (after cleaning).
    lineless_tracks : tracks or routes not stored because none of their
        segments has a line (no segment, or only empty or one-point ones):
        the layer's geometry cannot be empty. Stored: ``tracks + routes -
        lineless_tracks`` features.
    lineless_segments : segments left out of the stored geometries (empty,
        one point, or all points at one place), lineless tracks' included.
    dropped : Counter of points dropped, by reason (reader, import and cleaning);
        the import's reasons are ``'outside_area'`` and ``'not_transformable'``.
    cleaned : the part of ``dropped`` removed by cleaning (HDOP, speed, simplify).
    skipped_points : the part of ``dropped`` that are track or route points
        skipped by the import (outside the CRS's area, not transformable).
    skipped_waypoints : the part of ``dropped`` that are waypoints skipped by
        the import (same reasons).
    stationary : stationary sessions (segments of fixes all at one place)
        stored as one waypoint each; stationary_fixes : their fixes.
    checksum_errors : NMEA sentences skipped for a wrong checksum.
    date_note : how an NMEA log without dates was dated, or None.
    naive_times : times without a zone, read in ``tz``.
    bad_times : times that could not be read (stored as missing).
    tz : the zone used for times without one, e.g. '+08:00';
        tz_source : 'option' (given by the caller) or 'workspace' (its setting).
    messages : detailed notes (reader messages naming lines, warnings).
    error : the one-line error when the file was not imported (rolled back).
    seconds : time taken.
    """

    path: str
    name: str
    sha256: str | None = None
    format: str | None = None
    duplicate: bool = False
    message: str | None = None
    tracks: int = 0
    routes: int = 0
    waypoints: int = 0
    segments: int = 0
    empty_segments: int = 0
    lineless_segments: int = 0
    track_points: int = 0
    route_points: int = 0
    points: int = 0
    lineless_tracks: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    cleaned: Counter[str] = field(default_factory=Counter)
    skipped_points: Counter[str] = field(default_factory=Counter)
    skipped_waypoints: Counter[str] = field(default_factory=Counter)
    stationary: int = 0
    stationary_fixes: int = 0
    checksum_errors: int = 0
    date_note: str | None = None
    naive_times: int = 0
    bad_times: int = 0
    tz: str | None = None
    tz_source: str | None = None
    messages: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @property
    def imported(self) -> bool:
        """True when the file's records were written (not a duplicate, no error)."""
        return not self.duplicate and self.error is None

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    @property
    def lineless_points(self) -> int:
        """Points read but in no stored line nor stationary waypoint (segments of one point)."""
        return (self.track_points + self.route_points - sum(self.cleaned.values())
                - sum(self.skipped_points.values()) - self.points - self.stationary_fixes)

    @property
    def stored_tracks(self) -> int:
        """Features written to ``gps_tracks`` (tracks and routes with a line)."""
        return 0 if not self.imported else self.tracks + self.routes - self.lineless_tracks

    @property
    def stored_waypoints(self) -> int:
        """Features written to ``gps_waypoints``: the file's waypoints kept, and stationary sessions."""
        if not self.imported:
            return 0
        return self.waypoints - sum(self.skipped_waypoints.values()) + self.stationary

    @property
    def skipped_total(self) -> int:
        """Input read but not stored, cleaning aside: points, waypoints and sentences the reader
        dropped (no fix, bad coordinates, checksum...), points and waypoints outside the CRS's area
        or not transformable, points of segments without a line."""
        return self.dropped_total - sum(self.cleaned.values()) + self.lineless_points

    @property
    def nothing_kept(self) -> bool:
        """True when the file was read without error but nothing of it was stored."""
        return self.imported and self.stored_tracks == 0 and self.stored_waypoints == 0

    @property
    def nothing_kept_reason(self) -> str | None:
        """One line: what the file held and why nothing was kept; None when something was kept."""
        if not self.nothing_kept:
            return None
        found = (f"{_plural(self.tracks, 'track')}, {_plural(self.routes, 'route')} "
                 f"({_plural(self.track_points + self.route_points, 'point')}), "
                 f"{_plural(self.waypoints, 'waypoint')}")
        why: list[str] = []
        for reason, n in sorted(self.dropped.items()):
            why.append(f"{n} {_REASONS.get(reason, reason.replace('_', ' '))}")
        if self.lineless_points:
            why.append(f"{self.lineless_points} in segments of a single point")
        if not why:
            empty = self.empty_segments + self.lineless_tracks
            why.append("only empty tracks or segments" if empty else "no track, route or waypoint in the file")
        return f"{self.path}: nothing kept: found {found}; {'; '.join(why)}"

    @property
    def status(self) -> str:
        """One word or two: 'imported', 'partly imported', 'nothing kept', 'duplicate' or 'failed'."""
        if self.error is not None:
            return "failed"
        if self.duplicate:
            return "duplicate"
        if self.nothing_kept:
            return "nothing kept"
        return "partly imported" if self.skipped_total else "imported"

    @property
    def time_note(self) -> str | None:
        """One line on how times without a zone were read, or None when there were none."""
        if not self.naive_times:
            return None
        where = "--tz" if self.tz_source == "option" else "the workspace setting"
        plural = "" if self.naive_times == 1 else "s"
        return f"{self.naive_times} time{plural} had no zone: read as UTC{self.tz} ({where})"

    def _reset_counts(self) -> None:
        for name in ("tracks", "routes", "waypoints", "segments", "empty_segments", "lineless_segments",
                     "track_points", "route_points", "points", "lineless_tracks", "stationary",
                     "stationary_fixes", "checksum_errors"):
            setattr(self, name, 0)
        for counter in (self.dropped, self.cleaned, self.skipped_points, self.skipped_waypoints):
            counter.clear()

    def note(self, text: str) -> None:
        """Keep a detailed message (up to MAX_MESSAGES of the import's own, beyond the reader's)."""
        if len(self.messages) < 2 * MAX_MESSAGES:
            self.messages.append(text)


#: Words for the reasons of ``dropped`` in a one-line summary.
_REASONS = {
    "outside_area": "outside the area of use of the workspace CRS",
    "not_transformable": "not transformable to the workspace CRS",
    "no_fix": "epochs without a position fix",
    "checksum": "sentences with a wrong checksum",
    "bad_coordinates": "with unusable coordinates",
    "bad_sentence": "unreadable sentences",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass
class ImportSummary:
    """The result of :func:`import_gps`: one :class:`FileSummary` per file, in order."""

    files: list[FileSummary] = field(default_factory=list)

    @property
    def imported(self) -> list[FileSummary]:
        return [f for f in self.files if f.imported]

    @property
    def duplicates(self) -> list[FileSummary]:
        return [f for f in self.files if f.duplicate]

    @property
    def failed(self) -> list[FileSummary]:
        return [f for f in self.files if f.error is not None]

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return not self.failed

    @property
    def skipped(self) -> list[FileSummary]:
        """Files imported with something skipped, or that gave nothing (``skipped_total``, ``nothing_kept``)."""
        return [f for f in self.files if f.imported and (f.nothing_kept or f.skipped_total)]

    @property
    def complete(self) -> bool:
        """True when every file was imported whole (or before): nothing failed, nothing skipped."""
        return self.ok and not self.skipped


def file_hash(path: str | os.PathLike[str]) -> str:
    """SHA-256 hex digest of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _transformer(crs: str) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)


@lru_cache(maxsize=8)
def area_of_use(crs: str, margin: float = AREA_MARGIN_DEG) -> tuple[tuple[float, float, float, float], str] | None:
    """Where points of ``crs`` are meaningful: (west, south, east, north) in degrees, and a name.

    pyproj's area of use of the CRS widened by ``margin`` degrees on every
    side (clipped to the world); None when the CRS has no area of use.
    """
    area = pyproj.CRS.from_user_input(crs).area_of_use
    if area is None:
        return None
    west, south, east, north = area.bounds
    if west > east:  # an area across the antimeridian: no longitude limit
        west, east = -180.0, 180.0
    bounds = (max(west - margin, -180.0), max(south - margin, -90.0),
              min(east + margin, 180.0), min(north + margin, 90.0))
    return bounds, area.name.rstrip(".")


def _utc(epoch: float | None) -> dt.datetime | None:
    if epoch is None or not math.isfinite(epoch):
        return None
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _rounded(value: float) -> float:
    return float(f"{value:.6g}")


class _ColumnSummary:
    """Running min/mean/max of a numeric per-point column; a few distinct values of a text one."""

    __slots__ = ("count", "total", "low", "high", "values")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf
        self.values: dict[str, None] | None = None  # the distinct values, in order

    def add(self, array: np.ndarray) -> None:
        if array.dtype.kind in "fiu":
            finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
            if len(finite):
                self.count += len(finite)
                self.total += float(finite.sum())
                self.low = min(self.low, float(finite.min()))
                self.high = max(self.high, float(finite.max()))
        else:
            present = [v for v in array.tolist() if v is not None and v != ""]
            if present:
                self.count += len(present)
                self.values = self.values if self.values is not None else {}
                for value in present:
                    if len(self.values) >= 10:
                        break
                    self.values[str(value)] = None

    def result(self) -> dict[str, Any] | None:
        if not self.count:
            return None
        if self.values is not None:
            return {"count": self.count, "values": list(self.values)}
        return {"count": self.count, "min": _rounded(self.low), "mean": _rounded(self.total / self.count),
                "max": _rounded(self.high)}


def _point_summary(segments: Iterable[Segment]) -> dict[str, dict[str, Any]]:
    """Per-column summary of the point values of a track (elevation and extension values)."""
    columns: dict[str, _ColumnSummary] = {}
    for segment in segments:
        if not len(segment):
            continue
        columns.setdefault("ele", _ColumnSummary()).add(segment.ele)
        for key, values in segment.extra.items():
            try:
                columns.setdefault(key, _ColumnSummary()).add(np.asarray(values))
            except (TypeError, ValueError):  # an odd column never fails an import
                continue
    summary: dict[str, dict[str, Any]] = {}
    for key, column in columns.items():
        result = column.result()
        if result is not None:
            summary[key] = result
    return summary


class _Importer:
    def __init__(
        self,
        workspace: Workspace,
        *,
        tz: str,
        tz_source: str,
        datum: str,
        date: dt.date | None,
        cleaning: dict[str, float | None],
        progress: Progress | None,
        cancel: Callable[[], bool] | None,
        total_bytes: int,
    ) -> None:
        self.ws = workspace
        self.tz = tz
        self.tz_source = tz_source
        self.datum = datum
        self.date = date
        self.cleaning = cleaning
        self.cancel = cancel
        self.progress = progress
        self.total_bytes = total_bytes
        self.done_bytes = 0
        self.transformer = _transformer(workspace.crs)
        self.area = area_of_use(workspace.crs)
        tracks = workspace.layer(TRACKS_LAYER)
        waypoints = workspace.layer(WAYPOINTS_LAYER)
        self.track_fields = tracks.known_names
        self.waypoint_fields = waypoints.known_names

    # --- duplicates --------------------------------------------------------------------

    def already_imported(self, digest: str) -> str | None:
        """Name of the file under which this hash was imported before, or None."""
        for layer in (TRACKS_LAYER, WAYPOINTS_LAYER):
            row = self.ws.connection.execute(
                f"SELECT source_file FROM {layer} WHERE source_hash = ? LIMIT 1", (digest,)
            ).fetchone()
            if row:
                return row[0] or "?"
        return None

    # --- one file -----------------------------------------------------------------------

    def import_file(self, path: str | os.PathLike[str]) -> FileSummary:
        path = os.fspath(path)
        summary = FileSummary(path=path, name=Path(path).name, tz=self.tz, tz_source=self.tz_source)
        started = time.perf_counter()
        size = _size(path)
        try:
            try:
                summary.sha256 = file_hash(path)
            except OSError as exc:
                raise GpsImportError(f"{path}: cannot be read ({exc.strerror})") from None
            previous = self.already_imported(summary.sha256)
            if previous is not None:
                summary.duplicate = True
                same = "" if previous == summary.name else f" as {previous}"
                summary.message = f"{path}: already imported{same} (same SHA-256): skipped"
            else:
                with self.ws.session():
                    self._read_into(path, summary)
        except Cancelled:
            raise
        except TongchengError as exc:
            summary.error = str(exc)
            summary._reset_counts()
            summary.messages.clear()
        except (UnicodeError, LookupError) as exc:  # an encoding the reader could not handle
            log.debug("%s: decoding failed", path, exc_info=True)
            summary.error = f"{path}: cannot be decoded ({exc})"
            summary._reset_counts()
            summary.messages.clear()
        finally:
            summary.seconds = time.perf_counter() - started
        if summary.error is not None:
            log.info("%s: not imported (%s)", path, summary.error)
        elif summary.duplicate:
            log.info("%s: skipped, imported before", path)
        elif summary.nothing_kept:
            log.info("%s", summary.nothing_kept_reason)
        else:
            log.info("%s: %s, %d tracks, %d routes, %d waypoints, %d points dropped, in %.2f s", path, summary.format,
                     summary.tracks, summary.routes, summary.waypoints, summary.dropped_total, summary.seconds)
        self.done_bytes += size
        self._report(0)
        return summary

    def _report(self, done: int) -> None:
        if self.progress is not None:
            self.progress(self.done_bytes + done, self.total_bytes)

    def _read_into(self, path: str, summary: FileSummary) -> None:
        reader = read_gps(path, tz=self.tz, datum=self.datum, date=self.date,
                          progress=lambda done, total: self._report(done), cancel=self.cancel)
        summary.format = reader.format
        waypoints: list[_Row] = []
        with reader:
            for record in reader:
                if isinstance(record, Track):
                    waypoints.extend(self._store_track(record, summary))
                else:
                    row = self._waypoint_feature(record, summary)
                    if row is not None:
                        waypoints.append(row)
                if len(waypoints) >= _WAYPOINT_BATCH:
                    self.ws.insert_many(WAYPOINTS_LAYER, waypoints)
                    waypoints.clear()
        if waypoints:
            self.ws.insert_many(WAYPOINTS_LAYER, waypoints)
        stats = reader.stats
        for name in ("tracks", "routes", "segments", "empty_segments", "track_points", "route_points",
                     "waypoints", "checksum_errors", "date_note"):
            setattr(summary, name, getattr(stats, name))
        summary.dropped.update(stats.dropped)
        summary.naive_times = stats.naive_times
        summary.bad_times = stats.bad_times
        summary.messages[:0] = stats.messages

    def _where(self) -> str:
        assert self.area is not None
        return f"the area of use of {self.ws.crs} ({self.area[1]}, widened by {AREA_MARGIN_DEG:g}°)"

    def _inside(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray | None:
        """Mask of the points inside the CRS's area of use, or None when all are."""
        if self.area is None or not len(lon):
            return None
        west, south, east, north = self.area[0]
        inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
        return None if inside.all() else inside

    def _skip_points(self, summary: FileSummary, segment: Segment, keep: np.ndarray, reason: str,
                     what: str, problem: str) -> Segment:
        """Drop the points of a segment not in ``keep``, counted and reported; return the rest."""
        n = len(keep) - int(np.count_nonzero(keep))
        summary.dropped[reason] += n
        summary.skipped_points[reason] += n
        first = int(np.argmin(keep))
        summary.note(f"{summary.path}, {what}: {_plural(n, 'point')} of {len(keep)} {problem} "
                     f"(the first, point {first + 1}: lat {segment.lat[first]:.6f}, lon {segment.lon[first]:.6f}): "
                     "skipped")
        return segment.take(keep)

    def _transformable_in_place(self, lon: np.ndarray, lat: np.ndarray) -> bool:
        """Whether every point transforms to a finite x, y and the columns can take the result in place.

        Checked on a small scratch copy, 64K points at a time (a second transform, about 0.2 s
        a million points): the columns are overwritten only when nothing would be skipped,
        so a point that cannot be transformed is still reported with its own lon/lat.
        """
        if not all(isinstance(a, np.ndarray) and a.dtype == np.float64 and a.flags.c_contiguous
                   and a.flags.writeable for a in (lon, lat)) or np.shares_memory(lon, lat):
            return False
        for start in range(0, len(lon), _TRANSFORM_CHUNK):
            x, y = self.transformer.transform(lon[start:start + _TRANSFORM_CHUNK], lat[start:start + _TRANSFORM_CHUNK])
            if not (np.isfinite(x).all() and np.isfinite(y).all()):
                return False
        return True

    def _store_track(self, track: Track, summary: FileSummary) -> list[_Row]:
        """Insert one track or route; returns the waypoint rows of its stationary sessions."""
        n_segments = len(track.segments)
        n_read = track.n_points
        if any(value is not None for value in self.cleaning.values()):
            track, dropped = clean_track(track, **self.cleaning)
            summary.dropped.update(dropped)
            summary.cleaned.update(dropped)
        else:
            dropped = Counter()
        label = f"{track.kind} {track.name!r}" if track.name else track.kind
        what = f"line {track.line}, {label}" if track.line is not None else label
        parts: list[Any] = []
        stationary: list[_Row] = []
        length = 0.0
        points = 0
        lineless = 0
        start = end = math.nan
        point_values = _point_summary(track.segments)
        segments: list[Any] = track.segments  # emptied as it goes (None for each segment done)
        track.segments = []  # each segment's columns are released once its line is built
        segment = None
        for index in range(n_segments):
            segment, segments[index] = segments[index], None
            timed = np.isfinite(segment.time)  # min and max over these, without copying the times out
            if timed.any():
                first = float(np.min(segment.time, where=timed, initial=math.inf))
                last = float(np.max(segment.time, where=timed, initial=-math.inf))
                start = first if start != start else min(start, first)
                end = last if end != end else max(end, last)
            del timed
            inside = self._inside(segment.lon, segment.lat)
            if inside is not None:
                segment = self._skip_points(summary, segment, inside, "outside_area", what,
                                            f"lie outside {self._where()}")
            del inside
            if len(segment) < 2:
                lineless += 1
                continue
            segment_length: float | None = None
            if self._transformable_in_place(segment.lon, segment.lat):
                # Every point transforms: the columns become x and y where they are (no second
                # copy of a long segment), its length measured from lon/lat first.
                segment_length = _line_length(segment.lon, segment.lat)
                x, y = segment.lon, segment.lat
                self.transformer.transform(x, y, inplace=True)  # segment.lon, segment.lat now hold x, y
            else:
                x, y = self.transformer.transform(segment.lon, segment.lat)
                finite = np.isfinite(x) & np.isfinite(y)
                if not finite.all():
                    segment = self._skip_points(summary, segment, finite, "not_transformable", what,
                                                f"cannot be transformed to {self.ws.crs}")
                    x, y = x[finite], y[finite]
                    if len(segment) < 2:
                        lineless += 1
                        continue
                del finite
            if x.min() == x.max() and y.min() == y.max():
                stationary.append(self._stationary_feature(track, segment, float(x[0]), float(y[0]), summary))
                continue
            parts.append((x, y))
            del x, y
            if segment_length is None:
                segment_length = _line_length(segment.lon, segment.lat)
            length += segment_length
            points += len(segment)
        del segment, segments
        summary.lineless_segments += lineless
        if not parts:
            summary.lineless_tracks += 1
            if stationary:
                summary.note(f"{summary.path}, {what}: every fix at one place (a receiver held still): "
                             f"kept as {_plural(len(stationary), 'stationary waypoint')}")
            else:
                summary.note(f"{summary.path}, {what} has no segment with a line "
                             f"({n_read} point{'' if n_read == 1 else 's'}): not stored")
            return stationary
        extras: dict[str, Any] = {key: value for key, value in track.extras.items()}
        if point_values:
            extras["point_values"] = point_values
        if dropped:
            extras["cleaning_dropped"] = dict(dropped)
        if lineless:
            extras["segments_without_line"] = lineless
        if stationary:
            extras["stationary_sessions"] = len(stationary)
        attributes = {
            "name": track.name,
            "kind": track.kind,
            "description": track.description,
            "start_time": _utc(start),
            "end_time": _utc(end),
            "point_count": points,
            "segment_count": n_segments,
            "length_m": round(length, 3),
            "creator": track.creator,
            "source_file": summary.name,
            "source_hash": summary.sha256,
            "extras": extras or None,
        }
        if "device" in self.track_fields:
            attributes["device"] = track.device
        elif track.device:
            extras["device"] = track.device
            attributes["extras"] = extras
        size = multilinestring_blob_size([len(x) for x, _ in parts])
        if size >= BIG_BLOB_BYTES:
            # A long track: its blob is written straight from the lines' coordinates, piece by piece,
            # into the row (neither the whole-track geometry nor its blob is ever built); each line's
            # coordinates go once written. Byte for byte the blob insert_many would store.
            insert_streamed(self.ws, TRACKS_LAYER, attributes, size,
                            multilinestring_blob_pieces(parts, self.ws.srid))
        else:
            geometry = shapely.multilinestrings([shapely.linestrings(x, y) for x, y in parts])
            parts.clear()
            # Handed over, not shared: insert_many lets go of the geometry once its blob is built.
            row: list[_Row] = [(attributes, geometry)]
            del geometry
            self.ws.insert_many(TRACKS_LAYER, _handed_over(row))
        del parts
        summary.points += points
        return stationary

    def _stationary_feature(self, track: Track, segment: Segment, x: float, y: float,
                            summary: FileSummary) -> _Row:
        """The waypoint of a segment whose fixes are all at one place (a receiver held still)."""
        n = len(segment)
        summary.stationary += 1
        summary.stationary_fixes += n
        times = segment.time[np.isfinite(segment.time)]
        elevations = segment.ele[np.isfinite(segment.ele)]
        start = _utc(float(times.min())) if len(times) else None
        end = _utc(float(times.max())) if len(times) else None
        extras: dict[str, Any] = {
            "stationary_fixes": n,
            "start_time": start.isoformat() if start else None,
            "end_time": end.isoformat() if end else None,
            "track": track.name,
            "device": track.device,
        }
        values = _point_summary([segment])
        if values:
            extras["point_values"] = values
        attributes = {
            "name": track.name,
            "description": f"stationary: {n} fixes at one place",
            "time": start,
            "elevation": round(float(elevations.mean()), 3) if len(elevations) else None,
            "symbol": None,
            "source_file": summary.name,
            "source_hash": summary.sha256,
            "extras": {k: v for k, v in extras.items() if v is not None},
        }
        return attributes, shapely.Point(x, y)

    def _skip_waypoint(self, waypoint: Waypoint, summary: FileSummary, reason: str, problem: str) -> None:
        summary.dropped[reason] += 1
        summary.skipped_waypoints[reason] += 1
        where = f"line {waypoint.line}, " if waypoint.line is not None else ""
        name = f" {waypoint.name!r}" if waypoint.name else ""
        summary.note(f"{summary.path}, {where}waypoint{name} at lat {waypoint.lat:.6f}, lon {waypoint.lon:.6f} "
                     f"{problem}: skipped")

    def _waypoint_feature(self, waypoint: Waypoint, summary: FileSummary) -> _Row | None:
        if self.area is not None:
            west, south, east, north = self.area[0]
            if not (west <= waypoint.lon <= east and south <= waypoint.lat <= north):
                self._skip_waypoint(waypoint, summary, "outside_area", f"lies outside {self._where()}")
                return None
        x, y = self.transformer.transform(waypoint.lon, waypoint.lat)
        if not (math.isfinite(x) and math.isfinite(y)):
            self._skip_waypoint(waypoint, summary, "not_transformable", f"cannot be transformed to {self.ws.crs}")
            return None
        attributes = {
            "name": waypoint.name,
            "description": waypoint.desc,
            "time": _utc(waypoint.time),
            "elevation": _finite_or_none(waypoint.ele),
            "symbol": waypoint.sym,
            "source_file": summary.name,
            "source_hash": summary.sha256,
            "extras": dict(waypoint.extras) or None,
        }
        return attributes, shapely.Point(x, y)


def _line_length(lon: np.ndarray, lat: np.ndarray) -> float:
    """``float(_GEOD.line_length(lon, lat))``, exactly, without pyproj copying whole columns.

    pyproj copies both columns into scratch buffers (16 MB a million points) and sums the
    edges' lengths one after the other; a long line is measured here 64K edges at a time and
    the edges summed in the same order, so the total is the same float.
    """
    n = len(lon)
    if n <= _TRANSFORM_CHUNK + 1:
        return float(_GEOD.line_length(lon, lat))
    total = 0.0
    for start in range(0, n - 1, _TRANSFORM_CHUNK):
        stop = min(start + _TRANSFORM_CHUNK + 1, n)
        for edge in _GEOD.line_lengths(lon[start:stop], lat[start:stop]).tolist():
            total += edge
    return total


def _handed_over(rows: list[_Row]) -> Iterator[_Row]:
    """Yield the rows, each removed from the list first (so the consumer holds the only reference)."""
    rows.reverse()
    while rows:
        yield rows.pop()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def import_gps(
    workspace: Workspace,
    paths: Iterable[str | os.PathLike[str]],
    *,
    tz: str | float | dt.tzinfo | None = None,
    datum: str = "wgs84",
    date: dt.date | None = None,
    simplify_m: float | None = None,
    max_speed_kmh: float | None = None,
    max_hdop: float | None = None,
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
) -> ImportSummary:
    """Import GPS files (GPX, NMEA, CSV of points) into ``gps_tracks`` and ``gps_waypoints``.

    Parameters
    ----------
    workspace : Workspace
    paths : iterable of path-like
    tz : zone for times written without one (``'+08:00'``, ``'Asia/Shanghai'``,
        hours...); None uses the workspace's ``timezone`` setting.
    datum : 'wgs84', 'gcj02' or 'bd09', the datum of the files' coordinates.
    date : the UTC date of the first fix of NMEA logs that date none of their
        fixes (GGA without RMC or ZDA); None leaves their times empty. Each
        such file's ``date_note`` says what was done.
    simplify_m : Douglas-Peucker tolerance in metres, or None.
    max_speed_kmh : drop track points reached faster than this, or None.
    max_hdop : drop track points with a larger HDOP, or None.
    progress : callable(done_bytes, total_bytes) over all files, or None.
    cancel : callable() -> bool, an object with ``is_set()``, or None.

    Returns
    -------
    ImportSummary
        One FileSummary per file; files that failed carry ``error`` and wrote
        nothing; duplicates carry ``duplicate`` and ``message``; files read
        whole may still have skipped points (``skipped_total``, reasons in
        ``dropped`` and ``messages``) or kept nothing (``nothing_kept``).

    Raises
    ------
    Cancelled
        When ``cancel`` said so; nothing of this call is written.
    ValueError
        For an unknown datum or time zone.

    Notes
    -----
    Everything runs in one transaction, one savepoint per file: a bad file
    rolls back alone (even when its error is found after records were read),
    a cancel rolls back all. Inserts are tracked edits of the workspace.
    """
    files = [os.fspath(p) for p in paths]
    if tz is None:
        tz_text, tz_source = workspace.setting("timezone") or "+00:00", "workspace"
    else:
        tz_text, tz_source = str(tz), "option"
    parse_tz(tz_text)  # a bad zone is a ValueError before anything is read
    is_cancelled = cancel_callback(cancel)
    importer = _Importer(
        workspace, tz=tz_text, tz_source=tz_source, datum=datum, date=date,
        cleaning={"max_hdop": max_hdop, "max_speed_kmh": max_speed_kmh, "tolerance_m": simplify_m},
        progress=progress, cancel=is_cancelled, total_bytes=sum(_size(p) for p in files),
    )
    summary = ImportSummary()
    with workspace.session():
        for path in files:
            if is_cancelled is not None and is_cancelled():
                raise Cancelled(f"{path}: import cancelled by the user")
            summary.files.append(importer.import_file(path))
        if is_cancelled is not None and is_cancelled():
            raise Cancelled("import cancelled by the user; nothing was written")
    return summary
