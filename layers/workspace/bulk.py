"""Inserting many features at once: validated in batches, and packed fast into an empty layer."""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from layers.errors import Cancelled, ValidationError, WorkspaceError
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.schema.geometry import validate_geometries
from layers.sqlite.rtree import bulk_load_rtree
from layers.sqlite.spatialite import MMAP_BYTES, geometry_blobs
from layers.workspace.identity import new_uuid, now_text
from layers.workspace.located import locate
from layers.workspace.numbering import give_codes
from layers.workspace.tracking import AUDIT_COLUMNS, NOW_SQL, SETTINGS_TABLE

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["CACHE_KIB", "BULK_CACHE_KIB", "SPATIAL_ORDER_MIN", "BIG_BLOB_BYTES", "hilbert_keys", "insert_many",
           "insert_streamed"]
CACHE_KIB = 65_536  # page cache per connection
BULK_CACHE_KIB = 262_144  # during a bulk load (see _BulkLoad)
SPATIAL_ORDER_MIN = 100_000
"""A bulk load of at least this many features is stored in spatial (Hilbert) order.

Neighbouring fids are then near in space, so a viewport reads a few runs of
consecutive pages instead of one page per feature. Smaller loads keep their
input order (their table fits in the page cache anyway)."""
BIG_BLOB_BYTES = 1 << 20
"""A geometry blob at least this big (a long GPS track) is inserted on its own, written in place
(see ``_insert_big``) instead of bound as a parameter."""
_BLOB_CHUNK = 1 << 20
_STREAM_CACHE_KIB = 4096  # page cache while a streamed blob is written (see insert_streamed)
_STAGE = "temp.tongcheng_bulk_stage"
_ORDER = "temp.tongcheng_bulk_order"

#: One feature to insert: (attributes, geometry) or (attributes, geometry, identity).
FeatureItem = Sequence[Any]


def insert_many(ws: Workspace, layer: str, features: Iterable[FeatureItem], *,
                progress: Callable[[int], object] | None = None, cancel: Callable[[], bool] | None = None,
                batch_size: int = 5000) -> int:
    """Validate and insert many features in one transaction (see ``Workspace.insert_many``)."""
    definition = ws.layer(layer)
    if not definition.has_geometry:
        raise WorkspaceError(f"{layer}: a layer without geometry takes its records one at a time "
                             "(Workspace.insert, or apply_rows for whole rows)")
    user, now, srid = ws.user, now_text(), ws.srid
    names = [f.name for f in definition.fields]
    columns = ", ".join(["uuid", *names, *AUDIT_COLUMNS, "geom"])
    values_sql = f"VALUES ({', '.join('?' * (len(names) + 6))})"
    sql = f"INSERT INTO {layer} ({columns}) {values_sql}"
    count = 0
    bulk: _BulkLoad | None = None  # once a big load into an empty layer is recognised
    with ws.session() as connection:
        empty_layer = connection.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {layer})").fetchone()[0]
        batch: list[tuple[dict[str, Any], Any, dict[str, Any] | None]] = []
        # New features (tracked edits: an import) get their located fields and component codes
        # here, a batch at a time; a base state being loaded (checkout, demo) keeps its values.
        standard = bool(definition.located_fields or definition.component) and ws.setting("tracking") != "0"
        numbers: list[int] = []  # with standard: each batch item's feature number, for messages

        def flush() -> None:
            if standard:
                _complete_standard(ws, definition, batch, numbers)
            geometries = validate_geometries(definition, [item[1] for item in batch],
                                             first_number=count - len(batch) + 1)
            blobs = geometry_blobs(geometries, srid)
            if bulk:
                bulk.add(geometries)
            # From here on the blobs hold the geometries: the shapely objects go before SQLite
            # copies anything (a long track's coordinates would otherwise be held twice more).
            del geometries
            rows = []
            for (values, _, identity), blob in zip(batch, blobs, strict=True):
                identity = identity or {}
                rows.append((
                    identity.get("uuid") or new_uuid(),
                    *values.values(),  # every field, in the definition's order
                    identity.get("created_by", user),
                    identity.get("created_at", now),
                    identity.get("modified_by", user),
                    identity.get("modified_at", now),
                    blob,
                ))
            batch.clear()
            del blobs
            if bulk:
                connection.executemany(f"INSERT INTO {_STAGE} ({columns}) {values_sql}", rows)
            elif any(len(row[-1]) >= BIG_BLOB_BYTES for row in rows):
                for row in rows:
                    if len(row[-1]) >= BIG_BLOB_BYTES:
                        _insert_big(connection, layer, columns, srid, row)
                    else:
                        connection.execute(sql, row)
            else:
                connection.executemany(sql, rows)
            rows.clear()

        for item in features:
            attributes, geometry = item[0], item[1]
            count += 1
            if standard:  # validated in flush, once the position has given the located fields
                batch.append((dict(attributes), geometry, item[2] if len(item) > 2 else None))
                numbers.append(count)
            else:
                try:
                    values = validate_feature(definition, attributes)
                except ValidationError as e:
                    raise ValidationError(f"feature {count}: {e}", layer=e.layer, field=e.field, value=e.value,
                                          rule=e.rule) from None
                batch.append((values, geometry, item[2] if len(item) > 2 else None))
            if len(batch) >= batch_size:
                if empty_layer and bulk is None:
                    bulk = _BulkLoad(connection, layer, columns)
                flush()
                if progress:
                    progress(count)
                if cancel and cancel():
                    raise Cancelled(f"{layer}: cancelled; nothing was written")
        if batch:
            del item, geometry  # the last feature is then held by the batch alone (flush releases it)
            flush()
        if bulk:
            bulk.finish()
        if progress:
            progress(count)
    return count


