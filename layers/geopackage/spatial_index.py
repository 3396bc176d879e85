"""Spatial indexes of GeoPackage feature tables: rtree triggers (spec annex F.3), packing, extents."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from layers.geopackage.codec import Envelopes, envelopes, extent
from layers.geopackage.schema import LayerSchema
from layers.geopackage.sql import CHUNK, NOW, quote
from layers.sqlite.rtree import bulk_load_rtree

__all__ = ["RTREE_EXTENSION", "rtree_triggers", "scan_envelopes", "create_spatial_index",
           "refresh_contents"]

RTREE_EXTENSION = "http://www.geopackage.org/spec/#extension_rtree"


def rtree_triggers(table: str, geom: str, fid: str, version: int) -> list[str]:
    """The CREATE TRIGGER statements that keep ``rtree_<table>_<geom>`` up to date.

    Parameters
    ----------
    table, geom, fid : str
        The feature table, its geometry column and its primary key column.
    version : int
        ``PRAGMA user_version`` of the file: 1.4 files (10400 and later) get
        the 1.4 set (update5/6/7), older ones the 1.2/1.3 set (update1-4).

    Returns
    -------
    list of str
    """
    t, c, i = quote(table), quote(geom), quote(fid)
    r = f"rtree_{table}_{geom}"
    rq = quote(r)
    values = (f"NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), "
              f"ST_MinY(NEW.{c}), ST_MaxY(NEW.{c})")
    new_ok = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    new_gone = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    old_ok = f"(OLD.{c} NOTNULL AND NOT ST_IsEmpty(OLD.{c}))"
    old_gone = f"(OLD.{c} ISNULL OR ST_IsEmpty(OLD.{c}))"
    triggers = [
        f"CREATE TRIGGER {quote(r + '_insert')} AFTER INSERT ON {t} WHEN {new_ok} "
        f"BEGIN INSERT OR REPLACE INTO {rq} VALUES ({values}); END",
        f"CREATE TRIGGER {quote(r + '_update2')} AFTER UPDATE OF {c} ON {t} "
        f"WHEN OLD.{i} = NEW.{i} AND {new_gone} "
        f"BEGIN DELETE FROM {rq} WHERE id = OLD.{i}; END",
        f"CREATE TRIGGER {quote(r + '_update4')} AFTER UPDATE ON {t} "
        f"WHEN OLD.{i} != NEW.{i} AND {new_gone} "
        f"BEGIN DELETE FROM {rq} WHERE id IN (OLD.{i}, NEW.{i}); END",
        f"CREATE TRIGGER {quote(r + '_delete')} AFTER DELETE ON {t} WHEN OLD.{c} NOT NULL "
        f"BEGIN DELETE FROM {rq} WHERE id = OLD.{i}; END",
    ]
    if version >= 10400:
        triggers += [
            f"CREATE TRIGGER {quote(r + '_update5')} AFTER UPDATE ON {t} "
            f"WHEN OLD.{i} != NEW.{i} AND {new_ok} "
            f"BEGIN DELETE FROM {rq} WHERE id = OLD.{i}; "
            f"INSERT OR REPLACE INTO {rq} VALUES ({values}); END",
            f"CREATE TRIGGER {quote(r + '_update6')} AFTER UPDATE OF {c} ON {t} "
            f"WHEN OLD.{i} = NEW.{i} AND {new_ok} AND {old_ok} "
            f"BEGIN UPDATE {rq} SET minx = ST_MinX(NEW.{c}), maxx = ST_MaxX(NEW.{c}), "
            f"miny = ST_MinY(NEW.{c}), maxy = ST_MaxY(NEW.{c}) WHERE id = NEW.{i}; END",
            f"CREATE TRIGGER {quote(r + '_update7')} AFTER UPDATE OF {c} ON {t} "
            f"WHEN OLD.{i} = NEW.{i} AND {new_ok} AND {old_gone} "
            f"BEGIN INSERT INTO {rq} VALUES ({values}); END",
        ]
    else:
        triggers += [
            f"CREATE TRIGGER {quote(r + '_update1')} AFTER UPDATE OF {c} ON {t} "
            f"WHEN OLD.{i} = NEW.{i} AND {new_ok} "
            f"BEGIN INSERT OR REPLACE INTO {rq} VALUES ({values}); END",
            f"CREATE TRIGGER {quote(r + '_update3')} AFTER UPDATE ON {t} "
            f"WHEN OLD.{i} != NEW.{i} AND {new_ok} "
            f"BEGIN DELETE FROM {rq} WHERE id = OLD.{i}; "
            f"INSERT OR REPLACE INTO {rq} VALUES ({values}); END",
        ]
    return triggers


def scan_envelopes(connection: sqlite3.Connection, schema: LayerSchema) -> Envelopes:
    """The envelopes of every geometry of a feature layer, read in chunks."""
    c = quote(schema.geometry_column)
    cursor = connection.execute(
        f"SELECT {quote(schema.fid_column)}, {c} FROM {quote(schema.name)} WHERE {c} NOT NULL")
    parts = []
    while chunk := cursor.fetchmany(CHUNK):
        parts.append(envelopes(chunk))
    if not parts:
        return (np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0), np.empty(0))
    fids, minx, maxx, miny, maxy = (np.concatenate([part[i] for part in parts]) for i in range(5))
    return fids, minx, maxx, miny, maxy


def create_spatial_index(connection: sqlite3.Connection, schema: LayerSchema, version: int,
                         parts: Sequence[Envelopes]) -> None:
    """Create a layer's rtree packed in one go, its triggers, the extension row, extent and last_change.

    Parameters
    ----------
    connection : sqlite3.Connection
        Inside the session's transaction.
    schema : LayerSchema
        A feature layer without a spatial index.
    version : int
        ``PRAGMA user_version`` of the file (chooses the trigger set).
    parts : sequence of Envelopes
        The envelopes of every geometry of the layer, in any number of parts.
    """
    layer = schema.name
    if parts:
        fids, minx, maxx, miny, maxy = (np.concatenate([part[i] for part in parts]) for i in range(5))
    else:
        fids, minx, maxx, miny, maxy = (np.empty(0) for _ in range(5))
    rtree = f"rtree_{layer}_{schema.geometry_column}"
    connection.execute(f"CREATE VIRTUAL TABLE {quote(rtree)} USING rtree(id, minx, maxx, miny, maxy)")
    bulk_load_rtree(connection, rtree, fids.astype(np.int64), minx, maxx, miny, maxy)
    for ddl in rtree_triggers(layer, schema.geometry_column, schema.fid_column, version):
        connection.execute(ddl)
    connection.execute(
        "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', ?, 'write-only')",
        (layer, schema.geometry_column, RTREE_EXTENSION))
    _set_extent(connection, layer, minx, maxx, miny, maxy)


def refresh_contents(connection: sqlite3.Connection, schema: LayerSchema) -> None:
    """Refresh a written layer's ``gpkg_contents`` row: extent (feature layers) and last_change."""
    if schema.is_spatial:
        _fids, minx, maxx, miny, maxy = scan_envelopes(connection, schema)
        _set_extent(connection, schema.name, minx, maxx, miny, maxy)
    else:
        connection.execute(f"UPDATE gpkg_contents SET last_change = {NOW} "
                           "WHERE table_name = ?", (schema.name,))


def _set_extent(connection: sqlite3.Connection, layer: str, minx: np.ndarray, maxx: np.ndarray,
                miny: np.ndarray, maxy: np.ndarray) -> None:
    connection.execute(
        f"UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
        f"last_change = {NOW} WHERE table_name = ?", (*extent(minx, maxx, miny, maxy), layer))
