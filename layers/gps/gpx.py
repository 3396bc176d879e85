"""Streaming GPX 1.0/1.1 reader on expat, refusing DTDs and entities.

The file is fed to ``xml.parsers.expat`` in 1 MB chunks; handlers append
points to compact columns (:class:`~layers.gps.pointbuffer.PointBuffer`) and
records are yielded after each chunk, so memory stays flat whatever the size
of the file (a record itself, e.g. a track of a million points, is held as
numpy arrays of 8 bytes a value).

Safety: GPX never needs a DTD. A DOCTYPE with an internal subset (where
entities, and so "billion laughs", are declared) or with an external
identifier (an external DTD) is refused when expat reaches it, that is before
any record has been yielded; entity declarations and external entity
references are refused as well. No URL or file is ever fetched.

Encodings: expat reads UTF-8, UTF-16 (with a byte order mark), US-ASCII and
ISO-8859-1 itself. A file that declares another encoding (``GBK``, ``GB2312``
and ``GB18030``, written by Chinese apps, read as GB18030, their superset;
``Big5``, ``Shift_JIS``, ``windows-1252``...) is decoded by Python's codec
chunk by chunk and fed to expat as UTF-8; an encoding Python does not know,
or bytes that are not in the declared encoding, raise a GpsImportError
naming the file and the line.

Malformed or truncated XML raises :class:`~layers.errors.GpsImportError`
naming the file and the line; when that happens after some records were
yielded the message says so: the caller writes in one transaction and must
import nothing from the file.

What is kept: tracks (several segments, empty segments too), routes (one
segment each), waypoints; elevation and time when present (nan otherwise);
GPX 1.0 ``course``/``speed`` and 1.1 ``hdop``, ``sat``... and every leaf of
``<extensions>`` (Garmin TrackPointExtension ``hr``, ``cad``, ``atemp``...,
and unknown ones) as per-point extra columns under their local tag name.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import xml.parsers.expat as expat
from collections.abc import Iterator
from datetime import tzinfo
from typing import TYPE_CHECKING

from layers.errors import GpsImportError
from layers.gps.pointbuffer import PointBuffer
from layers.gps.records import GpsStats, Record, Track, Waypoint
from layers.gps.timeparse import TimeParser

if TYPE_CHECKING:
    from layers.gps.monitor import Monitor

__all__ = ["read_gpx", "looks_like_gpx"]

CHUNK_SIZE = 1 << 20
_NAN = math.nan
_POINTS = frozenset({"trkpt", "rtept", "wpt"})
_FEATURE_FIELDS = {"name": "name", "desc": "description"}
_DECLARATION_RE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
#: Encodings expat reads itself (Python's codec names).
_NATIVE = frozenset({"utf-8", "utf-16", "utf-16-le", "utf-16-be", "ascii", "latin-1"})
#: Declared encodings read with a superset codec.
_SUPERSETS = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030"}


def declared_encoding(path: str, head: bytes) -> str | None:
    """The Python codec to decode a GPX with, or None when expat reads it itself.

    Raises
    ------
    GpsImportError
        If the XML declaration names an encoding Python does not know.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    match = _DECLARATION_RE.match(head)
    if match is None:
        return None
    name = match.group(1).decode("ascii")
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise _error(path, 1, f"declares the encoding {name!r}, which is not known: save the file as UTF-8 "
                              "(or declare the encoding it is really in)") from None
    codec = _SUPERSETS.get(codec, codec)
    return None if codec in _NATIVE else codec


