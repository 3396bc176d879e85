"""The SpatiaLite workspace: one file on the laptop holding every facility layer.

Each layer is a plain table named as its definition, one column per field,
a SpatiaLite geometry column ``geom`` with a spatial index, an integer ``fid``
and an immutable ``uuid``. Edits are captured by triggers (see ``tracking``).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sqlite3
import time
import tomllib
import uuid as uuid_module
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from layers import __version__
from layers.crs.epsg import epsg_crs
from layers.errors import (
    Cancelled,
    FeatureNotFoundError,
    NewerWorkspaceError,
    NotAWorkspaceError,
    ValidationError,
    WorkspaceError,
)
from layers.schema.definitions import (
    DEFINITIONS_FOLDER,
    conform_geometry,
    load_definitions,
    parse_codelists,
    parse_definition,
    validate_feature,
    validate_geometries,
)
from layers.sqlite.rtree import bulk_load_rtree
from layers.sqlite.spatialite import MMAP_BYTES, connect, geometry_blob, geometry_blobs, point_blob_coordinates
from layers.workspace.tracking import (
    CHANGES_TABLE,
    NOW_SQL,
    SETTINGS_TABLE,
    Change,
    base_table,
    changes_table_ddl,
    tracking_ddl,
)
from layers.workspace.values import same_value

__all__ = ["SCHEMA_VERSION", "DEFAULT_CRS", "Feature", "Workspace", "new_uuid", "same_value", "login_name"]

#: Version of the workspace file layout. Raise it when the layout changes and
#: teach ``Workspace.open`` to upgrade older files.
SCHEMA_VERSION = 1
DEFAULT_CRS = "EPSG:4544"
LAYERS_TABLE = "tongcheng_layers"
AUDIT_COLUMNS = ("created_by", "created_at", "modified_by", "modified_at")
CACHE_KIB = 65_536  # page cache per connection
BULK_CACHE_KIB = 262_144  # during a bulk load (see _BulkLoad)

_UUID4_SQL = (
    "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))"
)


class _Uuid7:
    """Time-ordered UUIDs (RFC 9562 version 7): unique like uuid4, but new ones sort after
    old ones, so a bulk load appends to the uuid index instead of splitting pages at random.
    Within one millisecond a random 74-bit counter keeps them unique and increasing."""

    def __init__(self):
        self._millis = -1
        self._counter = 0

    def __call__(self):
        millis = time.time_ns() // 1_000_000
        if millis > self._millis:
            self._millis = millis
            self._counter = secrets.randbits(73)  # headroom below 2**74 for the increments
        else:
            self._counter += 1
        counter = self._counter
        value = (self._millis << 80) | (0x7 << 76) | ((counter >> 62) << 64) | (0b10 << 62) | (counter & (2**62 - 1))
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


new_uuid = _Uuid7()


def _now():
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Feature:
    """A feature as stored: where it is, what it says and who made it."""

    layer: str
    fid: int
    uuid: str
    attributes: dict
    geometry: object
    audit: dict = field(default_factory=dict)


class Workspace:
    """An open workspace file. Use as a context manager, or call ``close()``.

    Create one with ``Workspace.create(path)``, open one with
    ``Workspace.open(path)``.
    """

    def __init__(self, path, connection):
        self.path = Path(path)
        self._connection = connection
        self._depth = 0
        self._savepoints = 0
        settings = dict(connection.execute(f"SELECT key, value FROM {SETTINGS_TABLE}"))
        self.id = settings["workspace_id"]
        self.crs = settings["crs"]
        self.srid = int(settings["srid"])
        self.definitions = _definitions_from_workspace(connection)

    # --- lifetime -----------------------------------------------------------------

    @classmethod
    def create(cls, path, *, crs=DEFAULT_CRS, user=None, definitions_folder=None, timezone="+08:00"):
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
        if path.exists():
            raise WorkspaceError(f"{path}: already exists")
        srid, parsed_crs = epsg_crs(crs, WorkspaceError)
        crs_name = parsed_crs.name
        definitions = load_definitions(definitions_folder)
        folder = Path(definitions_folder) if definitions_folder else DEFINITIONS_FOLDER
        partial = path.with_name(path.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            with _closing(connect(partial)) as connection:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("BEGIN")
                connection.execute("SELECT InitSpatialMetadata(0, 'NONE')")
                _ensure_srid(connection, 4326)
                _ensure_srid(connection, srid)
                connection.execute(f"CREATE TABLE {SETTINGS_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
                settings = {
                    "schema_version": str(SCHEMA_VERSION),
                    "application": "tongcheng",
                    "app_version": __version__,
                    "workspace_id": str(uuid_module.uuid4()),
                    "crs": f"EPSG:{srid}",
                    "crs_name": crs_name,
                    "srid": str(srid),
                    "user": user or login_name(),
                    "timezone": timezone,
                    "created_at": _now(),
                    "tracking": "1",
                }
                connection.executemany(f"INSERT INTO {SETTINGS_TABLE} VALUES (?, ?)", settings.items())
                connection.execute(
                    f"CREATE TABLE {LAYERS_TABLE} (name TEXT PRIMARY KEY, position INTEGER, definition TEXT NOT NULL)"
                )
                codelists = (folder / "_codelists.toml").read_text("utf-8") if (folder / "_codelists.toml").exists() else ""
                connection.execute(
                    f"INSERT INTO {SETTINGS_TABLE} VALUES ('codelists', ?)", (codelists,)
                )
                for statement in changes_table_ddl():
                    connection.execute(statement)
                for position, definition in enumerate(definitions.values()):
                    _create_layer(connection, definition, srid)
                    connection.execute(
                        f"INSERT INTO {LAYERS_TABLE} VALUES (?, ?, ?)",
                        (definition.name, position, definition.source.read_text("utf-8")),
                    )
                connection.execute("COMMIT")
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            os.replace(partial, path)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(partial) + suffix).unlink(missing_ok=True)
        return cls.open(path)

    @classmethod
    def open(cls, path):
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
                if "not a database" in str(e):
                    raise NotAWorkspaceError(f"{path}: not a Tongcheng workspace (not an SQLite file)") from None
                if "no such table" in str(e):
                    raise NotAWorkspaceError(f"{path}: not a Tongcheng workspace (no {SETTINGS_TABLE} table)") from None
                raise NotAWorkspaceError(f"{path}: not a Tongcheng workspace ({e})") from None
            if rows.get("application") != "tongcheng":
                raise NotAWorkspaceError(f"{path}: not a Tongcheng workspace")
            version = int(rows.get("schema_version", "0"))
            if version > SCHEMA_VERSION:
                raise NewerWorkspaceError(
                    f"{path}: made by a newer Tongcheng (workspace version {version}, "
                    f"this program reads up to {SCHEMA_VERSION}); update Tongcheng to open it"
                )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            return cls(path, connection)
        except BaseException:
            connection.close()
            raise

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def connection(self):
        """The SQLite connection (SpatiaLite loaded). For the core's own modules."""
        if self._connection is None:
            raise WorkspaceError(f"{self.path}: the workspace is closed")
        return self._connection

    @contextmanager
    def reader(self):
        """A separate read-only connection, e.g. for a render thread (WAL lets it read while we write)."""
        connection = connect(self.path, readonly=True)
        try:
            yield connection
        finally:
            connection.close()

    # --- transactions ---------------------------------------------------------------

    @contextmanager
    def session(self):
        """A transaction: the outermost session owns it, inner sessions reuse it.

        Leaving the outermost session commits; an exception rolls everything
        back. An inner session is a savepoint: an exception inside it rolls
        back its own work and propagates.
        """
        connection = self.connection
        if self._depth == 0:
            connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield connection
            except BaseException:
                if connection.in_transaction:  # SpatiaLite's own triggers may RAISE(ROLLBACK)
                    connection.execute("ROLLBACK")
                raise
            else:
                connection.execute("COMMIT")
            finally:
                self._depth = 0
            return
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
    def untracked(self):
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

    def setting(self, key, default=None):
        row = self.connection.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key, value):
        with self.session() as connection:
            self._set_setting(connection, key, value)

    @staticmethod
    def _set_setting(connection, key, value):
        connection.execute(
            f"INSERT INTO {SETTINGS_TABLE} VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, None if value is None else str(value)),
        )

    @property
    def user(self):
        """The name written into the audit columns of this workspace's edits."""
        return self.setting("user")

    @user.setter
    def user(self, name):
        self.set_setting("user", name)

    # --- layers ----------------------------------------------------------------------

    def layer(self, name):
        """The definition of a layer of this workspace."""
        try:
            return self.definitions[name]
        except KeyError:
            raise WorkspaceError(
                f"{self.path}: no layer {name!r} (layers: {', '.join(self.definitions)})"
            ) from None

    def count(self, layer):
        self.layer(layer)
        return self.connection.execute(f"SELECT count(*) FROM {layer}").fetchone()[0]

    def extent(self, layer):
        """(minx, miny, maxx, maxy) of a layer's features, or None if it has none."""
        self.layer(layer)
        row = self.connection.execute(
            f"SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_{layer}_geom"
        ).fetchone()
        return None if row[0] is None else tuple(row)

    def full_extent(self):
        extents = [e for e in (self.extent(name) for name in self.definitions) if e]
        if not extents:
            return None
        a = np.array(extents)
        return (a[:, 0].min(), a[:, 1].min(), a[:, 2].max(), a[:, 3].max())

    # --- features ----------------------------------------------------------------------

    def _columns(self, layer):
        return self.layer(layer).field_names

    def _row_to_feature(self, layer, row):
        names = self._columns(layer)
        fid, uuid, wkb = row[0], row[1], row[2]
        attributes = dict(zip(names, row[3 : 3 + len(names)], strict=True))
        audit = dict(zip(AUDIT_COLUMNS, row[3 + len(names) :], strict=True))
        geometry = shapely.from_wkb(wkb) if wkb is not None else None
        return Feature(layer, fid, uuid, attributes, geometry, audit)

    def _select(self, layer):
        names = ", ".join(self._columns(layer) + AUDIT_COLUMNS)
        return f"SELECT fid, uuid, AsBinary(geom), {names} FROM {layer}"

    def get(self, layer, fid):
        """The feature with this fid."""
        row = self.connection.execute(self._select(layer) + " WHERE fid = ?", (fid,)).fetchone()
        if row is None:
            raise FeatureNotFoundError(f"{layer}: no feature with fid {fid}")
        return self._row_to_feature(layer, row)

    def find(self, layer, uuid):
        """The feature with this uuid."""
        row = self.connection.execute(self._select(layer) + " WHERE uuid = ?", (uuid,)).fetchone()
        if row is None:
            raise FeatureNotFoundError(f"{layer}: no feature with uuid {uuid}")
        return self._row_to_feature(layer, row)

    def features(self, layer, where=None, parameters=()):
        """Every feature of a layer, optionally filtered by an SQL condition."""
        sql = self._select(layer) + (f" WHERE {where}" if where else "") + " ORDER BY fid"
        for row in self.connection.execute(sql, parameters):
            yield self._row_to_feature(layer, row)

    def insert(self, layer, attributes, geometry, *, uuid=None, fid=None):
        """Validate and insert one feature; returns it as stored.

        ``uuid`` and ``fid`` are given only to restore a deleted feature (undo).
        """
        definition = self.layer(layer)
        values = validate_feature(definition, attributes, geometry)
        with self.session():
            fid = self._insert_row(layer, values, geometry, uuid or new_uuid(), fid)
        return self.get(layer, fid)

    def _insert_row(self, layer, values, geometry, uuid, fid=None):
        now = _now()
        user = self.user
        row = {"uuid": uuid, **values, "created_by": user, "created_at": now, "modified_by": user, "modified_at": now}
        if fid is not None:
            row["fid"] = fid
        row["geom"] = geometry_blob(conform_geometry(self.layer(layer), geometry), self.srid)
        cursor = self.connection.execute(
            f"INSERT INTO {layer} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
        )
        return cursor.lastrowid

    def insert_many(self, layer, features, *, progress=None, cancel=None, batch_size=5000):
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
        ``_BulkLoad``): the spatial index is packed once at the end instead of
        being grown row by row, which is several times faster.
        """
        definition = self.layer(layer)
        user, now, srid = self.user, _now(), self.srid
        names = [f.name for f in definition.fields]
        columns = ", ".join(["uuid", *names, *AUDIT_COLUMNS, "geom"])
        sql = f"INSERT INTO {layer} ({columns}) VALUES ({', '.join('?' * (len(names) + 6))})"
        count = 0
        bulk = None  # a _BulkLoad once a big load into an empty layer is recognised
        with self.session() as connection:
            empty_layer = connection.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {layer})").fetchone()[0]
            batch = []

            def flush():
                geometries = validate_geometries(definition, [item[1] for item in batch], first_number=count - len(batch) + 1)
                blobs = geometry_blobs(geometries, srid)
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
                connection.executemany(sql, rows)
                if bulk:
                    bulk.add(geometries)
                batch.clear()

            for item in features:
                attributes, geometry = item[0], item[1]
                count += 1
                try:
                    values = validate_feature(definition, attributes)
                except ValidationError as e:
                    raise ValidationError(f"feature {count}: {e}", layer=e.layer, field=e.field, value=e.value, rule=e.rule) from None
                batch.append((values, geometry, item[2] if len(item) > 2 else None))
                if len(batch) >= batch_size:
                    if empty_layer and bulk is None:
                        bulk = _BulkLoad(connection, layer)
                    flush()
                    if progress:
                        progress(count)
                    if cancel and cancel():
                        raise Cancelled(f"{layer}: cancelled; nothing was written")
            if batch:
                flush()
            if bulk:
                bulk.finish()
            if progress:
                progress(count)
        return count

    def update(self, layer, fid, attributes=None, geometry=None):
        """Validate and change some fields and/or the geometry of a feature."""
        definition = self.layer(layer)
        attributes = attributes or {}
        values = validate_feature(definition, attributes, geometry, partial=True)
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
        parameters += [self.user, _now()]
        with self.session() as connection:
            cursor = connection.execute(
                f"UPDATE {layer} SET {', '.join(assignments)} WHERE fid = ?", (*parameters, fid)
            )
            if cursor.rowcount == 0:
                raise FeatureNotFoundError(f"{layer}: no feature with fid {fid}")
        return self.get(layer, fid)

    def delete(self, layer, fid):
        """Delete a feature; returns it as it was (so it can be restored)."""
        feature = self.get(layer, fid)
        with self.session() as connection:
            connection.execute(f"DELETE FROM {layer} WHERE fid = ?", (fid,))
        return feature

    def restore(self, feature):
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

    def _extent_condition(self, layer):
        return (
            f"fid IN (SELECT pkid FROM idx_{layer}_geom WHERE xmin <= ? AND xmax >= ? AND ymin <= ? AND ymax >= ?)"
            " AND MbrIntersects(geom, BuildMbr(?, ?, ?, ?))"
        )

    @staticmethod
    def _extent_parameters(bbox):
        minx, miny, maxx, maxy = bbox
        return (maxx, minx, maxy, miny, minx, miny, maxx, maxy)

    def features_in_extent(self, layer, bbox):
        """Features whose bounding box meets ``bbox`` (minx, miny, maxx, maxy), via the spatial index.

        For point layers this is exactly the points inside the extent, its
        edges included.
        """
        return list(self.features(layer, self._extent_condition(layer), self._extent_parameters(bbox)))

    def point_arrays_in_extent(self, layer, bbox, fields=(), connection=None):
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
        minx, miny, maxx, maxy = bbox
        extra = "".join(f", t.{name}" for name in fields)
        sql = (
            f"SELECT t.fid, t.geom{extra} FROM idx_{layer}_geom AS r JOIN {layer} AS t ON t.fid = r.pkid "
            "WHERE r.xmin <= ? AND r.xmax >= ? AND r.ymin <= ? AND r.ymax >= ?"
        )
        rows = (connection or self.connection).execute(sql, (maxx, minx, maxy, miny)).fetchall()
        x, y = point_blob_coordinates([row[1] for row in rows])
        inside = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
        fids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        result = {"fid": fids[inside], "x": x[inside], "y": y[inside]}
        for index, name in enumerate(fields, start=2):
            values = np.empty(len(rows), dtype=object)
            values[:] = [row[index] for row in rows]
            result[name] = values[inside]
        return result

    # --- change tracking ----------------------------------------------------------------

    def pending_changes(self):
        """Net changes since the base, per layer: {layer: {'insert': n, 'update': n, 'delete': n}}.

        Updates that returned every field to its base value are not counted.
        """
        counts = {name: {"insert": 0, "update": 0, "delete": 0} for name in self.definitions}
        for layer in self.definitions:
            for change in self.changes(layer):
                counts[layer][change.op] += 1
        return counts

    def changes(self, layer):
        """The net changes of one layer since the base, as ``Change`` records, by fid.

        One query joins the tracking table to the current and base rows. An
        update that returned every field (and the geometry) to its base value
        is no change and is left out. Geometries are WKB in ``base["geom"]``
        and ``current["geom"]``.
        """
        definition = self.layer(layer)
        names = ["fid", "uuid", *definition.field_names, *AUDIT_COLUMNS]
        keys = [*names, "geom"]
        width = len(keys)
        sql = (
            f"SELECT c.uuid, c.fid, c.op, c.changed_at, "
            f"{', '.join('t.' + n for n in names)}, AsBinary(t.geom), "
            f"{', '.join('b.' + n for n in names)}, AsBinary(b.geom) "
            f"FROM {CHANGES_TABLE} AS c LEFT JOIN {layer} AS t ON t.uuid = c.uuid "
            f"LEFT JOIN {base_table(layer)} AS b ON b.uuid = c.uuid WHERE c.layer = ? ORDER BY c.fid"
        )
        compared = (*definition.field_names, "geom")
        for row in self.connection.execute(sql, (layer,)):
            uuid, fid, op, changed_at = row[:4]
            current = dict(zip(keys, row[4 : 4 + width], strict=True)) if op != "delete" else None
            base = dict(zip(keys, row[4 + width :], strict=True)) if op != "insert" else None
            if op == "insert":
                changed = compared
            elif op == "delete":
                changed = ()
            else:
                changed = tuple(name for name in compared if not same_value(base[name], current[name]))
                if not changed:
                    continue
            yield Change(layer, uuid, fid, op, changed, base, current, changed_at)

    def raw_rows(self, layer: str) -> Iterator[dict[str, Any]]:
        """Every row of a layer as stored: ``fid``, ``uuid``, the fields, the audit columns, ``geom`` as WKB.

        For sync, which compares and rewrites whole rows.
        """
        definition = self.layer(layer)
        names = ["fid", "uuid", *definition.field_names, *AUDIT_COLUMNS]
        sql = f"SELECT {', '.join(names)}, AsBinary(geom) FROM {layer}"
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
            for uuid, row in rows.items():
                exists = connection.execute(f"SELECT fid FROM {layer} WHERE uuid = ?", (uuid,)).fetchone()
                if row is None:
                    if exists:
                        connection.execute(f"DELETE FROM {layer} WHERE uuid = ?", (uuid,))
                    continue
                geom = row.get("geom")
                blob = geometry_blob(shapely.from_wkb(geom), self.srid) if geom is not None else None
                if exists:
                    sets = ", ".join(f"{n} = ?" for n in names[1:])
                    connection.execute(f"UPDATE {layer} SET {sets}, geom = ? WHERE uuid = ?",
                                       [row.get(n) for n in names[1:]] + [blob, uuid])
                    continue
                columns = [*names, "geom"]
                values = [uuid, *[row.get(n) for n in names[1:]], blob]
                if row.get("fid") is not None:
                    columns.append("fid")
                    values.append(row["fid"])
                connection.execute(f"INSERT INTO {layer} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                   values)

    def reset_base(self, layers=None):
        """Make the current state the base: forget the tracked changes of these layers (default all).

        For sync: after a change package is sent, and when an update from the
        office has been merged in.
        """
        with self.session() as connection:
            for layer in layers or list(self.definitions):
                self.layer(layer)
                connection.execute(f"DELETE FROM {CHANGES_TABLE} WHERE layer = ?", (layer,))
                connection.execute(f"DELETE FROM {base_table(layer)}")

    def summary(self):
        """Facts about the workspace for ``tongcheng info``: file, CRS, user, layers, counts, changes."""
        pending = self.pending_changes()
        return {
            "path": str(self.path),
            "workspace_id": self.id,
            "crs": self.crs,
            "crs_name": self.setting("crs_name"),
            "user": self.user,
            "schema_version": int(self.setting("schema_version")),
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


# --- helpers -----------------------------------------------------------------------------


class _BulkLoad:
    """A big load into an empty layer, inside the caller's transaction.

    SpatiaLite's per-row triggers on insert are suspended: the spatial index
    trigger (the index is packed once at the end with ``bulk_load_rtree``),
    the geometry-type check (every blob was made by us from validated
    geometries of the layer's type and SRID) and the last-insert timestamp
    (stamped once at the end); so is our change-tracking insert trigger when
    tracking is off (a base state is being loaded: it would record nothing). They are restored before the transaction
    commits; on an error the rollback restores them with everything else.
    """

    def __init__(self, connection, layer):
        self.connection = connection
        self.layer = layer
        names = [f"ggi_{layer}_geom", f"tmi_{layer}_geom", f"gii_{layer}_geom"]
        tracking = connection.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = 'tracking'").fetchone()
        if tracking and tracking[0] == "0":  # loading a base state: our insert trigger would do nothing per row
            names.append(f"tongcheng_insert_{layer}")
        self.triggers = connection.execute(
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
        self.bounds = []
        self.last_fids = []

    def add(self, geometries):
        """Record the bounds of a batch just inserted (its fids are the last ones given)."""
        self.bounds.append(shapely.bounds(geometries))
        last = self.connection.execute(f"SELECT max(fid) FROM {self.layer}").fetchone()[0]
        self.last_fids.append((last, len(geometries)))

    def finish(self):
        ids = np.concatenate([np.arange(last - n + 1, last + 1, dtype=np.int64) for last, n in self.last_fids])
        bounds = np.concatenate(self.bounds)
        count = self.connection.execute(f"SELECT count(*) FROM {self.layer}").fetchone()[0]
        if count != len(ids) or ids[0] != self.connection.execute(f"SELECT min(fid) FROM {self.layer}").fetchone()[0]:
            raise WorkspaceError(f"{self.layer}: bulk load lost track of fids; nothing was written")
        bulk_load_rtree(self.connection, f"idx_{self.layer}_geom", ids, bounds[:, 0], bounds[:, 2], bounds[:, 1], bounds[:, 3])
        for _, sql in self.triggers:
            self.connection.execute(sql)
        self.connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        self.connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.connection.execute(
            f"UPDATE geometry_columns_time SET last_insert = {NOW_SQL} WHERE lower(f_table_name) = lower(?)", (self.layer,)
        )


class _closing:
    """Close an sqlite3 connection on exit (sqlite3's own context manager only commits)."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        return self.connection

    def __exit__(self, *exc):
        self.connection.close()


def login_name():
    """The user's login name: the default name in audit columns."""
    try:
        return os.getlogin()
    except OSError:
        import getpass

        return getpass.getuser()


def _ensure_srid(connection, srid):
    if connection.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = ?", (srid,)).fetchone():
        return
    parsed = pyproj.CRS.from_epsg(srid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PROJ strings lose detail; the WKT beside it keeps it
        proj4 = parsed.to_proj4()
    connection.execute(
        "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, ref_sys_name, proj4text, srtext) VALUES (?, 'epsg', ?, ?, ?, ?)",
        (srid, srid, parsed.name, proj4, parsed.to_wkt("WKT1_GDAL")),
    )


def _create_layer(connection, definition, srid):
    name = definition.name
    field_columns = ",\n    ".join(f"{f.name} {f.sql_type}" for f in definition.fields)
    connection.execute(
        f"""CREATE TABLE {name} (
    fid INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE DEFAULT {_UUID4_SQL},
    {field_columns},
    created_by TEXT,
    created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    modified_by TEXT,
    modified_at TEXT
)"""
    )
    result = connection.execute(
        "SELECT AddGeometryColumn(?, 'geom', ?, ?, 'XY', 1)", (name, srid, definition.geometry_type)
    ).fetchone()[0]
    if result != 1:
        raise WorkspaceError(f"SpatiaLite refused the geometry column of {name!r}")
    connection.execute("SELECT CreateSpatialIndex(?, 'geom')", (name,))
    columns = [(row[1], row[2]) for row in connection.execute(f"PRAGMA table_info({name})")]
    for statement in tracking_ddl(name, columns):
        connection.execute(statement)


def _definitions_from_workspace(connection):
    """The layer definitions stored in the workspace, in layer-panel order."""
    row = connection.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = 'codelists'").fetchone()
    codelists = parse_codelists(tomllib.loads(row[0]), "workspace code lists") if row and row[0] else {}
    definitions = {}
    for name, text in connection.execute(f"SELECT name, definition FROM {LAYERS_TABLE} ORDER BY position"):
        definitions[name] = parse_definition(tomllib.loads(text), codelists, f"workspace layer {name}", name)
    return definitions