def _complete_standard(ws: Workspace, definition: LayerDefinition,
                       batch: list[tuple[dict[str, Any], Any, dict[str, Any] | None]], numbers: list[int]) -> None:
    """Set a batch's located fields from the positions, validate it, give its components their codes (in place)."""
    found = locate(ws, definition, [item[1] for item in batch]) if definition.located_fields else {}
    for i, (attributes, geometry, identity) in enumerate(batch):
        for name, values in found.items():
            attributes[name] = values[i]
        try:
            batch[i] = (validate_feature(definition, attributes), geometry, identity)
        except ValidationError as e:
            raise ValidationError(f"feature {numbers[i]}: {e}", layer=e.layer, field=e.field, value=e.value,
                                  rule=e.rule) from None
    give_codes(ws, definition, [item[0] for item in batch], [item[1] for item in batch])
    numbers.clear()


def insert_streamed(ws: Workspace, layer: str, attributes: dict[str, Any], size: int,
                    pieces: Iterable[bytes | bytearray | memoryview]) -> None:
    """Insert one feature whose geometry comes as its SpatiaLite blob, ``size`` bytes in ``pieces``.

    For a geometry too big to build whole (a long GPS track: see
    ``layers.sqlite.spatialite.multilinestring_blob_pieces``): the row is what
    ``insert_many`` of the same attributes and geometry writes (the attributes
    validated, a new uuid, the audit columns, the blob written in place as by
    ``_insert_big``, the change tracked), but the blob is never held whole. The
    geometry is not validated: the caller makes only valid ones of the layer's type
    (the blob's class and SRID are checked against the layer).
    """
    definition = ws.layer(layer)
    names = [f.name for f in definition.fields]
    columns = ", ".join(["uuid", *names, *AUDIT_COLUMNS, "geom"])
    try:
        values = validate_feature(definition, attributes)
    except ValidationError as e:
        raise ValidationError(f"feature 1: {e}", layer=e.layer, field=e.field, value=e.value, rule=e.rule) from None
    user, now = ws.user, now_text()
    with ws.session() as connection:
        # A small page cache while the blob is written: its pages go to the journal as they fill
        # instead of staying in memory until the commit (16 MB a million points).
        (cache,) = connection.execute("PRAGMA cache_size").fetchone()
        connection.execute(f"PRAGMA cache_size = -{_STREAM_CACHE_KIB}")
        try:
            _insert_in_place(connection, layer, columns, ws.srid,
                             (new_uuid(), *values.values(), user, now, user, now), size, pieces)
        finally:
            connection.execute(f"PRAGMA cache_size = {int(cache)}")


