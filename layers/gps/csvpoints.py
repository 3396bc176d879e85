"""CSV of points reader: each row with a longitude and a latitude becomes a Waypoint.

Columns are found by header name, case-insensitively, ignoring a trailing
unit in brackets (``经度(°)``, ``Lon [deg]``):

* longitude: lon, lng, long, longitude, x, 经度
* latitude: lat, latitude, y, 纬度
* optional time: time, datetime, date_time, timestamp, utc, 时间, 日期时间,
  采集时间, 记录时间 (ISO 8601, ``2024/5/1 8:30:00``, or epoch seconds or
  milliseconds); optional elevation: ele, elevation, alt, altitude, height,
  z, 高程, 海拔, 高度; optional name: name, title, label, 名称, 名字;
  optional description: desc, description, comment, 描述, 备注, 说明;
  optional symbol: sym, symbol, 符号
* every other column is kept as text in ``Waypoint.extras`` under its header.

The encoding is UTF-8 (with or without BOM), else GB18030 (a superset of GBK,
what Excel writes on Chinese Windows). The delimiter is the one of ``, ; tab |``
found most in the header line. Rows without a usable position are dropped and
counted (``bad_coordinates``) with a message naming the line.
"""

from __future__ import annotations

import codecs
import csv
import math
import os
import re
from collections.abc import Iterator, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, BinaryIO, cast

from layers.errors import GpsImportError
from layers.gps.records import GpsStats, Waypoint
from layers.gps.timeparse import TimeParser

if TYPE_CHECKING:
    from layers.gps.monitor import Monitor

__all__ = ["read_csv_points", "find_columns", "detect_encoding", "COLUMN_NAMES"]

#: Accepted header names of each role (after lower-casing and unit removal).
COLUMN_NAMES = {
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "time": ("time", "datetime", "date_time", "timestamp", "utc", "时间", "日期时间",
             "采集时间", "记录时间"),
    "ele": ("ele", "elevation", "alt", "altitude", "height", "z", "高程", "海拔", "高度"),
    "name": ("name", "title", "label", "名称", "名字"),
    "desc": ("desc", "description", "comment", "描述", "备注", "说明"),
    "sym": ("sym", "symbol", "符号"),
}
_UNIT_RE = re.compile(r"\s*[(\[（【].*[)\]）】]\s*$")
_LOOSE_TIME_RE = re.compile(
    r"\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?)?\s*(.*)$")
_DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1 << 20


def _normalise(header: str) -> str:
    name = header.strip().lstrip("\ufeff").strip().lower()
    return _UNIT_RE.sub("", name).strip()


def find_columns(headers: Sequence[str]) -> dict[str, int]:
    """Map roles ('lon', 'lat', 'time', 'ele', 'name', 'desc', 'sym') to column indices.

    Parameters
    ----------
    headers : list of str

    Returns
    -------
    dict of str to int; roles not found are absent. The earliest name of
    :data:`COLUMN_NAMES` wins (``lon`` before ``x``).
    """
    names = [_normalise(h) for h in headers]
    found: dict[str, int] = {}
    for role, candidates in COLUMN_NAMES.items():
        for candidate in candidates:
            if candidate in names:
                index = names.index(candidate)
                if index not in found.values():
                    found[role] = index
                    break
    return found


def _line_of(path: str | os.PathLike[str], offset: int) -> int:
    with open(path, "rb") as f:
        return f.read(offset).count(b"\n") + 1


def detect_encoding(path: str | os.PathLike[str]) -> str:
    """Return 'utf-8-sig' or 'gb18030', whichever decodes the whole file.

    Raises
    ------
    GpsImportError
        Naming the line of the first byte that neither encoding can decode.
    """
    first_error: int | None = None
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        offset = 0
        try:
            with open(path, "rb") as f:
                while chunk := f.read(_CHUNK):
                    decoder.decode(chunk)
                    offset += len(chunk)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError as exc:
            if first_error is None:
                first_error = offset + exc.start
    assert first_error is not None  # the loop returns unless both encodings failed
    line = _line_of(path, first_error)
    raise GpsImportError(f"{path}, line {line}: the file is neither UTF-8 nor GBK/GB18030 text")


def _number(text: str) -> float:
    text = text.strip().rstrip("°").strip()
    return float(text) if text else math.nan


