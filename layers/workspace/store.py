"""The SpatiaLite workspace: one file on the laptop holding every facility layer.

Each layer is a plain table named as its definition, one column per field,
a SpatiaLite geometry column ``geom`` with a spatial index, an integer ``fid``
and an immutable ``uuid``. Edits are captured by triggers (see ``tracking``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, overload

import numpy as np
import shapely

from layers.errors import (
    FeatureNotFoundError,
    NewerWorkspaceError,
    NotAWorkspaceError,
    WorkspaceError,
)
from layers.schema.components import check_update
from layers.schema.definitions import LayerDefinition, validate_feature
from layers.schema.geometry import conform_geometry
from layers.sqlite.locks import file_fault, file_identity, in_use, is_locked, same_file
from layers.sqlite.spatialite import connect, geometry_blob
from layers.workspace import bulk
from layers.workspace.bulk import CACHE_KIB, Centres, FeatureBatch, FeatureItem
from layers.workspace.create import (
    DEFAULT_CRS,
    SCHEMA_VERSION,
    create_workspace_file,
    definitions_from_workspace,
)
from layers.workspace.identity import login_name, new_uuid, now_text
from layers.workspace.located import with_location
from layers.workspace.numbering import give_codes
from layers.workspace.spatial import points_in_extent
from layers.workspace.tracking import AUDIT_COLUMNS, CHANGES_TABLE, SETTINGS_TABLE, Change, base_table, net_changes
from layers.workspace.values import same_value

__all__ = ["SCHEMA_VERSION", "DEFAULT_CRS", "Feature", "Workspace", "new_uuid", "same_value", "login_name"]


#: (minx, miny, maxx, maxy)
BBox = tuple[float, float, float, float]


@dataclass
class Feature:
    """A feature as stored: where it is, what it says and who made it."""

    layer: str
    fid: int
    uuid: str
    attributes: dict[str, Any]
    geometry: Any
    audit: dict[str, Any] = field(default_factory=dict)


def _geometry_sql(definition: LayerDefinition) -> str:
    """The SQL of a layer's geometry as WKB (NULL for a layer without geometry: an attributes table)."""
    return "AsBinary(geom)" if definition.has_geometry else "NULL"