def _insert_big(connection: sqlite3.Connection, layer: str, columns: str, srid: int, row: tuple[Any, ...]) -> None:
    """Insert one row whose geometry blob (its last value) is big, without copying the blob.

    Bound as a parameter, a 16 MB blob is copied by sqlite3's binding, again into the
    row's record, and once more parsed by SpatiaLite's spatial index trigger
    (``RTreeAlign``). Here the row is inserted with a ``zeroblob`` of the blob's size and
    the blob written into it in place (incremental blob I/O), SpatiaLite's per-row insert
    triggers suspended and their work done once, as they would: the type and SRID check
    of ``ggi_`` (on the blob's header, which ``geometry_blob`` wrote), the spatial index
    entry of ``gii_`` (from the header's MBR, which is what ``RTreeAlign`` reads) and the
    ``last_insert`` stamp of ``tmi_``. Our change-tracking trigger runs as for any insert
    (it records the row's uuid and fid, never its geometry). Inside the caller's
    transaction: an error rolls back the row and the triggers' suspension together.
    """
    blob = row[-1]
    view = memoryview(blob)
    _insert_in_place(connection, layer, columns, srid, row[:-1], len(blob),
                     (view[start:start + _BLOB_CHUNK] for start in range(0, len(view), _BLOB_CHUNK)))
    view.release()


def _insert_in_place(connection: sqlite3.Connection, layer: str, columns: str, srid: int, values: tuple[Any, ...],
                     size: int, pieces: Iterable[bytes | bytearray | memoryview]) -> None:
    """Insert one row with a ``zeroblob(size)`` geometry, then write ``pieces`` into it in order (see _insert_big).

    The first piece holds at least the blob's header (start, SRID, MBR, class): the
    checks and the spatial index entry are made from it before anything is written.
    """
    pieces = iter(pieces)
    first = next(pieces)
    header = struct.unpack_from("<2si4dBi", first, 0)
    blob_srid, (minx, miny, maxx, maxy), kind = header[1], header[2:6], header[7]
    expected = connection.execute(
        "SELECT geometry_type, srid FROM geometry_columns WHERE lower(f_table_name) = lower(?) "
        "AND lower(f_geometry_column) = 'geom'", (layer,),
    ).fetchone()
    if expected is None or (kind, blob_srid) != (expected[0], expected[1]) or blob_srid != srid:
        raise WorkspaceError(f"{layer}.geom violates Geometry constraint [geom-type or SRID not allowed]")
    names = [f"ggi_{layer}_geom", f"gii_{layer}_geom", f"tmi_{layer}_geom"]
    triggers = connection.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({', '.join('?' * len(names))})",
        names,
    ).fetchall()
    for name, _ in triggers:
        connection.execute(f'DROP TRIGGER "{name}"')
    placeholders = ", ".join("?" * len(values))
    cursor = connection.execute(f"INSERT INTO {layer} ({columns}) VALUES ({placeholders}, zeroblob(?))",
                                (*values, size))
    fid = cursor.lastrowid
    assert fid is not None  # an INSERT into a rowid table sets it
    with connection.blobopen(layer, "geom", fid) as handle:
        handle.write(first)
        del first
        for piece in pieces:
            handle.write(piece)
        if handle.tell() != size:
            raise WorkspaceError(f"{layer}: a geometry of {handle.tell()} bytes written into {size}; "
                                 "nothing was written")
    for _, sql in triggers:
        connection.execute(sql)
    suspended = {name for name, _ in triggers}
    if f"gii_{layer}_geom" in suspended:
        connection.execute(f'DELETE FROM "idx_{layer}_geom" WHERE pkid = ?', (fid,))
        connection.execute(f'INSERT INTO "idx_{layer}_geom" (pkid, xmin, xmax, ymin, ymax) VALUES (?, ?, ?, ?, ?)',
                           (fid, minx, maxx, miny, maxy))
    if f"tmi_{layer}_geom" in suspended:
        connection.execute(
            f"UPDATE geometry_columns_time SET last_insert = {NOW_SQL} "
            "WHERE lower(f_table_name) = lower(?) AND lower(f_geometry_column) = 'geom'", (layer,),
        )