def looks_like_gpx(head: bytes) -> bool:
    """Return True if the first bytes of a file look like GPX (XML with a <gpx element)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):          # UTF-16, which expat reads too
        head = head.decode("utf-16", "ignore").encode("utf-8")
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return text.startswith(b"<") and (b"<gpx" in head or b":gpx" in head)


def _error(path: str, line: int | None, message: str) -> GpsImportError:
    exc = GpsImportError(f"{path}, line {line}: {message}")
    exc.path = str(path)
    exc.line = line
    return exc


class _GpxHandlers:
    """expat callbacks building records; see :func:`read_gpx`."""

    def __init__(self, path: str, stats: GpsStats, times: TimeParser, encoding: str | None = None) -> None:
        self.path = path
        self.stats = stats
        self.times = times
        self.ready: list[Record] = []   # records complete, not yet yielded
        self.root_seen = False
        self.parser = parser = expat.ParserCreate(encoding)
        parser.buffer_text = True
        parser.buffer_size = 1 << 16
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.ExternalEntityRefHandler = self._external_entity
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        # Text goes straight into a list (a C call, no Python frame per text
        # node); each start tag clears it, so at an end tag that closes a leaf
        # it holds exactly the leaf's text.
        self._buf: list[str] = []
        parser.CharacterDataHandler = self._buf.append
        self._local_names: dict[str, str] = {}
        self._stack: list[str] = []
        self._open = 0                  # depth of the last start tag if no end tag since
        self._feature: Track | None = None  # Track being read
        self._feature_depth = 0
        self._seg: PointBuffer | None = None  # of the open trkseg/rte
        self._cur: PointBuffer | None = None  # receiving the open point
        self._pt_depth = 0              # depth of the open point, 0 if none
        self._pt_line = 0
        self._link_depth = 0            # depth of an open <link>, 0 if none
        self._ext_depth = 0             # depth of an open <extensions>, 0 if none
        self._wpt_fields: dict[str, str] | None = None  # the open <wpt>'s fields, None if none

    # -- safety ---------------------------------------------------------------
    def _line(self) -> int:
        return self.parser.CurrentLineNumber

    def _doctype(self, name: str, system_id: str | None, public_id: str | None, has_internal_subset: bool) -> None:
        if has_internal_subset:
            raise _error(self.path, self._line(),
                         "refused: the DOCTYPE declares an internal subset (entity "
                         "declarations are not allowed in a GPS file)")
        if system_id or public_id:
            raise _error(self.path, self._line(),
                         f"refused: the DOCTYPE names an external DTD ({system_id or public_id}); "
                         "GPS files must not load external documents")

    def _entity(self, name: str, *args: object) -> None:
        raise _error(self.path, self._line(), f"refused: entity declaration {name!r}")

    def _external_entity(
        self, context: str, base: str | None, system_id: str | None, public_id: str | None
    ) -> int:
        raise _error(self.path, self._line(),
                     f"refused: external entity reference ({system_id or public_id})")

    # -- elements -------------------------------------------------------------
    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = self._local_names.get(name)
        if local is None:
            local = self._local_names[name] = name.rpartition(":")[2]
        stack = self._stack
        stack.append(local)
        depth = len(stack)
        self._buf.clear()
        self._open = depth
        if self._pt_depth:                        # inside a point
            if local == "link" and not self._link_depth:
                self._link_depth = depth
                if "href" in attrs:
                    self._point_field("link", attrs["href"])
            return
        if self._ext_depth or self._link_depth:   # inside extensions/link of a feature
            return
        if local in _POINTS:
            self._start_point(local, attrs, depth)
            return
        if local == "trkseg":
            if self._feature is not None:
                self._seg = PointBuffer()
        elif local == "trk" or local == "rte":
            self._feature = Track(name=None, kind="track" if local == "trk" else "route",
                                  creator=self.stats.creator, line=self._line())
            self._feature_depth = depth
            if local == "rte":
                self._seg = PointBuffer()
        elif local == "extensions":
            self._ext_depth = depth
        elif local == "link":
            self._link_depth = depth
            if self._feature is not None and depth == self._feature_depth + 1 and "href" in attrs:
                self._feature.extras["link"] = attrs["href"]
        elif depth == 1:
            if local != "gpx":
                raise _error(self.path, self._line(), f"not a GPX file: the root element is <{name}>")
            self.root_seen = True
            self.stats.version = attrs.get("version")
            self.stats.creator = attrs.get("creator")

    def _start_point(self, local: str, attrs: dict[str, str], depth: int) -> None:
        if local == "wpt":
            self._cur = PointBuffer()
            self._wpt_fields = {}
            self._pt_line = self._line()
        else:
            if self._seg is None:                  # a point outside trkseg: be lenient
                self._seg = PointBuffer()
            self._cur = self._seg
        try:
            lat = float(attrs["lat"])
            lon = float(attrs["lon"])
        except (KeyError, ValueError):
            lat = lon = _NAN
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            self.stats.note(self._line(), f"<{local}> without valid lat/lon "
                                          f"(lat={attrs.get('lat')!r}, lon={attrs.get('lon')!r}): dropped")
            lat = lon = _NAN
        cur = self._cur
        cur.lon.append(lon)
        cur.lat.append(lat)
        cur.ele.append(_NAN)
        cur.time.append(_NAN)
        self._pt_depth = depth

    def _end(self, name: str) -> None:
        stack = self._stack
        local = stack.pop()
        depth = len(stack) + 1
        leaf = self._open == depth
        self._open = 0
        if self._pt_depth:
            if depth == self._pt_depth:
                self._pt_depth = 0
                if local == "wpt":
                    self._end_waypoint()
            elif self._link_depth:
                if depth == self._link_depth:
                    self._link_depth = 0
            elif leaf:
                value = "".join(self._buf).strip()
                if not value:
                    return
                cur = self._cur
                assert cur is not None  # inside a point
                if local == "ele":
                    try:
                        cur.ele[-1] = float(value)
                    except ValueError:
                        self.stats.note(self._line(), f"elevation {value!r} is not a number: ignored")
                elif local == "time":
                    t = self.times(value)
                    cur.time[-1] = t
                    if t != t:
                        self.stats.note(self._line(), f"time {value!r} cannot be read: ignored")
                else:
                    self._point_field(local, value)
            return
        if self._link_depth:
            if depth == self._link_depth:
                self._link_depth = 0
            return
        if self._ext_depth:
            if depth == self._ext_depth:
                self._ext_depth = 0
            elif leaf and self._feature is not None:
                value = "".join(self._buf).strip()
                if value:
                    self._feature.extras.setdefault(local, value)
            return
        feature = self._feature
        if feature is None:
            return
        if local == "trkseg":
            if self._seg is not None:
                self._finish_segment()
        elif depth == self._feature_depth:          # </trk> or </rte>
            if self._seg is not None:               # route points, or stray track points
                self._finish_segment()
            self.ready.append(feature)
            self._feature = None
            self._feature_depth = 0
        elif depth == self._feature_depth + 1 and leaf:
            value = "".join(self._buf).strip()
            if not value:
                return
            if local in _FEATURE_FIELDS:
                setattr(feature, _FEATURE_FIELDS[local], value)
            else:
                feature.extras[local] = value
                if local == "src":
                    feature.device = value

    def _point_field(self, key: str, value: str) -> None:
        """Keep a field of the open point: as text for a waypoint, as a column otherwise."""
        if self._wpt_fields is not None:
            self._wpt_fields.setdefault(key, value)
        else:
            assert self._cur is not None  # inside a point
            self._cur.set_extra(key, value)

    def _end_waypoint(self) -> None:
        buffer = self._cur
        extras = self._wpt_fields
        self._cur = self._wpt_fields = None
        assert buffer is not None and extras is not None  # a <wpt> is open
        lon, lat = buffer.lon[0], buffer.lat[0]
        if lon != lon:
            self.stats.drop("bad_coordinates")
            return
        self.ready.append(Waypoint(
            lon=lon, lat=lat, ele=buffer.ele[0], time=buffer.time[0],
            name=extras.pop("name", None), desc=extras.pop("desc", None),
            sym=extras.pop("sym", None), extras=extras, line=self._pt_line))

    def _finish_segment(self) -> None:
        assert self._seg is not None and self._feature is not None  # a segment of a track is open
        segment, n_bad = self._seg.to_segment()
        self._seg = None
        if n_bad:
            self.stats.drop("bad_coordinates", count=n_bad)
        self._feature.segments.append(segment)


def _utf8_hint(encoding: str | None, chunk: bytes, exc: expat.ExpatError) -> str:
    """A hint when expat failed on bytes that are not UTF-8 in a file read as UTF-8."""
    if encoding is not None or exc.code != expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN]:
        return ""
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return ("; the file is not UTF-8: declare its encoding, e.g. <?xml version=\"1.0\" encoding=\"GBK\"?>, "
                "or save it as UTF-8")
    return ""


def read_gpx(
    path: str | os.PathLike[str],
    *,
    stats: GpsStats,
    tz: str | float | tzinfo | None = None,
    monitor: Monitor | None = None,
) -> Iterator[Record]:
    """Yield the Track and Waypoint records of a GPX 1.0 or 1.1 file.

    Parameters
    ----------
    path : str or os.PathLike
    stats : GpsStats, filled while reading (version, creator, drops, times).
    tz : time zone for times without one (see ``timeparse.parse_tz``).
    monitor : Monitor or None, called with the bytes read after each chunk.

    Yields
    ------
    Track or Waypoint, in file order (a track when its ``</trk>`` is read).

    Raises
    ------
    GpsImportError
        Hostile (DOCTYPE with entities, external DTD or entity), malformed or
        truncated XML, or a root element other than ``<gpx>``; the message
        names the file and the line.
    Cancelled
        If the monitor's cancel callback returned True.
    """
    path = os.fspath(path)
    times = TimeParser(tz)
    yielded = 0
    done = 0
    lines = 1                            # lines before the current chunk, for decoding errors
    with open(path, "rb") as f:
        following = f.read(CHUNK_SIZE)
        encoding = declared_encoding(path, following[:1024])
        decoder = codecs.getincrementaldecoder(encoding)() if encoding else None
        handlers = _GpxHandlers(path, stats, times, "UTF-8" if encoding else None)
        parser = handlers.parser
        while True:
            # Read one chunk ahead so the last one is parsed as final: a file
            # smaller than a chunk is wholly checked before anything is yielded.
            chunk, following = following, f.read(CHUNK_SIZE) if following else b""
            done += len(chunk)
            after = (f"; {yielded} records had already been read: import nothing from this file"
                     if yielded else "")
            data = chunk
            if decoder is not None:
                try:
                    data = decoder.decode(chunk, not following).encode("utf-8")
                except UnicodeDecodeError as exc:
                    line = lines + chunk.count(b"\n", 0, exc.start)
                    raise _error(path, line, f"bytes that are not {encoding} (the encoding the file declares): "
                                             f"{chunk[exc.start:exc.end]!r}{after}") from None
                lines += chunk.count(b"\n")
            try:
                parser.Parse(data, not following)
            except expat.ExpatError as exc:
                raise _error(path, exc.lineno,
                             f"malformed or truncated XML ({expat.ErrorString(exc.code)}, "
                             f"column {exc.offset + 1}){_utf8_hint(encoding, chunk, exc)}{after}") from None
            except ValueError as exc:  # an encoding expat asked Python for and could not use
                raise _error(path, parser.CurrentLineNumber, f"cannot be decoded ({exc}){after}") from None
            finally:
                stats.naive_times = times.naive
                stats.bad_times = times.bad
            yield from handlers.ready
            yielded += len(handlers.ready)
            handlers.ready.clear()
            if monitor is not None:
                monitor(done)
            if not following:
                break
    if not handlers.root_seen:
        raise _error(path, parser.CurrentLineNumber, "not a GPX file: no <gpx> element")