class _CsvTimes:
    """Reads the time column: ISO 8601, loose ``2024/5/1 8:30`` forms, epoch numbers."""

    def __init__(self, tz: str | float | tzinfo | None) -> None:
        self.parser = TimeParser(tz)

    def __call__(self, text: str) -> float:
        text = text.strip()
        if not text:
            return math.nan
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            return number / 1000.0 if abs(number) > 1e11 else number
        if not (text[4:5] == "-" and text[7:8] == "-" and text[10:11] in ("T", " ")):
            match = _LOOSE_TIME_RE.match(text)
            if match:
                y, mo, d, h, mi, s, zone = match.groups()
                seconds = s or "0"
                whole, _, fraction = seconds.partition(".")
                text = (f"{int(y):04d}-{int(mo):02d}-{int(d):02d}T{int(h or 0):02d}:"
                        f"{int(mi or 0):02d}:{int(whole):02d}{'.' + fraction if fraction else ''}{zone}")
        return self.parser(text)


def read_csv_points(
    path: str | os.PathLike[str],
    *,
    stats: GpsStats,
    tz: str | float | tzinfo | None = None,
    monitor: Monitor | None = None,
) -> Iterator[Waypoint]:
    """Yield a Waypoint for each row of a CSV of points.

    Parameters
    ----------
    path : str or os.PathLike
    stats : GpsStats, filled while reading (drops, naive and bad times).
    tz : time zone for times without one (see ``timeparse.parse_tz``).
    monitor : Monitor or None, called with the bytes read now and then.

    Yields
    ------
    Waypoint, with ``line`` the row's line in the file.

    Raises
    ------
    GpsImportError
        If the file cannot be decoded, is empty, or has no longitude/latitude
        columns (the message names the file and the line).
    """
    path = os.fspath(path)
    encoding = detect_encoding(path)
    times = _CsvTimes(tz)
    with open(path, encoding=encoding, newline="") as f:
        raw = cast(BinaryIO, f.buffer)  # where the reader is, in bytes
        header_line = f.readline()
        if not header_line.strip():
            raise GpsImportError(f"{path}, line 1: empty CSV file (no header line)")
        delimiter = max(_DELIMITERS, key=header_line.count)
        headers = next(csv.reader([header_line], delimiter=delimiter))
        columns = find_columns(headers)
        if "lon" not in columns or "lat" not in columns:
            raise GpsImportError(
                f"{path}, line 1: no longitude/latitude columns in the header "
                f"{[h.strip() for h in headers]}; expected one of "
                f"{', '.join(COLUMN_NAMES['lon'])} and one of {', '.join(COLUMN_NAMES['lat'])}")
        roles = {index: role for role, index in columns.items()}
        keys = [h.strip() for h in headers]
        reader = csv.reader(f, delimiter=delimiter)
        previous_line = 1
        for row in reader:
            line = previous_line + 1              # where this row starts
            previous_line = reader.line_num + 1   # reader counts from after the header
            if monitor is not None and line % 10000 == 0:
                monitor(raw.tell())
            if not any(cell.strip() for cell in row):
                continue
            values: dict[str, str] = {}
            extras: dict[str, str] = {}
            for index, cell in enumerate(row):
                role = roles.get(index)
                if role is not None:
                    values[role] = cell
                elif cell.strip():
                    key = keys[index] if index < len(keys) and keys[index] else f"column{index + 1}"
                    extras[key] = cell.strip()
            try:
                lon = _number(values.get("lon", ""))
                lat = _number(values.get("lat", ""))
            except ValueError:
                lon = lat = math.nan
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                stats.drop("bad_coordinates", line,
                           f"longitude {values.get('lon')!r}, latitude {values.get('lat')!r} "
                           "is not a valid position: row dropped")
                continue
            try:
                ele = _number(values.get("ele", ""))
            except ValueError:
                ele = math.nan
                stats.note(line, f"elevation {values.get('ele')!r} is not a number: ignored")
            time = times(values.get("time", ""))
            if time != time and values.get("time", "").strip():
                stats.note(line, f"time {values.get('time')!r} cannot be read: ignored")
            stats.naive_times = times.parser.naive
            stats.bad_times = times.parser.bad
            yield Waypoint(
                lon=lon, lat=lat, ele=ele, time=time,
                name=values.get("name", "").strip() or None,
                desc=values.get("desc", "").strip() or None,
                sym=values.get("sym", "").strip() or None,
                extras=extras, line=line)
        if monitor is not None:
            monitor(raw.tell())
