"""Inserting many features at once: checked a field at a time in batches, and packed fast into an empty layer."""

from __future__ import annotations

import itertools
import sqlite3
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from layers.errors import Cancelled, ValidationError, WorkspaceError
from layers.schema.columns import ABSENT, validate_columns
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.schema.geometry import validate_geometries
from layers.sqlite.rtree import bulk_load_rtree
from layers.sqlite.spatialite import MMAP_BYTES, geometry_blobs, point_blobs
from layers.workspace.identity import new_uuid, new_uuids, now_text
from layers.workspace.located import active_located_fields, locate
from layers.workspace.numbering import give_column_codes
from layers.workspace.tracking import AUDIT_COLUMNS, NOW_SQL, insert_trigger, record_inserts

if TYPE_CHECKING:
    from layers.workspace.store import Workspace

__all__ = ["CACHE_KIB", "BULK_CACHE_KIB", "BULK_MIN", "SPATIAL_ORDER_MIN", "BIG_BLOB_BYTES", "FeatureBatch",
           "hilbert_keys", "spatial_order", "insert_many", "insert_batches", "insert_streamed"]
CACHE_KIB = 65_536  # page cache per connection
BULK_CACHE_KIB = 262_144  # during a bulk load (see _BulkLoad)
RANKED_CACHE_KIB = 32_768  # during a load told its order (see _RankedLoad)
BULK_MIN = 5000
"""A load of at least this many features into an empty layer is a bulk load (see ``_BulkLoad``)."""
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
#: The (x, y) centres of the features a load will bring, in the order they come.
Centres = tuple[np.ndarray, np.ndarray]


@dataclass(eq=False)
class FeatureBatch:
    """Features to insert, given a field at a time (see ``Workspace.insert_batches``).

    Attributes
    ----------
    values : dict
        Field name -> one value per feature; ``ABSENT`` (``layers.schema.columns``)
        where a feature does not name the field, as a field left out is named by
        none: its default applies, as for a key missing from ``insert``'s attributes.
    geometries : sequence or array
        One shapely geometry per feature, in the workspace CRS. The writer lets
        go of them once their blobs are made.
    xy : array, optional
        Instead of ``geometries``, points given by their coordinates (an (n, 2)
        array): the points are never made as shapely objects for a layer of points.
    identity : dict
        ``uuid`` and audit columns (``created_by`` ...) kept from elsewhere (a
        checkout), one value per feature; ``ABSENT``, or a column left out, where
        they are made here (a uuid that is empty is made here too).
    checked : set of str
        Fields of ``values`` already checked by this layer's rules, each value
        in stored form as ``validate_value`` returned it (rows an import checked
        before writing): not checked again (see ``validate_columns``).
    """

    values: Mapping[str, Sequence[Any]]
    geometries: Any = None
    identity: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    xy: np.ndarray | None = None
    checked: frozenset[str] = frozenset()
    count: int = field(init=False)

    def __post_init__(self) -> None:
        self.count = len(self.xy) if self.xy is not None else len(self.geometries)


def insert_many(ws: Workspace, layer: str, features: Iterable[FeatureItem], *,
                progress: Callable[[int], object] | None = None, cancel: Callable[[], bool] | None = None,
                batch_size: int = BULK_MIN) -> int:
    """Validate and insert many features in one transaction (see ``Workspace.insert_many``)."""
    definition = ws.layer(layer)
    return _insert(ws, layer, _item_batches(definition, features, batch_size), progress=progress, cancel=cancel,
                   bulk_from=batch_size)


def insert_batches(ws: Workspace, layer: str, batches: Iterable[FeatureBatch], *, centres: Centres | None = None,
                   in_order: bool = False, progress: Callable[[int], object] | None = None,
                   cancel: Callable[[], bool] | None = None) -> int:
    """Validate and insert features given a batch at a time in one transaction (see ``Workspace.insert_batches``)."""
    return _insert(ws, layer, batches, centres=centres, in_order=in_order, progress=progress, cancel=cancel,
                   bulk_from=BULK_MIN)


def _insert(ws: Workspace, layer: str, batches: Iterable[FeatureBatch], *, centres: Centres | None = None,
            in_order: bool = False, progress: Callable[[int], object] | None, cancel: Callable[[], bool] | None,
            bulk_from: int) -> int:
    definition = ws.layer(layer)
    if not definition.has_geometry:
        raise WorkspaceError(f"{layer}: a layer without geometry takes its records one at a time "
                             "(Workspace.insert, or apply_rows for whole rows)")
    with ws.session() as connection:
        writer = _Writer(ws, definition, connection, centres=centres, in_order=in_order, bulk_from=bulk_from)
        for batch in batches:
            writer.write(batch)
            del batch  # the next batch is read with this one let go
            if progress:
                progress(writer.count)
            if cancel and cancel():
                raise Cancelled(f"{layer}: cancelled; nothing was written")
        writer.finish()
        if progress:
            progress(writer.count)
    return writer.count


