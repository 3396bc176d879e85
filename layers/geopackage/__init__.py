"""GeoPackage files: reading, writing, the binary geometry codec, QGIS styles and metadata.

The package's public API is re-exported here; import it from ``layers.geopackage``.

One class, :class:`GeoPackage`, opened with :func:`open_geopackage` as a
context manager, does everything Tongcheng needs from a GeoPackage: check that
a file is one, list its layers and their schemas, read rows as dicts with
shapely geometries, create feature and attribute tables, write rows in bulk,
update and delete rows by key, and keep QGIS styles (``layer_styles``) and
lineage metadata (``gpkg_metadata``).

Modules
-------
* ``gpkg``: the :class:`GeoPackage` class (open, atomic write, read schemas
  and rows, create layers, write, update and delete rows).
* ``schema``: column and geometry types, :class:`Column`, :class:`LayerSchema`.
* ``values``: rows as stored (BOOLEAN, DATE, DATETIME converters, geometry checks).
* ``codec``: GeoPackage binary geometry and the ``ST_*`` SQL functions.
* ``spatial_index``: rtree triggers, packed spatial indexes, extents.
* ``files``: temporary names for atomic writes, SQLite file checks.
* ``sql``: identifier quoting, the core tables' DDL, sqlite3 errors as GeoPackageError.
* ``layer_styles`` and ``metadata``: QGIS's ``layer_styles`` table and ``gpkg_metadata``.
* ``styles``: QGIS QML and SLD documents made from a layer definition.

Choices worth knowing
---------------------
* **No mod_spatialite.** The rtree triggers that GeoPackage writers (GDAL,
  QGIS, this package) put on feature tables call ``ST_IsEmpty``, ``ST_MinX``,
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

from layers.geopackage.codec import (
    decode_gpb,
    decode_gpb_many,
    encode_gpb,
    encode_gpb_many,
    envelopes,
    gpb_envelope,
    gpb_srs_id,
    gpb_wkb,
)
from layers.geopackage.files import remove_stale_temporaries, temporary_path
from layers.geopackage.gpkg import APPLICATION_ID, USER_VERSION, GeoPackage, open_geopackage
from layers.geopackage.schema import COLUMN_TYPES, GEOMETRY_TYPES, Column, LayerSchema
from layers.geopackage.styles import OPERATION_COLORS, QGIS_VERSION, layer_qml, layer_sld, operation_qml

__all__ = [
    "APPLICATION_ID",
    "USER_VERSION",
    "COLUMN_TYPES",
    "GEOMETRY_TYPES",
    "Column",
    "LayerSchema",
    "GeoPackage",
    "open_geopackage",
    "temporary_path",
    "remove_stale_temporaries",
    "encode_gpb",
    "encode_gpb_many",
    "decode_gpb",
    "decode_gpb_many",
    "gpb_srs_id",
    "gpb_wkb",
    "gpb_envelope",
    "envelopes",
    "layer_qml",
    "layer_sld",
    "operation_qml",
    "OPERATION_COLORS",
    "QGIS_VERSION",
]
