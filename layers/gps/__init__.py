"""GPS file reading: GPX, NMEA 0183 and CSV of points, dispatched by content.

Usage::

    with read_gps("walk.gpx", tz="+08:00") as reader:
        for record in reader:          # Track (track or route) or Waypoint
            ...
    print(reader.stats.track_points, reader.stats.dropped)

The readers stream: records are yielded as the file is read, and statistics
(:class:`GpsStats`) fill in meanwhile; they are complete once iteration ends.
A :class:`~layers.errors.GpsImportError` may be raised after some records were
yielded (a truncated file): the caller writes in one transaction and must then
roll back, as the message says.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Generator
from datetime import tzinfo
from types import TracebackType
from typing import Literal

from layers.crs.china import DATUMS, to_wgs84
from layers.errors import GpsImportError
from layers.gps.csvpoints import read_csv_points
from layers.gps.gpx import looks_like_gpx, read_gpx
from layers.gps.monitor import CancelCheck, Monitor, Progress
from layers.gps.nmea import looks_like_nmea, read_nmea
from layers.gps.records import GpsStats, Record, Segment, Track, Waypoint
from layers.gps.timeparse import parse_tz

__all__ = [
    "read_gps",
    "sniff_format",
    "GpsReader",
    "GpsStats",
    "Segment",
    "Track",
    "Waypoint",
    "FORMATS",
]

#: Format names, as returned by :func:`sniff_format`.
FORMATS = ("gpx", "nmea", "csv")

_READERS = {"gpx": read_gpx, "nmea": read_nmea, "csv": read_csv_points}
_SNIFF_SIZE = 65536


def sniff_format(path: str | os.PathLike[str]) -> str:
    """Return 'gpx', 'nmea' or 'csv' from the first bytes of the file.

    The content decides; the extension only breaks a tie between NMEA and CSV
    (a file of NMEA sentences is also comma-separated text).

    Raises
    ------
    GpsImportError
        If the file cannot be opened, is empty, or is not one of the formats.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_SIZE)
    except OSError as exc:
        raise GpsImportError(f"{path}: cannot be read ({exc.strerror})") from None
    if not head.strip():
        raise GpsImportError(f"{path}: the file is empty")
    if looks_like_gpx(head):
        return "gpx"
    if looks_like_nmea(head):
        return "nmea"
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"<") or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise GpsImportError(f"{path}, line 1: XML but not GPX (no <gpx> element)")
    if b"\x00" not in head and any(d in head for d in (b",", b";", b"\t", b"|")):
        return "csv"
    raise GpsImportError(f"{path}: not a GPX, NMEA or CSV file")


def _convert(record: Record, datum: str) -> Record:
    if isinstance(record, Waypoint):
        record.lon, record.lat = to_wgs84(record.lon, record.lat, datum)
    else:
        record.segments = [segment.with_coordinates(*to_wgs84(segment.lon, segment.lat, datum))
                           for segment in record.segments]
    return record


class GpsReader:
    """The records of one GPS file, read lazily; see :func:`read_gps`.

    Attributes
    ----------
    path : str
    format : 'gpx', 'nmea' or 'csv'.
    stats : GpsStats of the current (or last) iteration.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        format: str | None = None,
        tz: str | float | tzinfo | None = None,
        datum: str = "wgs84",
        progress: Progress | None = None,
        cancel: CancelCheck | None = None,
        date: dt.date | None = None,
    ) -> None:
        self.path = os.fspath(path)
        if datum not in DATUMS:
            raise ValueError(f"unknown datum {datum!r}: expected one of {', '.join(DATUMS)}")
        if format is not None and format not in FORMATS:
            raise ValueError(f"unknown format {format!r}: expected one of {', '.join(FORMATS)}")
        self.format = format or sniff_format(self.path)
        self.tz = parse_tz(tz)
        self.datum = datum
        self.date = date
        self._progress = progress
        self._cancel = cancel
        self.stats = GpsStats(path=self.path, format=self.format)
        self._iterator: Generator[Record, None, None] | None = None

    def __iter__(self) -> Generator[Record, None, None]:
        self.close()
        self.stats = GpsStats(path=self.path, format=self.format)
        self._iterator = self._records(self.stats)
        return self._iterator

    def _records(self, stats: GpsStats) -> Generator[Record, None, None]:
        monitor = Monitor(self.path, os.path.getsize(self.path), self._progress, self._cancel)
        monitor(0)
        if self.format == "nmea":
            records = read_nmea(self.path, stats=stats, tz=self.tz, monitor=monitor, date=self.date)
        else:
            records = _READERS[self.format](self.path, stats=stats, tz=self.tz, monitor=monitor)
        for record in records:
            if self.datum != "wgs84":
                record = _convert(record, self.datum)
            stats.count(record)
            yield record

    def close(self) -> None:
        """Stop a running iteration and close the file."""
        if self._iterator is not None:
            self._iterator.close()
            self._iterator = None

    def __enter__(self) -> GpsReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        self.close()
        return False


def read_gps(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    tz: str | float | tzinfo | None = None,
    datum: str = "wgs84",
    progress: Progress | None = None,
    cancel: CancelCheck | None = None,
    date: dt.date | None = None,
) -> GpsReader:
    """Open a GPS file for reading; iterate the result to get its records.

    Parameters
    ----------
    path : str or os.PathLike
    format : 'gpx', 'nmea', 'csv' or None to sniff the content.
    tz : zone for times written without one: None (read as UTC; flagged in
        ``stats.naive_times``), an offset such as ``'+08:00'``, a zone name
        such as ``'Asia/Shanghai'``, hours as a number, or a ``tzinfo``.
    datum : 'wgs84', 'gcj02' or 'bd09', the datum of the file's coordinates;
        records are always converted to WGS84.
    progress : callable(done_bytes, total_bytes) or None.
    cancel : callable() -> bool, an object with ``is_set()`` (such as a
        ``threading.Event``), or None; when it says so, iteration raises
        :class:`~layers.errors.Cancelled`.
    date : for NMEA logs without any dated sentence (GGA without RMC or
        ZDA), the UTC date of the first fix; ignored otherwise (see
        ``stats.date_note``).

    Returns
    -------
    GpsReader
        Iterable (and context manager) yielding :class:`Track` and
        :class:`Waypoint` records; ``reader.stats`` holds the counts.

    Raises
    ------
    GpsImportError
        If the file cannot be read or is not a GPS file (at once), or is
        hostile or malformed (while iterating; the message names the line).
    ValueError
        For an unknown format, datum or time zone.
    """
    return GpsReader(path, format=format, tz=tz, datum=datum, progress=progress, cancel=cancel, date=date)
