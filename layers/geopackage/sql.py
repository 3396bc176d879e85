"""SQL shared by the GeoPackage modules: identifier quoting, the core tables, sqlite3 errors as GeoPackageError."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import TracebackType

from layers.errors import GeoPackageError
from layers.sqlite.locks import file_fault

__all__ = ["NOW", "CHUNK", "CORE_DDL", "REQUIRED_SRS", "quote", "table_exists", "SqlErrors"]

#: SQL expression of the current UTC time as GeoPackage writes it.
NOW = "strftime('%Y-%m-%dT%H:%M:%fZ','now')"
#: Rows read or written per ``fetchmany``/``executemany``.
CHUNK = 10_000

#: Core tables, as GDAL writes them (the validator compares their structure).
CORE_DDL = (
    "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL,"
    " srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,"
    " organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,"
    " description TEXT)",
    "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,"
    " data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',"
    f" last_change DATETIME NOT NULL DEFAULT ({NOW}),"
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

#: The two spatial reference systems every GeoPackage must hold.
REQUIRED_SRS = (
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian coordinate reference system"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic coordinate reference system"),
)


def quote(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def table_exists(connection: sqlite3.Connection, name: str) -> bool:
    """True if the main schema has a table (or other object) called *name*."""
    return connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


class SqlErrors:
    """Context manager turning sqlite3 errors into GeoPackageError naming the file and the action."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self.what = path, what

    def __enter__(self) -> SqlErrors:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None and issubclass(exc_type, sqlite3.Error):
            fault = file_fault(self.path, exc, GeoPackageError) if exc is not None else None
            if fault is not None:
                raise fault from exc
            raise GeoPackageError(f"{self.path}: {self.what}: {exc}") from exc
