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
``point_values``), and every one of its fixes as a point of
``gps_track_points`` (see ``layers.gps.trackpoints``); ``layers.gps.average``
averages such sessions, from the file or from the kept fixes. Lengths
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
from layers.gps.records import Segment, Waypoint
from layers.gps.summary import FileSummary, ImportSummary, _plural, _point_summary
from layers.gps.timeparse import parse_tz
from layers.gps.trackpoints import TRACK_POINTS_LAYER, track_point_rows
from layers.log import logger
from layers.sqlite.spatialite import multilinestring_blob_pieces, multilinestring_blob_size
from layers.workspace.bulk import BIG_BLOB_BYTES, insert_streamed
from layers.workspace.identity import new_uuid

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

log = logger(__name__)

__all__ = ["import_gps", "file_hash", "TRACKS_LAYER", "WAYPOINTS_LAYER", "AREA_MARGIN_DEG", "area_of_use"]

TRACKS_LAYER = "gps_tracks"
WAYPOINTS_LAYER = "gps_waypoints"
_WAYPOINT_BATCH = 10_000
_HASH_CHUNK = 1 << 20
_TRANSFORM_CHUNK = 1 << 16
_GEOD = pyproj.Geod(ellps="WGS84")
#: Degrees added on every side of a CRS's area of use before a point counts as outside it
#: (Gauss-Krueger zones are still accurate a little beyond their 3 or 6 degrees).
AREA_MARGIN_DEG = 1.0

#: A feature to insert: (attributes, shapely geometry) or (attributes, geometry, identity such as its uuid).
_Row = tuple[Any, ...]


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
        self.keeps_fixes = TRACK_POINTS_LAYER in workspace.definitions

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
                stationary.append(self._stationary_feature(track, segment, index + 1, float(x[0]), float(y[0]),
                                                           summary))
                continue
            parts.append((x, y))
            del x, y
            if segment_length is None:
                segment_length = _line_length(segment.lon, segment.lat)
            length += segment_length
            points += len(segment)
        del segment, segments
        summary.lineless_segments += lineless
        if stationary:
            fixes = sum(row[0]["extras"]["stationary_fixes"] for row in stationary)
            kept = (f" and its {fixes} fix{'' if fixes == 1 else 'es'} as points of {TRACK_POINTS_LAYER}"
                    if self.keeps_fixes
                    else f" (this workspace has no {TRACK_POINTS_LAYER} layer: the {fixes} fixes themselves "
                         "are not kept)")
            held = "every fix" if not parts else f"{_plural(len(stationary), 'segment')} with every fix"
            summary.note(f"{summary.path}, {what}: {held} at one place (a receiver held still): kept as "
                         f"{_plural(len(stationary), 'stationary waypoint')}{kept}")
        if not parts:
            summary.lineless_tracks += 1
            if not stationary:
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

    def _stationary_feature(self, track: Track, segment: Segment, segment_number: int, x: float, y: float,
                            summary: FileSummary) -> _Row:
        """The waypoint of a segment whose fixes are all at one place (a receiver held still).

        Its fixes are written to ``gps_track_points`` here (when the workspace has that layer),
        each naming the waypoint's uuid.
        """
        n = len(segment)
        summary.stationary += 1
        summary.stationary_fixes += n
        uuid = new_uuid()
        if self.keeps_fixes:
            summary.track_points_kept += self.ws.insert_many(TRACK_POINTS_LAYER, track_point_rows(
                segment, x, y, session_uuid=uuid, track=track.name, segment_number=segment_number,
                source_file=summary.name, source_hash=summary.sha256))
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
            "track_points": n if self.keeps_fixes else None,
        }
        values = _point_summary([segment])
        if values:
            extras["point_values"] = values
        attributes = {
            "name": track.name,
            "description": f"stationary: {n} fixes at one place"
                           + (f" (kept in {TRACK_POINTS_LAYER})" if self.keeps_fixes else ""),
            "time": start,
            "elevation": round(float(elevations.mean()), 3) if len(elevations) else None,
            "symbol": None,
            "source_file": summary.name,
            "source_hash": summary.sha256,
            "extras": {k: v for k, v in extras.items() if v is not None},
        }
        return attributes, shapely.Point(x, y), {"uuid": uuid}

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