def _item_batches(definition: LayerDefinition, features: Iterable[FeatureItem],
                  batch_size: int) -> Iterator[FeatureBatch]:
    """Features given one at a time, as batches (each feature handed on, not kept here)."""
    items: list[FeatureItem] = []
    number = 1
    for item in features:
        items.append(item)
        del item
        if len(items) >= batch_size:
            batch = _batch_of(definition, items, number)
            number += batch.count
            items.clear()
            yield batch
            del batch
    if items:
        batch = _batch_of(definition, items, number)
        items.clear()
        yield batch


def _batch_of(definition: LayerDefinition, items: list[FeatureItem], first_number: int) -> FeatureBatch:
    known = definition.known_names
    names: dict[str, None] = {}
    for i, item in enumerate(items):
        attributes = item[0]
        if not known.issuperset(attributes):
            try:
                validate_feature(definition, attributes)  # names the unknown field as it does
            except ValidationError as e:
                raise ValidationError(f"feature {first_number + i}: {e}", layer=e.layer, field=e.field,
                                      value=e.value, rule=e.rule) from None
        names.update(dict.fromkeys(attributes))
    values = {name: [item[0].get(name, ABSENT) for item in items] for name in names}
    identity: dict[str, list[Any]] = {}
    identities = [item[2] if len(item) > 2 else None for item in items]
    if any(identities):
        for name in ("uuid", *AUDIT_COLUMNS):
            identity[name] = [(i or {}).get(name, ABSENT) for i in identities]
    return FeatureBatch(values, [item[1] for item in items], identity)


class _Writer:
    """The rows of one load, a batch at a time, into one layer inside the caller's session."""

    def __init__(self, ws: Workspace, definition: LayerDefinition, connection: sqlite3.Connection, *,
                 centres: Centres | None, in_order: bool, bulk_from: int) -> None:
        self.ws = ws
        self.definition = definition
        self.layer = definition.name
        self.connection = connection
        self.user, self.now, self.srid = ws.user, now_text(), ws.srid
        self.columns = ", ".join(["uuid", *definition.field_names, *AUDIT_COLUMNS, "geom"])
        # New features (tracked edits: an import) get their located fields and component codes
        # here, a batch at a time; a base state being loaded (checkout, demo) keeps its values.
        self.standard = bool(definition.located_fields or definition.component) and ws.setting("tracking") != "0"
        # Located fields whose reference layer holds polygons (they do not change during a load).
        located = active_located_fields(ws, definition, connection) if self.standard else ()
        self.located = bool(located)
        self.located_names = frozenset(f.name for f in located)
        self.empty = bool(connection.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {self.layer})").fetchone()[0])
        self.centres = centres
        self.in_order = in_order
        self.bulk_from = bulk_from
        self.load: _BulkLoad | None = None
        self.count = 0
        self.audit_gaps = False  # whether an audit column was written empty (the tracking trigger fills it)

    def write(self, batch: FeatureBatch) -> None:
        n = batch.count
        if self.count == 0 and self.empty:
            if self.centres is not None and len(self.centres[0]) >= self.bulk_from:
                self.load = _RankedLoad(self.connection, self.layer, self.columns, self.centres, self.in_order)
            elif n >= self.bulk_from:
                self.load = _StagedLoad(self.connection, self.layer, self.columns)
        first_number = self.count + 1
        self.count += n
        definition = self.definition
        xy = batch.xy
        if xy is not None and (definition.geometry_type != "POINT" or not np.isfinite(xy).all()):
            batch.geometries, batch.xy, xy = shapely.points(xy), None, None  # checked and conformed as shapes
        values = dict(batch.values)
        positions = (batch.geometries if xy is None else shapely.points(xy)) if self.standard else None
        if self.located and positions is not None:  # (located implies standard: positions were made)
            values.update(locate(self.ws, definition, positions))
        clean = validate_columns(definition, values, n, first_number=first_number,
                                 checked=batch.checked.difference(self.located_names))
        del values
        if self.standard:  # each code in the district its feature lies in
            give_column_codes(self.ws, definition, clean, positions)
        del positions
        blobs: Sequence[bytes | bytearray]
        if xy is not None:  # finite points of a point layer: nothing to check
            blobs = point_blobs(xy[:, 0], xy[:, 1], self.srid)
            if self.load:
                self.load.bounds.append(np.column_stack([xy, xy]))
        else:
            geometries = validate_geometries(definition, batch.geometries, first_number=first_number)
            # From here on the blobs hold the geometries: the shapely objects go before SQLite
            # copies anything (a long track's coordinates would otherwise be held twice more).
            batch.geometries = None
            blobs = geometry_blobs(geometries, self.srid)
            if self.load:
                self.load.add(geometries)
            del geometries
        columns: list[tuple[str, Sequence[Any]]] = [("uuid", self._uuids(batch, n)), *clean.items()]
        del clean
        for name, made in (("created_by", self.user), ("created_at", self.now), ("modified_by", self.user),
                           ("modified_at", self.now)):
            given = batch.identity.get(name)
            column = [made] * n if given is None else [made if v is ABSENT else v for v in given]
            self.audit_gaps = self.audit_gaps or (None in column if given is not None else made is None)
            columns.append((name, column))
        columns.append(("geom", blobs))
        del blobs
        if self.load:
            self.load.write(columns, n)
        elif any(len(blob) >= BIG_BLOB_BYTES for blob in columns[-1][1]):
            values_sql = f"VALUES ({', '.join('?' * len(columns))})"
            for row in zip(*(column for _, column in columns), strict=True):
                if len(row[-1]) >= BIG_BLOB_BYTES:
                    _insert_big(self.connection, self.layer, self.columns, self.srid, row)
                else:
                    self.connection.execute(f"INSERT INTO {self.layer} ({self.columns}) {values_sql}", row)
        else:
            insert_columns(self.connection, self.layer, columns, n)

    @staticmethod
    def _uuids(batch: FeatureBatch, n: int) -> list[str]:
        given = batch.identity.get("uuid")
        if given is None:
            return new_uuids(n)
        uuids = list(given)
        missing = [i for i, u in enumerate(uuids) if u is ABSENT or not u]
        for i, made in zip(missing, new_uuids(len(missing)), strict=True):
            uuids[i] = made
        return uuids

    def finish(self) -> None:
        if self.load:
            self.load.finish(self.audit_gaps)


