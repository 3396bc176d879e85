"""Rows into a PostGIS master fast: COPY in chunks, geometries as hex EWKB, many rows per statement.

Every write of many rows goes through ``COPY ... FROM STDIN`` (text format:
PostgreSQL parses each value as its column's type, so the 0/1 booleans and
ISO dates a GeoPackage holds go in as they are), or, for updates, one
``UPDATE ... FROM json_to_recordset(...)`` per set of changed columns: one
round trip and one statement instead of one per row, no temporary table.  Geometries travel as hex EWKB
(WKB with the SRID), made from the WKB by rewriting its header, without
parsing the coordinates.
"""

from __future__ import annotations

import itertools
import json
import struct
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
import shapely
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from layers.schema.definitions import LayerDefinition
from layers.sync.master import master_columns
from layers.sync.rows import AUDIT_COLUMNS

__all__ = ["PG_TYPES", "CHUNK_ROWS", "KEYS", "json_keys", "ewkb_hex", "copy_rows", "copy_records", "copy_tuples",
           "update_rows", "set_identity"]

#: Field type -> PostgreSQL column type.
PG_TYPES = {"text": "text", "integer": "bigint", "real": "double precision", "boolean": "boolean", "date": "date",
            "datetime": "text", "photo": "text", "json": "text"}
#: Rows sent per COPY statement.
CHUNK_ROWS = 20_000
#: ``uuid IN {KEYS}`` with :func:`json_keys` as the parameter: many keys as one JSON text (no array to
#: build value by value), joined by the uuid index whatever their number.
KEYS = sql.SQL("(SELECT json_array_elements_text(%s::json))")


def json_keys(keys: Iterable[str]) -> str:
    """The parameter of :data:`KEYS`."""
    return json.dumps(list(keys), ensure_ascii=False)


def ewkb_hex(wkbs: Sequence[bytes | memoryview | None], srid: int) -> list[str | None]:
    """Hex EWKB (with the SRID), the text form a geometry column takes, of WKB geometries (None kept).

    Little-endian WKB (shapely's, GDAL's, PostGIS's ``ST_AsBinary``) gets the
    SRID flag and the SRID written into its header; anything else goes
    through shapely.
    """
    srid_hex = struct.pack("<I", srid).hex()
    out: list[str | None] = []
    other: list[int] = []
    for i, wkb in enumerate(wkbs):
        if wkb is None:
            out.append(None)
            continue
        h = wkb.hex()
        if h[:2] == "01" and h[8:10] == "00":  # little-endian, no EWKB flags in the type's high byte
            out.append(f"{h[:8]}20{srid_hex}{h[10:]}")
        else:
            out.append(None)
            other.append(i)
    if other:
        shapes = shapely.set_srid(shapely.from_wkb([bytes(wkbs[i]) for i in other]), srid)  # type: ignore[arg-type]
        for i, h in zip(other, shapely.to_wkb(shapes, hex=True, include_srid=True), strict=True):
            out[i] = h
    return out


def _copy_statement(table: str, names: Sequence[str]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table),
                                                      sql.SQL(", ").join(map(sql.Identifier, names)))


