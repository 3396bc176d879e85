"""Read and write OGC GeoPackages with the standard library's sqlite3.

One class, :class:`GeoPackage`, opened with :func:`open_geopackage` as a
context manager, does everything Tongcheng needs from a GeoPackage: check that
a file is one, list its layers and their schemas, read rows as dicts with
shapely geometries, create feature and attribute tables, write rows in bulk,
update and delete rows by key, and keep QGIS styles (``layer_styles``) and
lineage metadata (``gpkg_metadata``).

Choices worth knowing
---------------------
* **No mod_spatialite.** The rtree triggers that GeoPackage writers (GDAL,
  QGIS, this module) put on feature tables call ``ST_IsEmpty``, ``ST_MinX``,
  ``ST_MaxX``, ``ST_MinY`` and ``ST_MaxY``.  Instead of loading SpatiaLite we
  register these five functions in Python on every connection: they only read
  the GeoPackage binary header (or, when a writer left out the envelope, the
  WKB).  This works with any sqlite3 build, including Pythons that cannot load
  extensions, and keeps SpatiaLite out of the partner-export path.
* **Files we create** follow GeoPackage 1.3 (``user_version`` 10300) and its
  rtree triggers: GDAL 3.6 (Debian's ogrinfo and QGIS 3.22, likely at
  partners) warns on 1.4 files.  Files written by others keep their version;
  layers added to a 1.4 file get the 1.4 triggers (update5/6/7), layers added
  to older files the 1.2/1.3 ones (update1-4), as the validator expects.
* **Atomic writes.** Mode ``'w'`` writes to a temporary file in the target's
  folder and renames it over the target only when the ``with`` block ends
  without an error.  Mode ``'a'`` works inside one SQLite transaction that is
  committed at the end of the block and rolled back on error.
* **Bulk loading.** Rows go in with ``executemany`` in chunks; a layer created
  in the session gets its spatial index and triggers only when the session
  ends, so loading never pays for the triggers.  ``gpkg_contents`` extent and
  ``last_change`` are refreshed for every layer written.
* **Geometry encoding.** Standard GeoPackage binary (``GP``, version 0,
  little-endian, XY envelope, or XYZ for 3D geometries, no envelope and the
  empty flag for empty geometries) followed by ISO WKB from shapely.

Values
------
Columns are given as ``(name, type)`` with a GeoPackage/SQLite type (TEXT,
INTEGER, REAL, BOOLEAN, DATE, DATETIME, and the other types the spec allows).
BOOLEAN takes ``bool`` (stored 0/1, read back as ``bool``); DATE takes
``datetime.date`` or ``'YYYY-MM-DD'``; DATETIME takes ``datetime.datetime``
(naive values are taken as UTC) or an ISO text ending in ``Z``; DATE and
DATETIME read back as the stored text.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import GeoPackageError
from layers.geopackage.codec import (
    decode_gpb,
    decode_gpb_many,
    encode_gpb,
    encode_gpb_many,
    envelopes,
    extent,
    gpb_envelope,
    register_functions,
)
from layers.sqlite.rtree import bulk_load_rtree

__all__ = [
    "APPLICATION_ID",
    "USER_VERSION",
    "COLUMN_TYPES",
    "GEOMETRY_TYPES",
    "Column",
    "LayerSchema",
    "GeoPackage",
    "open_geopackage",
    "encode_gpb",
    "decode_gpb",
    "gpb_envelope",
    "envelopes",
    "temporary_path",
]

#: ``PRAGMA application_id`` of a GeoPackage: the ASCII bytes "GPKG".
APPLICATION_ID = 0x47504B47
#: ``PRAGMA user_version`` written into new files: GeoPackage 1.3.0 (GDAL 3.6,
#: as in Debian's QGIS 3.22, warns that 1.4 "may only be partially supported").
USER_VERSION = 10300

#: Column types a GeoPackage user table may declare (plus TEXT(n), BLOB(n)).
COLUMN_TYPES = (
    "BOOLEAN", "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER",
    "FLOAT", "DOUBLE", "REAL", "TEXT", "BLOB", "DATE", "DATETIME",
)

#: Geometry type names a layer may declare, with the shapely type ids each
#: accepts (shapely: 0 Point, 1 LineString, 3 Polygon, 4-6 Multi*, 7 collection).
GEOMETRY_TYPES = {
    "GEOMETRY": (0, 1, 3, 4, 5, 6, 7),
    "POINT": (0,),
    "LINESTRING": (1,),
    "POLYGON": (3,),
    "MULTIPOINT": (4,),
    "MULTILINESTRING": (5,),
    "MULTIPOLYGON": (6,),
    "GEOMETRYCOLLECTION": (4, 5, 6, 7),
}

_SHAPELY_TYPE_NAMES = {
    0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon",
    4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection",
}

_APPLICATION_IDS_READ = {
    APPLICATION_ID: "GPKG",
    0x47503130: "GP10",
    0x47503131: "GP11",
}

_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
_CHUNK = 10_000
_DATE_RE = re.compile(r"^\d{4}-[01]\d-[0-3]\d$")
_DATETIME_RE = re.compile(
    r"^\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d(:[0-5]\d(\.\d{3})?)?Z$"
)

# Core tables, as GDAL writes them (the validator compares their structure).
_CORE_DDL = (
    "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,"
    " srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,"
    " organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,"
    " description TEXT)",
    "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,"
    " data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',"
    f" last_change DATETIME NOT NULL DEFAULT ({_NOW}),"
    " min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,"
    " CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)"
    " REFERENCES gpkg_spatial_ref_sys(srs_id))",
    "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL,"
    " column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,"
    " srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,"
    " CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),"
    " CONSTRAINT uk_gc_table_name UNIQUE (table_name),"
    " CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),"
    " CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
    "CREATE TABLE gpkg_extensions (table_name TEXT, column_name TEXT,"
    " extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,"
    " CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))",
)

_REQUIRED_SRS = (
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
)

_METADATA_DDL = (
    "CREATE TABLE gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,"
    " md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,"
    " mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '')",
    "CREATE TABLE gpkg_metadata_reference (reference_scope TEXT NOT NULL,"
    " table_name TEXT, column_name TEXT, row_id_value INTEGER,"
    f" timestamp DATETIME NOT NULL DEFAULT ({_NOW}),"
    " md_file_id INTEGER NOT NULL, md_parent_id INTEGER,"
    " CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),"
    " CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id))",
)
_METADATA_EXTENSION = "http://www.geopackage.org/spec/#extension_metadata"
_RTREE_EXTENSION = "http://www.geopackage.org/spec/#extension_rtree"

# QGIS's layer_styles table, as QGIS creates it through OGR in a GeoPackage.
_STYLES_DDL = (
    'CREATE TABLE "layer_styles" ("id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,'
    ' "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256),'
    ' "f_table_name" TEXT(256), "f_geometry_column" TEXT(256),'
    ' "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT,'
    ' "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30),'
    f' "ui" TEXT(30), "update_time" DATETIME DEFAULT ({_NOW}))'
)
_STYLE_LIMITS = {"styleName": 30, "owner": 30, "ui": 30, "f_table_name": 256,
                 "f_geometry_column": 256}


# --------------------------------------------------------------------------
# Schema description
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """One attribute column of a layer.

    Parameters
    ----------
    name : str
        Column name.
    type : str
        GeoPackage/SQLite type: one of :data:`COLUMN_TYPES`, ``TEXT(n)`` or
        ``BLOB(n)``.
    not_null, unique : bool
        Column constraints (Tongcheng's ``uuid`` is ``TEXT UNIQUE NOT NULL``).
    """

    name: str
    type: str
    not_null: bool = False
    unique: bool = False


@dataclass(frozen=True)
class LayerSchema:
    """The structure of one feature or attribute table.

    Parameters
    ----------
    name : str
        Table name.
    columns : sequence of Column or (name, type) tuples
        Attribute columns, without the primary key and the geometry.
    geometry_type : str or None
        One of :data:`GEOMETRY_TYPES` for a feature table; None for an
        attribute (non-spatial) table.
    srs_id : int
        EPSG code of the layer's CRS (or 0 / -1 for undefined).
    geometry_column : str
        Name of the geometry column.
    z, m : int
        0 (prohibited), 1 (mandatory) or 2 (optional), as in
        ``gpkg_geometry_columns``.  M values are not supported in writing.
    fid_column : str
        Name of the INTEGER PRIMARY KEY column.
    identifier, description : str
        Human-readable name and description for ``gpkg_contents``.
    """

    name: str
    columns: tuple = ()
    geometry_type: str | None = None
    srs_id: int = 4326
    geometry_column: str = "geom"
    z: int = 0
    m: int = 0
    fid_column: str = "fid"
    identifier: str | None = None
    description: str = ""

    def __post_init__(self):
        cols = tuple(c if isinstance(c, Column) else Column(*c) for c in self.columns)
        object.__setattr__(self, "columns", cols)
        if self.geometry_type is not None:
            object.__setattr__(self, "geometry_type", self.geometry_type.upper())

    @property
    def is_spatial(self) -> bool:
        """True for a feature table (one with a geometry column)."""
        return self.geometry_type is not None

    @property
    def column_names(self) -> list[str]:
        """Names of the attribute columns, in table order."""
        return [c.name for c in self.columns]

    @property
    def field_names(self) -> list[str]:
        """Order of values in a row given as a tuple: geometry (if any), then columns."""
        head = [self.geometry_column] if self.is_spatial else []
        return head + self.column_names

    def validate(self) -> None:
        """Raise GeoPackageError if the schema cannot be written as a GeoPackage table."""
        where = f"layer {self.name!r}"
        if not self.name or self.name.lower().startswith(("gpkg_", "rtree_", "sqlite_")):
            raise GeoPackageError(f"{where}: reserved or empty table name")
        names = [self.fid_column] + ([self.geometry_column] if self.is_spatial else [])
        names += self.column_names
        seen = set()
        for n in names:
            if n.lower() in seen:
                raise GeoPackageError(f"{where}: column {n!r} appears twice")
            seen.add(n.lower())
        for c in self.columns:
            if not _valid_column_type(c.type):
                raise GeoPackageError(
                    f"{where}: column {c.name!r} has type {c.type!r}; "
                    f"expected one of {', '.join(COLUMN_TYPES)}, TEXT(n) or BLOB(n)")
        if self.is_spatial:
            if self.geometry_type not in GEOMETRY_TYPES:
                raise GeoPackageError(
                    f"{where}: geometry type {self.geometry_type!r} is not one of "
                    f"{', '.join(GEOMETRY_TYPES)}")
            if self.z not in (0, 1, 2) or self.m not in (0, 1, 2):
                raise GeoPackageError(f"{where}: z and m must be 0, 1 or 2")
            if self.m == 1:
                raise GeoPackageError(f"{where}: geometries with M values are not supported")


def _valid_column_type(typ: str) -> bool:
    t = typ.upper()
    return t in COLUMN_TYPES or bool(re.fullmatch(r"(TEXT|BLOB)\(\d+\)", t))


def _q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------
# Rtree triggers (spec annex F.3): 1.4 set and the 1.2/1.3 set
# --------------------------------------------------------------------------

def _rtree_triggers(table: str, geom: str, fid: str, version: int) -> list[str]:
    t, c, i = _q(table), _q(geom), _q(fid)
    r = f"rtree_{table}_{geom}"
    rq = _q(r)
    values = (f"NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), "
              f"ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})")
    new_ok = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    new_gone = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    old_ok = f"(OLD.{c} NOTNULL AND NOT ST_IsEmpty(OLD.{c}))"
    old_gone = f"(OLD.{c} ISNULL OR ST_IsEmpty(OLD.{c}))"
    triggers = [
        f"CREATE TRIGGER {_q(r + '_insert')} AFTER INSERT ON {t} WHEN {new_ok} "
        f"BEGIN INSERT OR REPLACE INTO {rq} VALUES ({values}); END",
        f"CREATE TRIGGER {_q(r + '_update2')} AFTER UPDATE OF {c} ON {t} "
        f"WHEN OLD.{i} = NEW.{i} AND {new_gone} "
        f"BEGIN DELETE FROM {rq} WHERE id = OLD.{i}; END",
        f"CREATE TRIGGER {_q(r + '_update4')} AFTER UPDATE ON {t} "
        f"WHEN OLD.{i} != NEW.{i} AND {new_gone} "
        f"BEGIN DELETE FROM {rq} WHERE id IN (OLD.{i}, NEW.{i}); END",
        f"CREATE TRIGGER {_q(r + '_delete')} AFTER DELETE ON {t} WHEN OLD.{c} NOT NULL "
        f"BEGIN DELETE FROM {rq} WHERE id = OLD.{i}; END",
    ]
    if version >= 10400:
        triggers += [
            f"CREATE TRIGGER {_q(r + '_update5')} AFTER UPDATE ON {t} "
            f"WHEN OLD.{i} != NEW.{i} AND {new_ok} "
            f"BEGIN DELETE FROM {rq} WHERE id = OLD.{i}; "
            f"INSERT OR REPLACE INTO {rq} VALUES ({values}); END",
            f"CREATE TRIGGER {_q(r + '_update6')} AFTER UPDATE OF {c} ON {t} "
            f"WHEN OLD.{i} = NEW.{i} AND {new_ok} AND {old_ok} "
            f"BEGIN UPDATE {rq} SET minx = ST_MinX(NEW.{c}), maxx = ST_MaxX(NEW.{c}), "
            f"miny = ST_MinY(NEW.{c}), maxy = ST_MaxY(NEW.{c}) WHERE id = NEW.{i}; END",
            f"CREATE TRIGGER {_q(r + '_update7')} AFTER UPDATE OF {c} ON {t} "
            f"WHEN OLD.{i} = NEW.{i} AND {new_ok} AND {old_gone} "
            f"BEGIN INSERT INTO {rq} VALUES ({values}); END",
        ]
    else:
        triggers += [
            f"CREATE TRIGGER {_q(r + '_update1')} AFTER UPDATE OF {c} ON {t} "
            f"WHEN OLD.{i} = NEW.{i} AND {new_ok} "
            f"BEGIN INSERT OR REPLACE INTO {rq} VALUES ({values}); END",
            f"CREATE TRIGGER {_q(r + '_update3')} AFTER UPDATE ON {t} "
            f"WHEN OLD.{i} != NEW.{i} AND {new_ok} "
            f"BEGIN DELETE FROM {rq} WHERE id = OLD.{i}; "
            f"INSERT OR REPLACE INTO {rq} VALUES ({values}); END",
        ]
    return triggers


# --------------------------------------------------------------------------
# File checks
# --------------------------------------------------------------------------

def temporary_path(path: str | os.PathLike) -> Path:
    """A fresh hidden file name next to *path*, for writing before an atomic rename."""
    path = Path(path)
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def _check_sqlite_file(path: Path) -> None:
    """Raise GeoPackageError unless *path* is a complete SQLite database file."""
    if not path.exists():
        raise GeoPackageError(f"{path}: no such file")
    if not path.is_file():
        raise GeoPackageError(f"{path}: not a file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        header = f.read(100)
    if size == 0:
        raise GeoPackageError(f"{path}: empty file, not a GeoPackage")
    if not header.startswith(b"SQLite format 3\x00"):
        raise GeoPackageError(f"{path}: not a GeoPackage (not an SQLite database)")
    if len(header) < 100:
        raise GeoPackageError(f"{path}: truncated file ({size} bytes)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    count_valid = header[92:96] == header[24:28]
    if page_size < 512 or size % page_size:
        raise GeoPackageError(
            f"{path}: truncated or corrupt file ({size} bytes is not a whole "
            f"number of {page_size}-byte pages)")
    if count_valid and size < page_size * page_count:
        raise GeoPackageError(
            f"{path}: truncated file ({size} bytes, the header says "
            f"{page_size * page_count})")


# --------------------------------------------------------------------------
# Value conversion
# --------------------------------------------------------------------------

def _to_boolean(value):
    if isinstance(value, (bool, np.bool_)) or value in (0, 1):
        return int(bool(value))
    raise ValueError("expected a boolean")


def _to_date(value):
    if isinstance(value, _dt.datetime):
        raise ValueError("expected a date, got a datetime")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str) and _DATE_RE.match(value):
        return value
    raise ValueError("expected a date or 'YYYY-MM-DD'")


def _to_datetime(value):
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, str) and _DATETIME_RE.match(value):
        return value
    raise ValueError("expected a datetime or ISO text like 'YYYY-MM-DDTHH:MM:SS.sssZ'")


_WRITERS = {"BOOLEAN": _to_boolean, "DATE": _to_date, "DATETIME": _to_datetime}


# --------------------------------------------------------------------------
# The GeoPackage
# --------------------------------------------------------------------------

def open_geopackage(path: str | os.PathLike, mode: str = "r") -> "GeoPackage":
    """Open a GeoPackage; use the result as a context manager.

    Parameters
    ----------
    path : str or path-like
    mode : {'r', 'w', 'a'}
        ``'r'`` reads an existing GeoPackage; ``'w'`` creates a new one (an
        existing file is replaced, atomically, when the block ends without an
        error); ``'a'`` modifies an existing one in a single transaction.

    Returns
    -------
    GeoPackage

    Raises
    ------
    GeoPackageError
        Naming the file and the problem: missing, not an SQLite database,
        truncated, corrupt, wrong application_id or no ``gpkg_contents``.

    Examples
    --------
    >>> with open_geopackage("toilets.gpkg") as gp:          # doctest: +SKIP
    ...     for row in gp.rows("toilets"):
    ...         print(row["fid"], row["geom"])
    """
    return GeoPackage(path, mode)


class GeoPackage:
    """An open GeoPackage file; see :func:`open_geopackage`.

    Attributes
    ----------
    path : pathlib.Path
        The file named by the caller (for ``'w'`` the final name, not the
        temporary file being written).
    mode : str
    connection : sqlite3.Connection
        The live connection, for callers that need SQL this class lacks.
    """

    def __init__(self, path: str | os.PathLike, mode: str = "r"):
        if mode not in ("r", "w", "a"):
            raise ValueError(f"mode must be 'r', 'w' or 'a', not {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self._tmp: Path | None = None
        self._new_layers: set[str] = set()
        self._touched: set[str] = set()
        self._closed = False
        try:
            if mode == "w":
                self._open_new()
            else:
                self._open_existing()
        except sqlite3.Error as exc:
            self._discard()
            raise GeoPackageError(f"{self.path}: cannot be opened ({exc})") from exc
        except BaseException:
            self._discard()
            raise

    # -- lifetime -----------------------------------------------------------

    def _open_new(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            raise GeoPackageError(f"{self.path}: folder {folder} does not exist")
        # SQLite creates the file itself, so it gets the usual permissions.
        self._tmp = temporary_path(self.path)
        self.connection = sqlite3.connect(self._tmp, isolation_level=None)
        con = self.connection
        register_functions(con)
        con.execute("PRAGMA journal_mode = MEMORY")
        con.execute("PRAGMA synchronous = OFF")
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {USER_VERSION}")
        con.execute("BEGIN")
        for ddl in _CORE_DDL:
            con.execute(ddl)
        con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
                        _REQUIRED_SRS)
        self.add_srs(4326)

    def _open_existing(self) -> None:
        _check_sqlite_file(self.path)
        if self.mode == "r":
            uri = self.path.absolute().as_uri() + "?mode=ro"
            self.connection = sqlite3.connect(uri, uri=True, isolation_level=None)
        else:
            if not os.access(self.path, os.W_OK):
                raise GeoPackageError(f"{self.path}: file is read-only")
            self.connection = sqlite3.connect(self.path, isolation_level=None)
        con = self.connection
        register_functions(con)
        try:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            has_contents = con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'gpkg_contents'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise GeoPackageError(f"{self.path}: corrupt or not a GeoPackage ({exc})") from exc
        if app_id not in _APPLICATION_IDS_READ:
            raise GeoPackageError(
                f"{self.path}: not a GeoPackage (application_id is {app_id:#x}, "
                f"expected 'GPKG' {APPLICATION_ID:#x})")
        if not has_contents:
            raise GeoPackageError(f"{self.path}: not a GeoPackage (no gpkg_contents table)")
        if self.mode == "a":
            con.execute("PRAGMA trusted_schema = ON")  # our ST_* functions are pure
            con.execute("BEGIN")

    def __enter__(self) -> "GeoPackage":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

    def close(self) -> None:
        """Finish writing (indexes, extents, commit, rename) and close the file."""
        if self._closed:
            return
        if self.mode == "r":
            self._closed = True
            self.connection.close()
            return
        try:
            with self._sql("finishing"):
                self._finish_layers()
                self.connection.execute("COMMIT")
                self.connection.close()
            self._closed = True
            if self._tmp is not None:
                with open(self._tmp, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(self._tmp, self.path)
                self._tmp = None
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Roll back and close; a file being created in mode 'w' is removed."""
        if not self._closed:
            self._closed = True
            try:
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            self.connection.close()
        self._discard()

    def _discard(self) -> None:
        if getattr(self, "connection", None) is not None and not self._closed:
            self._closed = True
            self.connection.close()
        if self._tmp is not None:
            for p in (self._tmp, Path(str(self._tmp) + "-journal")):
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass
            self._tmp = None

    def _sql(self, what: str):
        return _SqlErrors(self.path, what)

    def _writable(self) -> None:
        if self.mode == "r":
            raise GeoPackageError(f"{self.path}: opened read-only")
        if self._closed:
            raise GeoPackageError(f"{self.path}: already closed")

    @property
    def version(self) -> int:
        """``PRAGMA user_version`` of the file (10300 for files made here)."""
        return self.connection.execute("PRAGMA user_version").fetchone()[0]

    # -- reading ------------------------------------------------------------

    def layers(self) -> list[str]:
        """Names of the feature and attribute tables, in ``gpkg_contents`` order."""
        with self._sql("listing layers"):
            rows = self.connection.execute(
                "SELECT table_name FROM gpkg_contents "
                "WHERE data_type IN ('features', 'attributes') ORDER BY rowid").fetchall()
        return [r[0] for r in rows]

    def has_layer(self, layer: str) -> bool:
        """True if *layer* is a feature or attribute table of this file."""
        return layer in self.layers()

    def schema(self, layer: str) -> LayerSchema:
        """Read a layer's structure.

        Raises
        ------
        GeoPackageError
            If the file has no such layer.
        """
        with self._sql(f"reading layer {layer!r}"):
            con = self.connection
            contents = con.execute(
                "SELECT data_type, identifier, description, srs_id FROM gpkg_contents "
                "WHERE table_name = ? AND data_type IN ('features', 'attributes')",
                (layer,)).fetchone()
            if contents is None:
                raise GeoPackageError(
                    f"{self.path}: no layer {layer!r} (layers: "
                    f"{', '.join(self.layers()) or 'none'})")
            data_type, identifier, description, srs_id = contents
            geom_row = None
            if data_type == "features":
                geom_row = con.execute(
                    "SELECT column_name, geometry_type_name, srs_id, z, m "
                    "FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)).fetchone()
            info = con.execute(f"PRAGMA table_info({_q(layer)})").fetchall()
        if not info:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no table")
        fid_column = next((r[1] for r in info if r[5] == 1), None)
        if fid_column is None:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no INTEGER PRIMARY KEY")
        unique = self._unique_columns(layer)
        geom_name = geom_row[0] if geom_row else None
        columns = tuple(
            Column(r[1], r[2], bool(r[3]), r[1] in unique)
            for r in info
            if r[1] != fid_column and (geom_name is None or r[1].lower() != geom_name.lower())
        )
        kwargs = dict(name=layer, columns=columns, fid_column=fid_column,
                      identifier=identifier, description=description or "")
        if geom_row:
            kwargs.update(geometry_column=geom_name, geometry_type=geom_row[1],
                          srs_id=geom_row[2], z=geom_row[3], m=geom_row[4])
        else:
            kwargs.update(srs_id=srs_id if srs_id is not None else 0)
        return LayerSchema(**kwargs)

    def _unique_columns(self, layer: str) -> set[str]:
        names = set()
        for idx in self.connection.execute(f"PRAGMA index_list({_q(layer)})").fetchall():
            if idx[2]:  # unique
                cols = self.connection.execute(f"PRAGMA index_info({_q(idx[1])})").fetchall()
                if len(cols) == 1:
                    names.add(cols[0][2])
        return names

    def count(self, layer: str) -> int:
        """Number of rows in *layer*."""
        self.schema(layer)
        with self._sql(f"counting {layer!r}"):
            return self.connection.execute(f"SELECT count(*) FROM {_q(layer)}").fetchone()[0]

    def keys(self, layer: str, column: str | None = None) -> list:
        """Values of one column (default: the fid column) of every row, in fid order."""
        schema = self.schema(layer)
        column = column or schema.fid_column
        if column not in {schema.fid_column, *schema.column_names}:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no column {column!r}")
        with self._sql(f"reading layer {layer!r}"):
            return [r[0] for r in self.connection.execute(
                f"SELECT {_q(column)} FROM {_q(layer)} ORDER BY {_q(schema.fid_column)}")]

    def rows(self, layer: str) -> Iterator[dict[str, Any]]:
        """Iterate over a layer's rows in primary key order.

        Yields
        ------
        dict
            ``{fid_column: int, geometry_column: shapely geometry or None,
            column: value, ...}``; BOOLEAN columns as ``bool``.
        """
        schema = self.schema(layer)
        names = [schema.fid_column] + schema.field_names
        booleans = [i for i, n in enumerate(names)
                    if any(c.name == n and c.type.upper() == "BOOLEAN" for c in schema.columns)]
        sql = (f"SELECT {', '.join(_q(n) for n in names)} FROM {_q(layer)} "
               f"ORDER BY {_q(schema.fid_column)}")
        with self._sql(f"reading layer {layer!r}"):
            cursor = self.connection.execute(sql)
            while True:
                chunk = cursor.fetchmany(_CHUNK)
                if not chunk:
                    break
                geoms = None
                if schema.is_spatial:
                    try:
                        geoms = decode_gpb_many([r[1] for r in chunk])
                    except GeoPackageError as exc:
                        raise GeoPackageError(f"{self.path}: layer {layer!r}: {exc}") from exc
                for j, r in enumerate(chunk):
                    row = dict(zip(names, r))
                    if geoms is not None:
                        row[schema.geometry_column] = geoms[j]
                    for i in booleans:
                        if r[i] is not None:
                            row[names[i]] = bool(r[i])
                    yield row

    # -- creating -----------------------------------------------------------

    def add_srs(self, srs_id: int) -> None:
        """Add EPSG:*srs_id* to ``gpkg_spatial_ref_sys`` (WKT from pyproj) if absent."""
        self._writable()
        con = self.connection
        if con.execute("SELECT 1 FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
                       (srs_id,)).fetchone():
            return
        import pyproj
        try:
            crs = pyproj.CRS.from_epsg(srs_id)
        except pyproj.exceptions.CRSError as exc:
            raise GeoPackageError(f"{self.path}: unknown EPSG code {srs_id}") from exc
        wkt = crs.to_wkt("WKT1_GDAL") or crs.to_wkt()
        con.execute("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, ?, ?)",
                    (crs.name, srs_id, srs_id, wkt, crs.name))

    def create_layer(self, schema: LayerSchema) -> None:
        """Create a feature (``schema.geometry_type`` set) or attribute table.

        The spatial index is built when the session ends, after the rows are in.

        Raises
        ------
        GeoPackageError
            If the schema is invalid or the layer exists.
        """
        self._writable()
        schema.validate()
        con = self.connection
        if con.execute("SELECT 1 FROM sqlite_master WHERE lower(name) = lower(?)",
                       (schema.name,)).fetchone():
            raise GeoPackageError(f"{self.path}: layer {schema.name!r} already exists")
        parts = [f"{_q(schema.fid_column)} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
        if schema.is_spatial:
            parts.append(f"{_q(schema.geometry_column)} {schema.geometry_type}")
        for c in schema.columns:
            parts.append(f"{_q(c.name)} {c.type.upper()}"
                         + (" NOT NULL" if c.not_null else "")
                         + (" UNIQUE" if c.unique else ""))
        with self._sql(f"creating layer {schema.name!r}"):
            con.execute(f"CREATE TABLE {_q(schema.name)} ({', '.join(parts)})")
            if schema.is_spatial:
                if schema.srs_id not in (0, -1):
                    self.add_srs(schema.srs_id)
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                    f"description, last_change, srs_id) VALUES (?, 'features', ?, ?, {_NOW}, ?)",
                    (schema.name, schema.identifier or schema.name, schema.description,
                     schema.srs_id))
                con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, ?, ?)",
                            (schema.name, schema.geometry_column, schema.geometry_type,
                             schema.srs_id, schema.z, schema.m))
            else:
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                    f"description, last_change) VALUES (?, 'attributes', ?, ?, {_NOW})",
                    (schema.name, schema.identifier or schema.name, schema.description))
        self._new_layers.add(schema.name)
        self._touched.add(schema.name)

    # -- writing rows -------------------------------------------------------

    def write_rows(self, layer: str, rows: Iterable[Mapping | Sequence]) -> int:
        """Insert rows into *layer*, in chunks with ``executemany``.

        Parameters
        ----------
        layer : str
        rows : iterable of dict or tuple
            A dict maps column names (optionally the fid column, the geometry
            column as a shapely geometry) to values; missing columns are NULL.
            A tuple holds the values in ``schema.field_names`` order (geometry
            first) and lets SQLite assign the fid.

        Returns
        -------
        int
            Number of rows inserted.

        Raises
        ------
        GeoPackageError
            Naming the layer, row and column of a value that cannot be
            written (wrong geometry type, bad date, constraint violation).
        """
        self._writable()
        schema = self.schema(layer)
        names = [schema.fid_column] + schema.field_names
        sql = (f"INSERT INTO {_q(layer)} ({', '.join(_q(n) for n in names)}) "
               f"VALUES ({', '.join('?' * len(names))})")
        count = 0
        chunk: list = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= _CHUNK:
                count += self._insert_chunk(schema, names, sql, chunk, count)
                chunk = []
        if chunk:
            count += self._insert_chunk(schema, names, sql, chunk, count)
        self._touched.add(layer)
        return count

    def _insert_chunk(self, schema, names, sql, chunk, start) -> int:
        known = set(names)
        values = []
        for n, row in enumerate(chunk, start):
            if isinstance(row, (tuple, list)):
                if len(row) != len(names) - 1:
                    raise GeoPackageError(
                        f"{self.path}: layer {schema.name!r}, row {n}: {len(row)} values "
                        f"for {len(names) - 1} fields ({', '.join(names[1:])})")
                values.append([None, *row])
            else:
                unknown = set(row) - known
                if unknown:
                    raise GeoPackageError(
                        f"{self.path}: layer {schema.name!r}, row {n}: no column "
                        f"{', '.join(repr(u) for u in sorted(unknown))}")
                values.append([row.get(name) for name in names])
        self._convert(schema, names, values, start)
        with self._sql(f"writing layer {schema.name!r}"):
            self.connection.executemany(sql, values)
        return len(values)

    def _convert(self, schema: LayerSchema, names: list[str], values: list[list],
                 start: int) -> None:
        """Turn row values into what is stored, in place; geometry at index 1."""
        where = f"{self.path}: layer {schema.name!r}"
        types = {c.name: c.type.upper() for c in schema.columns}
        for i, name in enumerate(names):
            writer = _WRITERS.get(types.get(name, ""))
            if writer is None:
                continue
            for n, v in enumerate(values):
                if v[i] is not None:
                    try:
                        v[i] = writer(v[i])
                    except ValueError as exc:
                        raise GeoPackageError(
                            f"{where}, row {start + n}, column {name!r}: {v[i]!r}: {exc}"
                        ) from None
        if schema.is_spatial:
            geoms = [v[1] for v in values]
            self._check_geometries(schema, geoms, start)
            for v, blob in zip(values, encode_gpb_many(geoms, schema.srs_id)):
                v[1] = blob

    def _check_geometries(self, schema: LayerSchema, geoms: list, start: int) -> None:
        where = f"{self.path}: layer {schema.name!r}"
        for n, g in enumerate(geoms):
            if g is not None and not isinstance(g, BaseGeometry):
                raise GeoPackageError(
                    f"{where}, row {start + n}: geometry must be a shapely geometry, "
                    f"not {type(g).__name__}")
        arr = np.empty(len(geoms), dtype=object)
        arr[:] = geoms
        type_ids = shapely.get_type_id(arr)
        has_z = shapely.has_z(arr)
        empty = shapely.is_empty(arr)
        accepted = GEOMETRY_TYPES[schema.geometry_type]
        for n, g in enumerate(geoms):
            if g is None:
                continue
            if type_ids[n] not in accepted:
                raise GeoPackageError(
                    f"{where}, row {start + n}: geometry is "
                    f"{_SHAPELY_TYPE_NAMES.get(int(type_ids[n]), '?')}, the layer takes "
                    f"{schema.geometry_type}")
            if has_z[n] and schema.z == 0:
                raise GeoPackageError(
                    f"{where}, row {start + n}: geometry has Z values, the layer has none")
            if not has_z[n] and not empty[n] and schema.z == 1:
                raise GeoPackageError(
                    f"{where}, row {start + n}: geometry has no Z values, the layer needs them")

    def update_rows(self, layer: str, key: str,
                    changes: Mapping[Any, Mapping[str, Any]]) -> int:
        """Set some fields of some rows, matched by the *key* column.

        Parameters
        ----------
        layer : str
        key : str
            Column that identifies rows (``'uuid'`` or the fid column).
        changes : mapping
            ``{key value: {column: new value, ...}, ...}``; geometries as shapely.

        Returns
        -------
        int
            Number of rows changed.
        """
        self._writable()
        schema = self.schema(layer)
        allowed = {schema.fid_column, *schema.field_names}
        if key not in allowed:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no column {key!r}")
        groups: dict[tuple[str, ...], list] = {}
        for k, fields in changes.items():
            unknown = set(fields) - allowed
            if unknown:
                raise GeoPackageError(
                    f"{self.path}: layer {layer!r}: no column "
                    f"{', '.join(repr(u) for u in sorted(unknown))}")
            if fields:
                groups.setdefault(tuple(fields), []).append((k, fields))
        done = 0
        for cols, items in groups.items():
            # Convert with the insert machinery: fid slot, geometry slot, then columns.
            names = [schema.fid_column] + schema.field_names
            full = [[f.get(n) for n in names] for _, f in items]
            self._convert(schema, names, full, 0)
            index = [names.index(c) for c in cols]
            params = [[v[i] for i in index] + [k] for v, (k, _) in zip(full, items)]
            sql = (f"UPDATE {_q(layer)} SET {', '.join(f'{_q(c)} = ?' for c in cols)} "
                   f"WHERE {_q(key)} = ?")
            with self._sql(f"updating layer {layer!r}"):
                cursor = self.connection.executemany(sql, params)
            done += cursor.rowcount
        self._touched.add(layer)
        return done

    def delete_rows(self, layer: str, key: str, keys: Iterable) -> int:
        """Delete the rows whose *key* column is in *keys*; return how many went."""
        self._writable()
        schema = self.schema(layer)
        if key not in {schema.fid_column, *schema.column_names}:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no column {key!r}")
        with self._sql(f"deleting from layer {layer!r}"):
            cursor = self.connection.executemany(
                f"DELETE FROM {_q(layer)} WHERE {_q(key)} = ?", [(k,) for k in keys])
        self._touched.add(layer)
        return cursor.rowcount

    def _finish_layers(self) -> None:
        """Build new spatial indexes, refresh extents and last_change."""
        con = self.connection
        for layer in sorted(self._touched):
            if not self.has_layer(layer):
                continue
            schema = self.schema(layer)
            if schema.is_spatial and layer in self._new_layers:
                self.pack_spatial_index(layer, [self._scan_envelopes(schema)])
            elif schema.is_spatial:
                fids, minx, maxx, miny, maxy = self._scan_envelopes(schema)
                con.execute(
                    f"UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
                    f"last_change = {_NOW} WHERE table_name = ?", (*extent(minx, maxx, miny, maxy), layer))
            else:
                con.execute(f"UPDATE gpkg_contents SET last_change = {_NOW} "
                            "WHERE table_name = ?", (layer,))
        self._new_layers.clear()
        self._touched.clear()

    def pack_spatial_index(self, layer: str, parts: Sequence[tuple]) -> None:
        """Create a new layer's rtree index packed in one go, its triggers, extent and last_change.

        Parameters
        ----------
        layer : str
            A spatial layer made by ``create_layer`` in this session and
            filled since (its index does not exist yet).
        parts : sequence of (fids, minx, maxx, miny, maxy)
            The envelopes of every geometry of the layer, e.g. from
            ``envelopes(rows)`` of each chunk written, so a writer that has
            them need not read the layer again.
        """
        if layer not in self._new_layers:
            raise GeoPackageError(f"{self.path}: layer {layer!r} already has its spatial index")
        schema = self.schema(layer)
        con = self.connection
        fids, minx, maxx, miny, maxy = (
            np.concatenate([part[i] for part in parts]) if parts else np.empty(0) for i in range(5)
        )
        rtree = f"rtree_{layer}_{schema.geometry_column}"
        con.execute(f"CREATE VIRTUAL TABLE {_q(rtree)} USING rtree(id, minx, maxx, miny, maxy)")
        bulk_load_rtree(con, rtree, fids.astype(np.int64), minx, maxx, miny, maxy)
        for ddl in _rtree_triggers(layer, schema.geometry_column, schema.fid_column, self.version):
            con.execute(ddl)
        con.execute(
            "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', ?, 'write-only')",
            (layer, schema.geometry_column, _RTREE_EXTENSION))
        con.execute(
            f"UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
            f"last_change = {_NOW} WHERE table_name = ?", (*extent(minx, maxx, miny, maxy), layer))
        self._new_layers.discard(layer)
        self._touched.discard(layer)

    def _scan_envelopes(self, schema: LayerSchema) -> tuple:
        """(fids, minx, maxx, miny, maxy) of every geometry of a layer, read in chunks."""
        c = _q(schema.geometry_column)
        cursor = self.connection.execute(
            f"SELECT {_q(schema.fid_column)}, {c} FROM {_q(schema.name)} WHERE {c} NOT NULL")
        parts = []
        while chunk := cursor.fetchmany(_CHUNK):
            parts.append(envelopes(chunk))
        if not parts:
            return (np.empty(0, np.int64), *[np.empty(0)] * 4)
        return tuple(np.concatenate([part[i] for part in parts]) for i in range(5))

    # -- QGIS styles --------------------------------------------------------

    def add_style(self, layer: str, name: str, qml: str, *, sld: str = "",
                  default: bool = True, description: str = "", owner: str = "",
                  ui: str | None = None) -> int:
        """Store a QGIS style for *layer* in ``layer_styles`` (QGIS reads it on load).

        Parameters
        ----------
        layer : str
            The feature layer the style is for.
        name : str
            Style name (at most 30 characters, as in QGIS's table).
        qml, sld : str
            The style as QGIS QML and, optionally, SLD.
        default : bool
            Whether QGIS should apply it when the layer is loaded; other styles
            of the layer lose their default flag.
        description, owner, ui : str

        Returns
        -------
        int
            The style's id.
        """
        self._writable()
        schema = self.schema(layer)
        values = {"f_table_name": layer, "f_geometry_column": schema.geometry_column
                  if schema.is_spatial else None, "styleName": name, "owner": owner, "ui": ui}
        for col, limit in _STYLE_LIMITS.items():
            if values[col] is not None and len(values[col]) > limit:
                raise GeoPackageError(
                    f"{self.path}: style {name!r}: {col} is longer than {limit} characters")
        con = self.connection
        with self._sql("writing layer_styles"):
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'"
                               ).fetchone():
                con.execute(_STYLES_DDL)
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                    f"description, last_change) VALUES ('layer_styles', 'attributes', "
                    f"'layer_styles', 'QGIS layer styles', {_NOW})")
            if default:
                con.execute('UPDATE layer_styles SET "useAsDefault" = 0 '
                            "WHERE f_table_name = ?", (layer,))
            cursor = con.execute(
                'INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, '
                'f_geometry_column, "styleName", "styleQML", "styleSLD", "useAsDefault", '
                f'description, owner, ui, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {_NOW})',
                ("", "", layer, values["f_geometry_column"], name, qml, sld,
                 int(bool(default)), description, owner, ui))
        self._touched.add("layer_styles")
        return cursor.lastrowid

    def styles(self, layer: str | None = None) -> list[dict[str, Any]]:
        """Rows of ``layer_styles`` (all, or those of *layer*), default first."""
        con = self.connection
        with self._sql("reading layer_styles"):
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'layer_styles'"
                               ).fetchone():
                return []
            cursor = con.execute(
                "SELECT * FROM layer_styles WHERE ? IS NULL OR f_table_name = ? "
                'ORDER BY "useAsDefault" DESC, id', (layer, layer))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r)) for r in cursor.fetchall()]

    # -- metadata (lineage) ---------------------------------------------------

    def add_metadata(self, metadata: str, *, layer: str | None = None,
                     md_scope: str = "dataset",
                     standard_uri: str = "http://www.isotc211.org/2005/gmd",
                     mime_type: str = "text/xml") -> int:
        """Add a ``gpkg_metadata`` document, referenced to the file or to a layer.

        Parameters
        ----------
        metadata : str
            The document (ISO 19115 XML, or e.g. JSON lineage with
            ``mime_type='application/json'``).
        layer : str, optional
            Reference the document to this table; otherwise to the whole
            GeoPackage.
        md_scope : str
            A scope of the spec's list ('dataset', 'featureType', ...).
        standard_uri, mime_type : str

        Returns
        -------
        int
            The metadata row id.
        """
        self._writable()
        if layer is not None:
            self.schema(layer)
        con = self.connection
        with self._sql("writing gpkg_metadata"):
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_metadata'"
                               ).fetchone():
                for ddl in _METADATA_DDL:
                    con.execute(ddl)
                con.executemany(
                    "INSERT INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, "
                    "'read-write')",
                    [("gpkg_metadata", _METADATA_EXTENSION),
                     ("gpkg_metadata_reference", _METADATA_EXTENSION)])
            md_id = con.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                "VALUES (?, ?, ?, ?)", (md_scope, standard_uri, mime_type, metadata)).lastrowid
            con.execute(
                "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, "
                f"md_file_id, timestamp) VALUES (?, ?, ?, {_NOW})",
                ("table" if layer else "geopackage", layer, md_id))
        return md_id

    def metadata(self) -> list[dict[str, Any]]:
        """All metadata documents with their reference (scope, table, timestamp)."""
        con = self.connection
        with self._sql("reading gpkg_metadata"):
            if not con.execute("SELECT 1 FROM sqlite_master WHERE name = 'gpkg_metadata'"
                               ).fetchone():
                return []
            cursor = con.execute(
                "SELECT m.id, m.md_scope, m.md_standard_uri, m.mime_type, m.metadata, "
                "r.reference_scope, r.table_name, r.timestamp FROM gpkg_metadata m "
                "LEFT JOIN gpkg_metadata_reference r ON r.md_file_id = m.id ORDER BY m.id")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r)) for r in cursor.fetchall()]


class _SqlErrors:
    """Turn sqlite3 errors into GeoPackageError naming the file and the action."""

    def __init__(self, path: Path, what: str):
        self.path, self.what = path, what

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, sqlite3.Error):
            raise GeoPackageError(f"{self.path}: {self.what}: {exc}") from exc
        return False