class Workspace:
    """An open workspace file. Use as a context manager, or call ``close()``.

    Create one with ``Workspace.create(path)``, open one with
    ``Workspace.open(path)``.
    """

    def __init__(self, path: str | os.PathLike[str], connection: sqlite3.Connection) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = connection
        self._depth = 0
        self._savepoints = 0
        # One connection, one writer: a session holds this lock from BEGIN to COMMIT, so work handed to
        # another thread (the editor's GPS import and sync) waits for the window's transaction and the
        # window's waits for it, instead of two writers on one connection or a second connection.
        self._lock = threading.RLock()
        settings = dict(connection.execute(f"SELECT key, value FROM {SETTINGS_TABLE}"))
        self.id: str = settings["workspace_id"]
        self.crs: str = settings["crs"]
        self.srid = int(settings["srid"])
        self.definitions = definitions_from_workspace(connection)

    # --- lifetime -----------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], *, crs: str | int = DEFAULT_CRS, user: str | None = None,
               definitions_folder: str | os.PathLike[str] | None = None, timezone: str = "+08:00") -> Workspace:
        """Create a new, empty workspace file.

        Parameters
        ----------
        path : path-like
            The file to create; it must not exist.
        crs : str
            The CRS of every layer, e.g. ``EPSG:4544`` (CGCS2000 / 3-degree
            Gauss-Kruger CM 105E, which covers Chengdu).
        user : str, optional
            The name written into the audit columns of edits; defaults to the
            login name.
        definitions_folder : path-like, optional
            Folder of layer definitions; defaults to the shipped ones.
        timezone : str
            The UTC offset assumed for local times without a zone (GPS import).
        """
        path = Path(path)
        create_workspace_file(path, crs=crs, user=user, definitions_folder=definitions_folder, timezone=timezone)
        return cls.open(path)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Workspace:
        """Open an existing workspace.

        Raises
        ------
        WorkspaceError
            The file does not exist or cannot be read.
        NotAWorkspaceError
            The file is not a Tongcheng workspace.
        NewerWorkspaceError
            The file was written by a newer version of Tongcheng.
        """
        path = Path(path)
        if not path.is_file():
            raise WorkspaceError(f"{path}: no such workspace file")
        # The header is checked by SQLite, never with Python's open(): closing any other descriptor
        # of this file would drop the POSIX locks this process's connections hold on it (SQLite's
        # "How To Corrupt An SQLite Database File", 2.2), and the next program to close the file
        # would delete the WAL under them.
        connection = connect(path)
        try:
            try:
                rows = dict(connection.execute(f"SELECT key, value FROM {SETTINGS_TABLE}"))
            except sqlite3.DatabaseError as e:
                if is_locked(e):
                    raise in_use(path) from None
                if "not a database" in str(e):
                    raise NotAWorkspaceError(f"{path}: not a Tongcheng workspace (not an SQLite file)") from None
                if "no such table" in str(e):
                    raise NotAWorkspaceError(
                        f"{path}: not a Tongcheng workspace (no {SETTINGS_TABLE} table)") from None
                raise NotAWorkspaceError(f"{path}: not a Tongcheng workspace ({e})") from None
            if rows.get("application") != "tongcheng":
                raise NotAWorkspaceError(f"{path}: not a Tongcheng workspace")
            version = int(rows.get("schema_version", "0"))
            if version > SCHEMA_VERSION:
                raise NewerWorkspaceError(
                    f"{path}: made by a newer Tongcheng (workspace version {version}, "
                    f"this program reads up to {SCHEMA_VERSION}); update Tongcheng to open it"
                )
            try:
                connection.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as e:
                if is_locked(e):
                    raise in_use(path) from None
                raise
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            return cls(path, connection)
        except BaseException:
            connection.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection (SpatiaLite loaded). For the core's own modules."""
        if self._connection is None:
            raise WorkspaceError(f"{self.path}: the workspace is closed")
        return self._connection

    @contextmanager
    def reader(self, mapped: bool = True) -> Iterator[sqlite3.Connection]:
        """A separate read-only connection, e.g. for a render thread (WAL lets it read while we write).

        ``mapped=False`` reads without the memory map: a connection that streams
        big views once then leaves no pages of the file resident in the process.
        """
        connection = connect(self.path, readonly=True)
        if not mapped:
            connection.execute("PRAGMA mmap_size = 0")
        try:
            yield connection
        finally:
            connection.close()

    # --- transactions ---------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[sqlite3.Connection]:
        """A transaction: the outermost session owns it, inner sessions reuse it.

        Leaving the outermost session commits; an exception rolls everything
        back. An inner session is a savepoint: an exception inside it rolls
        back its own work and propagates. A session started on another thread
        waits until the current one has ended (the workspace's one connection
        has one writer at a time).
        """
        connection = self.connection
        with self._lock:
            if self._depth == 0:
                yield from self._transaction(connection)
            else:
                yield from self._savepoint(connection)

    def _transaction(self, connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        try:
            connection.execute("BEGIN IMMEDIATE")  # waits (busy timeout) while another program writes
        except sqlite3.OperationalError as exc:
            fault = file_fault(self.path, exc, WorkspaceError)
            if fault is not None:
                raise fault from exc
            raise
        identity = file_identity(self.path)
        self._depth = 1
        try:
            try:
                yield connection
                if not same_file(self.path, identity):  # writing on would save into a deleted file
                    raise WorkspaceError(f"{self.path}: the workspace file was deleted or replaced while being "
                                         "written; nothing was written (restore it and try again)")
            except BaseException:
                if connection.in_transaction:  # SpatiaLite's own triggers may RAISE(ROLLBACK)
                    connection.execute("ROLLBACK")
                raise
            else:
                connection.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            fault = file_fault(self.path, exc, WorkspaceError)
            if fault is not None:
                raise fault from exc
            raise
        finally:
            self._depth = 0

    def _savepoint(self, connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        self._savepoints += 1
        name = f"tongcheng_{self._savepoints}"
        connection.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield connection
        except BaseException:
            if connection.in_transaction:
                connection.execute(f"ROLLBACK TO {name}")
                connection.execute(f"RELEASE {name}")
            raise
        else:
            connection.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    @contextmanager
    def untracked(self) -> Iterator[sqlite3.Connection]:
        """A session whose edits become part of the base state (not tracked).

        For loading a base: the demo data, a checkout, an update from the office.
        """
        with self.session() as connection:
            previous = self.setting("tracking")
            self._set_setting(connection, "tracking", "0")
            try:
                yield connection
            finally:
                self._set_setting(connection, "tracking", previous)

    # --- settings --------------------------------------------------------------------

    @overload
    def setting(self, key: str, default: None = None) -> str | None: ...

    @overload
    def setting(self, key: str, default: str) -> str: ...

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.connection.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: object) -> None:
        with self.session() as connection:
            self._set_setting(connection, key, value)

    @staticmethod
    def _set_setting(connection: sqlite3.Connection, key: str, value: object) -> None:
        connection.execute(
            f"INSERT INTO {SETTINGS_TABLE} VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, None if value is None else str(value)),
        )

    @property
    def user(self) -> str | None:
        """The name written into the audit columns of this workspace's edits."""
        return self.setting("user")

    @user.setter
    def user(self, name: str | None) -> None:
        self.set_setting("user", name)

    # --- layers ----------------------------------------------------------------------

    def layer(self, name: str) -> LayerDefinition:
        """The definition of a layer of this workspace."""
        try:
            return self.definitions[name]
        except KeyError:
            raise WorkspaceError(
                f"{self.path}: no layer {name!r} (layers: {', '.join(self.definitions)})"
            ) from None

    def count(self, layer: str) -> int:
        self.layer(layer)
        return self.connection.execute(f"SELECT count(*) FROM {layer}").fetchone()[0]

    def extent(self, layer: str) -> BBox | None:
        """(minx, miny, maxx, maxy) of a layer's features, or None if it has none."""
        if not self.layer(layer).has_geometry:
            return None
        row = self.connection.execute(
            f"SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_{layer}_geom"
        ).fetchone()
        return None if row[0] is None else (row[0], row[1], row[2], row[3])

    def full_extent(self) -> BBox | None:
        extents = [e for e in (self.extent(name) for name in self.definitions) if e]
        if not extents:
            return None
        a = np.array(extents)
        return (a[:, 0].min(), a[:, 1].min(), a[:, 2].max(), a[:, 3].max())

    # --- features ----------------------------------------------------------------------

    def _columns(self, layer: str) -> tuple[str, ...]:
        return self.layer(layer).field_names

    def _row_to_feature(self, layer: str, row: Sequence[Any]) -> Feature:
        names = self._columns(layer)
        fid, uuid, wkb = row[0], row[1], row[2]
        attributes = dict(zip(names, row[3 : 3 + len(names)], strict=True))
        audit = dict(zip(AUDIT_COLUMNS, row[3 + len(names) :], strict=True))
        geometry = shapely.from_wkb(wkb) if wkb is not None else None
        return Feature(layer, fid, uuid, attributes, geometry, audit)

    def _select(self, layer: str) -> str:
        names = ", ".join(self._columns(layer) + AUDIT_COLUMNS)
        return f"SELECT fid, uuid, {_geometry_sql(self.layer(layer))}, {names} FROM {layer}"

    def get(self, layer: str, fid: int) -> Feature:
        """The feature with this fid."""
        row = self.connection.execute(self._select(layer) + " WHERE fid = ?", (fid,)).fetchone()
        if row is None:
            raise FeatureNotFoundError(f"{layer}: no feature with fid {fid}")
        return self._row_to_feature(layer, row)

    def find(self, layer: str, uuid: str) -> Feature:
        """The feature with this uuid."""
        row = self.connection.execute(self._select(layer) + " WHERE uuid = ?", (uuid,)).fetchone()
        if row is None:
            raise FeatureNotFoundError(f"{layer}: no feature with uuid {uuid}")
        return self._row_to_feature(layer, row)

    def features(self, layer: str, where: str | None = None,
                 parameters: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[Feature]:
        """Every feature of a layer, optionally filtered by an SQL condition."""
        sql = self._select(layer) + (f" WHERE {where}" if where else "") + " ORDER BY fid"
        for row in self.connection.execute(sql, parameters):
            yield self._row_to_feature(layer, row)

    def insert(self, layer: str, attributes: Mapping[str, Any], geometry: Any, *, uuid: str | None = None,
               fid: int | None = None) -> Feature:
        """Validate and insert one feature; returns it as stored.

        ``uuid`` and ``fid`` are given only to restore a deleted feature (undo).
        The fields located in reference polygons (zone, unit grid cell) are
        taken from the position, and a component without a code gets the
        next one of the workspace (``layers.workspace.numbering``).
        """
        definition = self.layer(layer)
        attributes = with_location(self, definition, attributes, geometry)
        values = validate_feature(definition, attributes, geometry)
        with self.session():
            give_codes(self, definition, [values], [geometry])
            fid = self._insert_row(layer, values, geometry, uuid or new_uuid(), fid)
        return self.get(layer, fid)

    def _insert_row(self, layer: str, values: Mapping[str, Any], geometry: Any, uuid: str,
                    fid: int | None = None) -> int:
        now = now_text()
        user = self.user
        row: dict[str, Any] = {"uuid": uuid, **values, "created_by": user, "created_at": now,
                               "modified_by": user, "modified_at": now}
        if fid is not None:
            row["fid"] = fid
        if self.layer(layer).has_geometry:
            row["geom"] = geometry_blob(conform_geometry(self.layer(layer), geometry), self.srid)
        cursor = self.connection.execute(
            f"INSERT INTO {layer} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
        )
        assert cursor.lastrowid is not None  # an INSERT into a rowid table sets it
        return cursor.lastrowid

    def insert_many(self, layer: str, features: Iterable[FeatureItem], *,
                    progress: Callable[[int], object] | None = None, cancel: Callable[[], bool] | None = None,
                    batch_size: int = bulk.BULK_MIN) -> int:
        """Validate and insert many features in one transaction.

        Parameters
        ----------
        features : iterable of (attributes, geometry) or (attributes, geometry, identity)
            ``attributes`` is a dict of field values, ``geometry`` a shapely
            geometry; the optional ``identity`` dict keeps a feature's ``uuid``
            and audit columns (``created_by`` ...) when it comes from elsewhere,
            e.g. a checkout from the office master.
        progress : callable(int), optional
            Called with the number of features inserted so far after each batch.
        cancel : callable() -> bool, optional
            Polled between batches; when it returns True everything is rolled
            back and ``Cancelled`` is raised.

        Returns
        -------
        int
            The number of features inserted.

        Notes
        -----
        Loading more than one batch into an empty layer is a bulk load (see
        ``layers.workspace.bulk``): the spatial index is packed once at the end instead of
        being grown row by row, which is several times faster.
        """
        return bulk.insert_many(self, layer, features, progress=progress, cancel=cancel, batch_size=batch_size)

    def insert_batches(self, layer: str, batches: Iterable[FeatureBatch], *, centres: Centres | None = None,
                       in_order: bool = False, progress: Callable[[int], object] | None = None,
                       cancel: Callable[[], bool] | None = None) -> int:
        """Validate and insert features given a field at a time, a batch at a time, in one transaction.

        What ``insert_many`` does with the same features, without a dict per
        feature: each ``FeatureBatch`` holds one list of values per field.

        Parameters
        ----------
        centres : (x, y) arrays, optional
            The centre of every feature the batches will bring, in the order
            they come (e.g. from a first pass over a source file). A bulk load
            into an empty layer then writes each feature straight to its place
            in spatial order instead of staging every row first. The batches
            must bring exactly this many features (else nothing is written).
            Features that come in their spatial order (``bulk.spatial_order``
            of these centres) are appended to the table, the fastest load.
        in_order : bool
            The features come in their spatial order already: it is not worked
            out again (were they not, they are stored in the order they came).

        Returns
        -------
        int
            The number of features inserted.
        """
        return bulk.insert_batches(self, layer, batches, centres=centres, in_order=in_order, progress=progress,
                                   cancel=cancel)

    def update(self, layer: str, fid: int, attributes: Mapping[str, Any] | None = None,
               geometry: Any = None) -> Feature:
        """Validate and change some fields and/or the geometry of a feature.

        A new geometry sets the fields located in reference polygons (zone,
        unit grid cell) anew; a component code once given never changes.
        """
        definition = self.layer(layer)
        attributes = attributes or {}
        if geometry is not None and definition.located_fields:
            attributes = with_location(self, definition, attributes, geometry)
        values = validate_feature(definition, attributes, geometry, partial=True)
        if definition.component is not None or definition.conditional_fields:
            check_update(definition, self.get(layer, fid).attributes, values)
        derived = [f for f in definition.fields if f.derived and not f.derived_inputs.isdisjoint(attributes)]
        if derived:
            current = self.get(layer, fid).attributes
            merged = validate_feature(definition, {**definition.editable_values(current), **attributes})
            values.update({f.name: merged[f.name] for f in derived})
        assignments = [f"{name} = ?" for name in values]
        parameters = list(values.values())
        if geometry is not None:
            assignments.append("geom = ?")
            parameters.append(geometry_blob(conform_geometry(definition, geometry), self.srid))
        assignments += ["modified_by = ?", "modified_at = ?"]
        parameters += [self.user, now_text()]
        with self.session() as connection:
            cursor = connection.execute(
                f"UPDATE {layer} SET {', '.join(assignments)} WHERE fid = ?", (*parameters, fid)
            )
            if cursor.rowcount == 0:
                raise FeatureNotFoundError(f"{layer}: no feature with fid {fid}")
        return self.get(layer, fid)

    def delete(self, layer: str, fid: int) -> Feature:
        """Delete a feature; returns it as it was (so it can be restored)."""
        feature = self.get(layer, fid)
        with self.session() as connection:
            connection.execute(f"DELETE FROM {layer} WHERE fid = ?", (fid,))
        return feature

    def restore(self, feature: Feature) -> Feature:
        """Put back a deleted feature with its fid, uuid and audit (undo of delete)."""
        definition = self.layer(feature.layer)
        values = validate_feature(definition, definition.editable_values(feature.attributes), feature.geometry)
        with self.session():
            self._insert_row(feature.layer, values, feature.geometry, feature.uuid, feature.fid)
            if feature.audit.get("created_by"):
                self.connection.execute(
                    f"UPDATE {feature.layer} SET created_by = ?, created_at = ? WHERE fid = ?",
                    (feature.audit["created_by"], feature.audit["created_at"], feature.fid),
                )
        return self.get(feature.layer, feature.fid)

    # --- spatial queries ----------------------------------------------------------------

    def _extent_condition(self, layer: str) -> str:
        return (
            f"fid IN (SELECT pkid FROM idx_{layer}_geom WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)"
            " AND MbrIntersects(geom, BuildMbr(?, ?, ?, ?))"
        )

    @staticmethod
    def _extent_parameters(bbox: Sequence[float]) -> tuple[float, ...]:
        minx, miny, maxx, maxy = bbox
        return (maxx, minx, maxy, miny, minx, miny, maxx, maxy)

    def features_in_extent(self, layer: str, bbox: Sequence[float]) -> list[Feature]:
        """Features whose bounding box meets ``bbox`` (minx, miny, maxx, maxy), via the spatial index.

        For point layers this is exactly the points inside the extent, its
        edges included.
        """
        return list(self.features(layer, self._extent_condition(layer), self._extent_parameters(bbox)))

    def point_arrays_in_extent(self, layer: str, bbox: Sequence[float], fields: Sequence[str] = (),
                               connection: sqlite3.Connection | None = None) -> dict[str, np.ndarray]:
        """The points of a layer inside ``bbox`` (edges included) as numpy arrays, for drawing.

        The spatial index finds the candidates; their coordinates are read
        straight from the geometry blobs and filtered exactly in numpy, with no
        SQL function call per feature.

        Parameters
        ----------
        connection : sqlite3.Connection, optional
            Another connection to the workspace (e.g. a render thread's reader).

        Returns
        -------
        dict
            ``fid`` (int64), ``x``, ``y`` (float64) and one object array per
            requested field.
        """
        definition = self.layer(layer)
        if definition.geometry_type != "POINT":
            raise WorkspaceError(f"{layer} is a {definition.geometry_type} layer, not a point layer")
        for name in fields:
            definition.field(name)
        return points_in_extent(connection or self.connection, layer, bbox, fields)

    # --- change tracking ----------------------------------------------------------------

    def pending_changes(self) -> dict[str, dict[str, int]]:
        """Net changes since the base, per layer: {layer: {'insert': n, 'update': n, 'delete': n}}.

        Updates that returned every field to its base value are not counted.
        """
        counts = {name: {"insert": 0, "update": 0, "delete": 0} for name in self.definitions}
        for layer in self.definitions:
            for change in self.changes(layer):
                counts[layer][change.op] += 1
        return counts

    def changes(self, layer: str) -> Iterator[Change]:
        """The net changes of one layer since the base, as ``Change`` records, by fid.

        One query joins the tracking table to the current and base rows. An
        update that returned every field (and the geometry) to its base value
        is no change and is left out. Geometries are WKB in ``base["geom"]``
        and ``current["geom"]``.
        """
        return net_changes(self.connection, self.layer(layer))

    def raw_rows(self, layer: str) -> Iterator[dict[str, Any]]:
        """Every row of a layer as stored: ``fid``, ``uuid``, the fields, the audit columns,
        ``geom`` as WKB.

        For sync, which compares and rewrites whole rows.
        """
        definition = self.layer(layer)
        names = ["fid", "uuid", *definition.field_names, *AUDIT_COLUMNS]
        sql = f"SELECT {', '.join(names)}, {_geometry_sql(definition)} FROM {layer}"
        for row in self.connection.execute(sql):
            values = dict(zip(names, row[:-1], strict=True))
            values["geom"] = row[-1]
            yield values

    def apply_rows(self, layer: str, rows: Mapping[str, Mapping[str, Any] | None], *, tracked: bool) -> None:
        """Make the rows of these uuids exactly *rows* (None: delete), in one session.

        Parameters
        ----------
        layer : str
        rows : mapping of uuid to row or None
            A row holds every field, the audit columns and ``geom`` (WKB or
            None), and optionally ``fid`` (kept for a row inserted again).
            Values are written as given: sync passes rows already checked
            against the layer definition.
        tracked : bool
            False: the writes become part of the base state (an update from
            the office); True: they are tracked edits, pending for the next
            change package.
        """
        definition = self.layer(layer)
        names = ["uuid", *definition.field_names, *AUDIT_COLUMNS]
        with (self.session() if tracked else self.untracked()) as connection:
            for uuid, row in sorted(rows.items()):  # in uuid order: new fids do not depend on dict order
                exists = connection.execute(f"SELECT fid FROM {layer} WHERE uuid = ?", (uuid,)).fetchone()
                if row is None:
                    if exists:
                        connection.execute(f"DELETE FROM {layer} WHERE uuid = ?", (uuid,))
                    continue
                geom = row.get("geom")
                blob = geometry_blob(shapely.from_wkb(geom), self.srid) if geom is not None else None
                spatial = ["geom"] if definition.has_geometry else []  # an attributes table has no geom
                if exists:
                    sets = ", ".join(f"{n} = ?" for n in [*names[1:], *spatial])
                    connection.execute(f"UPDATE {layer} SET {sets} WHERE uuid = ?",
                                       [row.get(n) for n in names[1:]] + [blob] * len(spatial) + [uuid])
                    continue
                columns = [*names, *spatial]
                values = [uuid, *[row.get(n) for n in names[1:]], *[blob] * len(spatial)]
                if row.get("fid") is not None:
                    columns.append("fid")
                    values.append(row["fid"])
                placeholders = ", ".join("?" * len(columns))
                connection.execute(f"INSERT INTO {layer} ({', '.join(columns)}) VALUES ({placeholders})", values)

    def reset_base(self, layers: Iterable[str] | None = None) -> None:
        """Make the current state the base: forget the tracked changes of these layers (default all).

        For sync: after a change package is sent, and when an update from the
        office has been merged in.
        """
        with self.session() as connection:
            for layer in layers or list(self.definitions):
                self.layer(layer)
                connection.execute(f"DELETE FROM {CHANGES_TABLE} WHERE layer = ?", (layer,))
                connection.execute(f"DELETE FROM {base_table(layer)}")

    def summary(self) -> dict[str, Any]:
        """Facts about the workspace for ``tongcheng info``: file, CRS, user, layers, counts, changes."""
        pending = self.pending_changes()
        return {
            "path": str(self.path),
            "workspace_id": self.id,
            "crs": self.crs,
            "crs_name": self.setting("crs_name"),
            "user": self.user,
            "schema_version": int(self.setting("schema_version", "0")),
            "created_at": self.setting("created_at"),
            "layers": [
                {
                    "name": name,
                    "title_zh": definition.title("zh_CN"),
                    "title_en": definition.title("en"),
                    "geometry": definition.geometry_type,
                    "features": self.count(name),
                    "pending": pending[name],
                }
                for name, definition in self.definitions.items()
            ],
        }