def copy_tuples(cur: psycopg.Cursor[Any], table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """COPY plain rows (no geometry) into *table*'s columns *names*; returns how many."""
    n = 0
    with cur.copy(_copy_statement(table, names)) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def copy_rows(con: psycopg.Connection[Any], definition: LayerDefinition, srid: int, rows: Iterable[dict[str, Any]],
              *, table: str | None = None, extra: Sequence[str] = ()) -> int:
    """Load rows as dicts (``geom`` as WKB) into a layer table with one COPY, sent in chunks; returns how many.

    Rows that carry a ``fid`` keep it (a master copied whole); the table's
    identity then continues after the largest.
    """
    target = table or definition.name
    spatial = definition.has_geometry
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    with_fid = first.get("fid") is not None
    names = (["fid"] if with_fid else []) + ["uuid", *definition.field_names, *AUDIT_COLUMNS, *extra]
    n = 0
    with con.cursor() as cur, cur.copy(_copy_statement(target, [*names, *(["geom"] if spatial else [])])) as copy:
        remaining = itertools.chain([first], rows)
        while chunk := list(itertools.islice(remaining, CHUNK_ROWS)):
            geoms = ewkb_hex([r.get("geom") for r in chunk], srid) if spatial else []
            for i, r in enumerate(chunk):
                values = [r.get(c) for c in names]
                if spatial:
                    values.append(geoms[i])
                copy.write_row(values)
            n += len(chunk)
    if with_fid:
        set_identity(con, target)
    return n


def copy_records(con: psycopg.Connection[Any], definition: LayerDefinition,
                 chunks: Iterable[Sequence[Sequence[Any]]]) -> int:
    """Load a master layer copied whole: chunks of tuples in ``master_columns`` order (``fid``, ``geom`` as hex
    EWKB if the layer has one, ``uuid``, fields, audit), written as they come; fids kept.  Returns how many."""
    statement = _copy_statement(definition.name, master_columns(definition))
    n = 0
    # One COPY for the whole layer, sent by psycopg's worker thread: the server takes rows in while this
    # thread reads and formats the next chunk (the wait on the socket and SQLite's reads release the GIL).
    with con.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for chunk in chunks:
            for r in chunk:
                copy.write_row(r)
            n += len(chunk)
    if n:
        set_identity(con, definition.name)
    return n


def set_identity(con: psycopg.Connection[Any], table: str) -> None:
    """Let a table's ``fid`` identity continue after the largest fid it holds."""
    con.execute(sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'fid'), (SELECT max(fid) FROM {}))")
                .format(sql.Literal(table), sql.Identifier(table)))


def _value(kind: str, value: Any) -> Any:
    """A value as JSON gives it to ``json_to_recordset`` for a column of PostgreSQL type *kind*."""
    if value is None:
        return None
    if kind == "double precision":
        return float(value)
    if kind == "bigint":
        return int(value)
    if kind == "boolean":
        return bool(value)
    return value if isinstance(value, str) else str(value)


def update_rows(cur: psycopg.Cursor[Any], definition: LayerDefinition, srid: int, columns: Sequence[str],
                items: Sequence[tuple[str, dict[str, Any]]]) -> int:
    """Set *columns* of the features (uuid, {column: value}) in one statement: ``UPDATE ... FROM
    json_to_recordset(...)`` (``geom`` as WKB; the values travel as one JSON text, the server types them).

    Returns the number of rows updated.
    """
    field_types = {f.name: PG_TYPES[f.type] for f in definition.fields}
    kinds = ["geometry" if c == "geom" else field_types.get(c, "text") for c in columns]  # audit columns: text
    keys = [f"v{i}" for i in range(len(columns))]
    sets = sql.SQL(", ").join(sql.SQL("{} = u.{}").format(sql.Identifier(c), sql.Identifier(k))
                              for c, k in zip(columns, keys, strict=True))
    record = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(k), sql.SQL(kind))
                                for k, kind in zip(["k", *keys], ["text", *kinds], strict=True))
    statement = sql.SQL("UPDATE {t} SET {sets} FROM json_to_recordset(%s::json) AS u({record}) "
                        "WHERE {t}.uuid = u.k").format(t=sql.Identifier(definition.name), sets=sets, record=record)
    geoms = ewkb_hex([changed["geom"] for _, changed in items], srid) if "geom" in columns else []
    rows = []
    for i, (k, changed) in enumerate(items):
        row: dict[str, Any] = {"k": k}
        for c, key, kind in zip(columns, keys, kinds, strict=True):
            row[key] = geoms[i] if c == "geom" else _value(kind, changed[c])
        rows.append(row)
    cur.execute(statement, (json.dumps(rows, ensure_ascii=False, allow_nan=False),))
    return cur.rowcount