class _BulkLoad:
    """A big load into an empty layer, inside the caller's transaction.

    SpatiaLite's per-row triggers on insert are suspended: the spatial index
    trigger (the index is packed once at the end with ``bulk_load_rtree``),
    the geometry-type check (every blob was made by us from validated
    geometries of the layer's type and SRID) and the last-insert timestamp
    (stamped once at the end); so is our change-tracking insert trigger when
    tracking is off (a base state is being loaded: it would record nothing).
    They are restored before the transaction commits; on an error the rollback
    restores them with everything else.
    """

    def __init__(self, connection: sqlite3.Connection, layer: str, columns: str) -> None:
        self.connection = connection
        self.layer = layer
        self.columns = columns
        # Rows wait in a temporary table until all are in: then they are copied
        # into the layer in spatial order (see SPATIAL_ORDER_MIN).
        column_list = ", ".join(c.strip() for c in columns.split(","))
        connection.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        connection.execute(f"CREATE TABLE {_STAGE} ({column_list})")
        names = [f"ggi_{layer}_geom", f"tmi_{layer}_geom", f"gii_{layer}_geom"]
        tracking = connection.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = 'tracking'").fetchone()
        if tracking and tracking[0] == "0":  # loading a base state: our insert trigger would do nothing per row
            names.append(f"tongcheng_insert_{layer}")
        self.triggers: list[tuple[str, str]] = connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({', '.join('?' * len(names))})",
            names,
        ).fetchall()
        for name, _ in self.triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        # Reads through the memory map would leave every page of the growing file
        # resident; a load only appends, so plain reads serve it as fast.
        connection.execute("PRAGMA mmap_size = 0")
        # A big page cache keeps the growing table and uuid index in memory instead of
        # spilling pages to the WAL and reading them back (about a third faster).
        connection.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        self.bounds: list[np.ndarray] = []

    def add(self, geometries: Sequence[Any] | np.ndarray) -> None:
        """Record the bounds of a batch just staged."""
        self.bounds.append(shapely.bounds(geometries))

    def finish(self) -> None:
        connection = self.connection
        bounds = np.concatenate(self.bounds)
        n = len(bounds)
        if n >= SPATIAL_ORDER_MIN:
            order = np.argsort(hilbert_keys((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2),
                               kind="stable")
        else:
            order = np.arange(n, dtype=np.int64)
        # Staged rows are numbered 1..n in arrival order; copy them in rank order,
        # so the layer assigns its fids along the curve.
        connection.execute(f"DROP TABLE IF EXISTS {_ORDER}")
        connection.execute(f"CREATE TABLE {_ORDER} (rank INTEGER PRIMARY KEY, seq INTEGER NOT NULL)")
        connection.executemany(f"INSERT INTO {_ORDER} (rank, seq) VALUES (?, ?)",
                               zip(range(n), (order + 1).tolist(), strict=True))
        select = ", ".join(f"s.{c.strip()}" for c in self.columns.split(","))
        connection.execute(
            f"INSERT INTO {self.layer} ({self.columns}) SELECT {select} FROM {_ORDER} AS o "
            f"JOIN {_STAGE} AS s ON s.rowid = o.seq ORDER BY o.rank"
        )
        connection.execute(f"DROP TABLE {_ORDER}")
        connection.execute(f"DROP TABLE {_STAGE}")
        bounds = bounds[order]
        count = connection.execute(f"SELECT count(*) FROM {self.layer}").fetchone()[0]
        first, last = connection.execute(f"SELECT min(fid), max(fid) FROM {self.layer}").fetchone()
        ids = np.arange(first, first + n, dtype=np.int64)
        if count != n or last != first + n - 1:
            raise WorkspaceError(f"{self.layer}: bulk load lost track of fids; nothing was written")
        bulk_load_rtree(self.connection, f"idx_{self.layer}_geom", ids,
                        bounds[:, 0], bounds[:, 2], bounds[:, 1], bounds[:, 3])
        for _, sql in self.triggers:
            self.connection.execute(sql)
        connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        self.connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.connection.execute(
            f"UPDATE geometry_columns_time SET last_insert = {NOW_SQL} WHERE lower(f_table_name) = lower(?)",
            (self.layer,),
        )


def hilbert_keys(x: np.ndarray, y: np.ndarray, order: int = 16) -> np.ndarray:
    """Positions along a Hilbert curve over the points' bounding box (a 2**order grid), vectorised.

    Points close on the curve are close in space, so rows sorted by this key
    keep neighbours together on disk.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return np.empty(0, np.int64)
    side = (1 << order) - 1
    span_x = max(float(x.max() - x.min()), 1e-12)
    span_y = max(float(y.max() - y.min()), 1e-12)
    xi = np.clip(((x - x.min()) / span_x * side).astype(np.int64), 0, side)
    yi = np.clip(((y - y.min()) / span_y * side).astype(np.int64), 0, side)
    key = np.zeros(x.shape, dtype=np.int64)
    s = 1 << (order - 1)
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        key += s * s * ((3 * rx) ^ ry.astype(np.int64))
        # rotate the quadrant (xy2d of the classic algorithm)
        flip = ~ry
        swap_x = np.where(flip & rx, side - xi, xi)
        swap_y = np.where(flip & rx, side - yi, yi)
        xi = np.where(flip, swap_y, swap_x)
        yi = np.where(flip, swap_x, swap_y)
        s >>= 1
    return key
