"""Export formats: names, extensions, how each stores a field type, and what each cannot hold.

Each format keeps a field's type where it can: GeoPackage and GeoJSON keep
booleans, dates and date-times; FlatGeobuf has no date-only type (a date is
a date-time at 00:00); CSV says its types in a ``.csvt`` that both GDAL and
QGIS's delimited-text provider accept (QGIS 3.22 refuses GDAL's own
``CoordX``/``WKT``/``Integer(Boolean)`` words: X/Y are ``Real``, WKT is
``String``, booleans ``Integer`` 0/1); a Shapefile's DBF has no boolean that
QGIS shows as one (booleans are integers 0/1) and no date-time (ISO text).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from layers.errors import SyncError

__all__ = ["FORMATS", "LIMITS", "STORED_TYPES", "format_name", "stored_type", "fiona_type", "converter",
           "csvt_line", "GEOMETRY_NAMES", "sidecar_suffixes", "SHAPEFILE_TEXT_BYTES"]

#: Output formats: name -> (fiona driver, file extension, layers per file; None: any number).
FORMATS: dict[str, tuple[str, str, int | None]] = {
    "GPKG": ("GPKG", ".gpkg", None),
    "GeoJSON": ("GeoJSON", ".geojson", 1),
    "CSV": ("CSV", ".csv", 1),
    "FlatGeobuf": ("FlatGeobuf", ".fgb", 1),
    "ESRI Shapefile": ("ESRI Shapefile", ".shp", 1),
}
_ALIASES = {"gpkg": "GPKG", "geopackage": "GPKG", "geojson": "GeoJSON", "json": "GeoJSON", "csv": "CSV",
            "flatgeobuf": "FlatGeobuf", "fgb": "FlatGeobuf", "esri shapefile": "ESRI Shapefile",
            "shapefile": "ESRI Shapefile", "shp": "ESRI Shapefile"}

#: One line per format: what it cannot hold of a layer, and where that went instead.
LIMITS = {
    "GPKG": "",
    "GeoJSON": "GeoJSON has no date type (dates and times are ISO 8601 text, which GDAL and QGIS read back as "
               "dates) and no style (the .qml beside each file)",
    "CSV": "CSV has no CRS (give it when opening), no boolean (0/1) and no geometry column (X/Y, or WKT for "
           "lines); its types are in the .csvt and its style in the .qml beside each file",
    "FlatGeobuf": "FlatGeobuf has no date-only type (dates are date-times at 00:00) and no style "
                  "(the .qml beside each file)",
    "ESRI Shapefile": "Shapefile names are cut to 10 characters (full names in fields.csv and the .qml aliases), "
                      "booleans are 0/1, date-times ISO text, text at most 254 bytes; the style is in the .qml",
}

#: Per format, the stored type of a definition's type where it differs (the rest keep theirs).
STORED_TYPES: dict[str, dict[str, str]] = {
    "GPKG": {},
    "GeoJSON": {},
    "CSV": {"boolean": "integer"},
    "FlatGeobuf": {"date": "datetime"},
    "ESRI Shapefile": {"boolean": "integer", "datetime": "text"},
}
#: A DBF text field holds at most this many bytes (UTF-8: 3 per Chinese character).
SHAPEFILE_TEXT_BYTES = 254

_FIONA = {"text": "str", "photo": "str", "json": "str", "integer": "int", "real": "float", "boolean": "bool",
          "date": "date", "datetime": "datetime"}
_CSVT = {"text": "String", "photo": "String", "json": "String", "integer": "Integer", "real": "Real",
         "boolean": "Integer", "date": "Date", "datetime": "DateTime"}
GEOMETRY_NAMES = {"POINT": "Point", "LINESTRING": "LineString", "MULTILINESTRING": "MultiLineString",
                  "MULTIPOINT": "MultiPoint", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon"}


def format_name(fmt: str | None, out: str | os.PathLike[str]) -> str:
    """The format asked for (by name or alias), else the one of *out*'s extension, else GPKG."""
    if fmt is None:
        suffix = Path(out).suffix.lower()
        for name, (_, ext, _) in FORMATS.items():
            if suffix == ext or (suffix == ".json" and name == "GeoJSON"):
                return name
        return "GPKG"
    alias = _ALIASES.get(str(fmt).lower())
    if alias is None:
        raise SyncError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    return alias


def stored_type(fmt: str, kind: str) -> str:
    """The definition type a format stores a field of type *kind* as."""
    return STORED_TYPES[fmt].get(kind, kind)


def fiona_type(fmt: str, kind: str) -> str:
    """The fiona schema type of a column of definition type *kind* in *fmt*."""
    stored = stored_type(fmt, kind)
    if fmt == "CSV" and stored in ("date", "datetime"):
        return "str"  # GDAL's CSV writer stores them as text anyway; the .csvt says what they are
    if fmt == "ESRI Shapefile" and stored == "text":
        return f"str:{SHAPEFILE_TEXT_BYTES}"
    if fmt == "ESRI Shapefile" and kind == "boolean":
        return "int:1"  # a DBF number of one digit: 0 or 1
    return _FIONA[stored]


def _datetime(value: Any) -> dt.datetime | None:
    """A stored date-time (ISO text, ``Z`` for UTC) as an aware datetime (fiona drops a 'Z' it is given)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _date_as_datetime(value: Any) -> dt.datetime | None:
    return None if value is None else dt.datetime.combine(dt.date.fromisoformat(str(value)[:10]), dt.time())


def _boolean(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)


def _keep(value: Any) -> Any:
    return value


def converter(fmt: str, kind: str) -> Callable[[Any], Any]:
    """The function turning a stored value of definition type *kind* into what fiona writes in *fmt*."""
    stored = stored_type(fmt, kind)
    if kind == "boolean":
        return _boolean if stored == "boolean" else _integer
    if kind == "date" and stored == "datetime":
        return _date_as_datetime
    if kind == "datetime" and stored == "datetime":
        return _datetime if fmt != "CSV" else _keep
    return _keep


def csvt_line(geometry_type: str, kinds: Sequence[str]) -> str:
    """The ``.csvt`` line of a CSV written by GDAL: the geometry columns first, then one type per column.

    Only words QGIS's delimited-text provider (3.22 and later) and GDAL's CSV driver both read: X and Y
    are ``Real`` (GDAL writes ``CoordX``, which QGIS refuses), a WKT column is ``String``.
    """
    geometry = {"POINT": ["Real", "Real"], "NONE": []}.get(geometry_type, ["String"])
    return ",".join(f'"{t}"' for t in [*geometry, *(_CSVT[k] for k in kinds)]) + "\n"


def sidecar_suffixes(fmt: str) -> tuple[str, ...]:
    """The files a layer file of *fmt* comes with (by suffix), its own first."""
    return {"ESRI Shapefile": (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix"),
            "CSV": (".csv", ".csvt")}.get(fmt, (FORMATS[fmt][1],)) + (".qml",)


def column_kinds(columns: Sequence[str], types: Mapping[str, str]) -> list[str]:
    """The definition type of each column (audit times are date-times, everything else unknown is text)."""
    return [types.get(c, "datetime" if c.endswith("_at") else "text") for c in columns]
