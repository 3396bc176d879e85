"""The structure of GeoPackage layers: column and geometry types, Column and LayerSchema."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from layers.errors import GeoPackageError

__all__ = ["COLUMN_TYPES", "GEOMETRY_TYPES", "SHAPELY_TYPE_NAMES", "Column", "LayerSchema"]

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

#: Names of shapely's geometry type ids, for error messages.
SHAPELY_TYPE_NAMES = {
    0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon",
    4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection",
}

_SIZED_TYPE = re.compile(r"(TEXT|BLOB)\(\d+\)")


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
        Attribute columns, without the primary key and the geometry; stored
        as a tuple of Column.
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
    columns: tuple[Column, ...] = ()
    geometry_type: str | None = None
    srs_id: int = 4326
    geometry_column: str = "geom"
    z: int = 0
    m: int = 0
    fid_column: str = "fid"
    identifier: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        given: Any = self.columns
        columns = tuple(c if isinstance(c, Column) else Column(*c) for c in given)
        object.__setattr__(self, "columns", columns)
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
        seen: set[str] = set()
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
    return t in COLUMN_TYPES or bool(_SIZED_TYPE.fullmatch(t))