def insert_columns(connection: sqlite3.Connection, table: str, columns: Sequence[tuple[str, Sequence[Any]]],
                   count: int) -> None:
    """Insert ``count`` rows given by column: (column name, one value per row).

    A column whose value is the same in every row (a field's default, the audit
    columns of one load) is written into the statement once instead of bound
    for every row: binding is most of the cost of a wide insert. Only NULL,
    64-bit integers and text are written so; the value stored is the same.
    """
    names, slots, bound = [], [], []
    for name, column in columns:
        names.append(name)
        literal = _same_literal(column, count)
        if literal is None:
            slots.append("?")
            bound.append(column)
        else:
            slots.append(literal)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(slots)})"
    connection.executemany(sql, zip(*bound, strict=True) if bound else itertools.repeat((), count))


def _same_literal(column: Sequence[Any], count: int) -> str | None:
    """The SQL literal of the value every row of a column holds; None if they differ or it is not written so."""
    if count == 0:
        return None
    first = column[0]
    if column[count - 1] != first or column[count // 2] != first:  # most columns that differ, at a glance
        return None
    if first is None:
        return "NULL" if column.count(None) == count else None
    kind = first.__class__
    if kind is str:
        if "\x00" in first:
            return None
    elif kind is not int or not -(2 ** 63) <= first < 2 ** 63:
        return None
    if column.count(first) != count or kind is int and len(set(map(type, column))) != 1:
        return None  # (text equals text only; an int can equal a float or a bool)
    return "'" + first.replace("'", "''") + "'" if kind is str else str(first)


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
    (stamped once at the end); so is our change-tracking insert trigger,
    whose work is done once at the end for every row (``record_inserts``:
    nothing while a base state is loaded). They are restored before the
    transaction commits; on an error the rollback restores them with
    everything else.

    The rows are stored in spatial order (see ``SPATIAL_ORDER_MIN``): neighbours
    get neighbouring fids. ``_StagedLoad`` learns the order once every row is
    in; ``_RankedLoad`` knows it before the first row comes.
    """

    #: The page cache (KiB) while loading.
    cache_kib = BULK_CACHE_KIB

    def __init__(self, connection: sqlite3.Connection, layer: str, columns: str) -> None:
        self.connection = connection
        self.layer = layer
        self.columns = columns
        names = [f"ggi_{layer}_geom", f"tmi_{layer}_geom", f"gii_{layer}_geom", insert_trigger(layer)]
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
        connection.execute(f"PRAGMA cache_size = -{self.cache_kib}")
        self.bounds: list[np.ndarray] = []

    def add(self, geometries: Sequence[Any] | np.ndarray) -> None:
        """Record the bounds of a batch about to be written."""
        self.bounds.append(shapely.bounds(geometries))

    def write(self, columns: Sequence[tuple[str, Sequence[Any]]], count: int) -> None:
        raise NotImplementedError

    def finish(self, audit_gaps: bool) -> None:
        """End the load (``audit_gaps``: whether an audit column was written empty)."""
        raise NotImplementedError

    def _index(self, first: int, ids: np.ndarray, bounds: np.ndarray, audit_gaps: bool) -> None:
        """Check the fids of the ``len(ids)`` rows written from ``first`` on, pack the spatial index
        (``ids[i]`` has ``bounds[i]``), restore the triggers and do their work once."""
        connection = self.connection
        n = len(ids)
        count, low, high = connection.execute(f"SELECT count(*), min(fid), max(fid) FROM {self.layer}").fetchone()
        if count != n or (n and (low, high) != (first, first + n - 1)):
            raise WorkspaceError(f"{self.layer}: bulk load lost track of fids; nothing was written")
        bulk_load_rtree(connection, f"idx_{self.layer}_geom", ids,
                        bounds[:, 0], bounds[:, 2], bounds[:, 1], bounds[:, 3])
        for _, sql in self.triggers:
            connection.execute(sql)
        if n:
            record_inserts(connection, self.layer, first, first + n - 1, audit_gaps=audit_gaps)
        connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        connection.execute(
            f"UPDATE geometry_columns_time SET last_insert = {NOW_SQL} WHERE lower(f_table_name) = lower(?)",
            (self.layer,),
        )


def spatial_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The order a bulk load of features with these centres stores them in: along a Hilbert curve
    (input order for fewer than SPATIAL_ORDER_MIN). A load whose features come in this order
    appends each row to the table (see ``Workspace.insert_batches``)."""
    if len(x) < SPATIAL_ORDER_MIN:
        return np.arange(len(x), dtype=np.int64)
    return np.argsort(hilbert_keys(x, y), kind="stable")


def _spatial_order(bounds: np.ndarray) -> np.ndarray:
    """The order of boxes by their centres (``spatial_order``)."""
    return spatial_order((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)


class _StagedLoad(_BulkLoad):
    """A bulk load whose order is known at the end: rows wait in a temporary table until all
    are in, then are copied into the layer in spatial order."""

    def __init__(self, connection: sqlite3.Connection, layer: str, columns: str) -> None:
        super().__init__(connection, layer, columns)
        column_list = ", ".join(c.strip() for c in columns.split(","))
        connection.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        connection.execute(f"CREATE TABLE {_STAGE} ({column_list})")

    def write(self, columns: Sequence[tuple[str, Sequence[Any]]], count: int) -> None:
        insert_columns(self.connection, _STAGE, columns, count)

    def finish(self, audit_gaps: bool) -> None:
        connection = self.connection
        bounds = np.concatenate(self.bounds) if self.bounds else np.empty((0, 4))
        n = len(bounds)
        order = _spatial_order(bounds)
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
        first = connection.execute(f"SELECT min(fid) FROM {self.layer}").fetchone()[0] or 1
        self._index(first, np.arange(first, first + n, dtype=np.int64), bounds[order], audit_gaps)


class _RankedLoad(_BulkLoad):
    """A bulk load told the centres of all its features beforehand (a first pass over the source):
    each row is written straight to its place, its fid the next free one plus its rank along
    the curve, with no staging and no copy. Features that come in that order are appended, and
    pages once full are not touched again: a small page cache serves as well as a big one."""

    cache_kib = RANKED_CACHE_KIB

    def __init__(self, connection: sqlite3.Connection, layer: str, columns: str, centres: Centres,
                 in_order: bool) -> None:
        super().__init__(connection, layer, columns)
        x, y = (np.asarray(c, dtype=np.float64) for c in centres)
        n = len(x)
        order = np.arange(n, dtype=np.int64) if in_order else spatial_order(x, y)
        self.rank = np.empty(n, dtype=np.int64)
        self.rank[order] = np.arange(n, dtype=np.int64)
        (seq,) = connection.execute("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)",
                                    (layer,)).fetchone()
        self.first = int(seq) + 1  # AUTOINCREMENT never gives a fid twice: nor does this load
        self.written = 0

    def write(self, columns: Sequence[tuple[str, Sequence[Any]]], count: int) -> None:
        start, self.written = self.written, self.written + count
        if self.written > len(self.rank):
            raise WorkspaceError(f"{self.layer}: more features than the {len(self.rank)} announced; "
                                 "nothing was written")
        fids = (self.first + self.rank[start:self.written]).tolist()
        insert_columns(self.connection, self.layer, [("fid", fids), *columns], count)

    def finish(self, audit_gaps: bool) -> None:
        if self.written != len(self.rank):
            raise WorkspaceError(f"{self.layer}: {self.written} features where {len(self.rank)} were announced; "
                                 "nothing was written")
        bounds = np.concatenate(self.bounds) if self.bounds else np.empty((0, 4))
        self._index(self.first, self.first + self.rank, bounds, audit_gaps)


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
