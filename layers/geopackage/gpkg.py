"""The GeoPackage file: open (checked), atomic write, read schemas and rows, create layers, write rows.

One class, :class:`GeoPackage`, opened with :func:`open_geopackage` as a
context manager; the package docstring (``layers.geopackage``) lists the
choices worth knowing (no mod_spatialite, GeoPackage 1.3, atomic writes, bulk
loading).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from layers.errors import GeoPackageError
from layers.geopackage import layer_styles as _layer_styles
from layers.geopackage import metadata as _metadata
from layers.geopackage.codec import Envelopes, decode_gpb_many, register_functions
from layers.geopackage.files import (
    check_sqlite_file,
    has_hot_journal,
    journal_path,
    remove_stale_temporaries,
    temporary_path,
)
from layers.geopackage.schema import Column, LayerSchema
from layers.geopackage.spatial_index import create_spatial_index, refresh_contents, scan_envelopes
from layers.geopackage.sql import CHUNK, CORE_DDL, NOW, REQUIRED_SRS, SqlErrors, quote
from layers.geopackage.values import Row, convert_rows, row_lists
from layers.log import logger
from layers.sqlite.locks import busy_timeout, file_fault, file_identity, is_locked, same_file

__all__ = ["APPLICATION_ID", "USER_VERSION", "GeoPackage", "open_geopackage"]

log = logger(__name__)

#: ``PRAGMA application_id`` of a GeoPackage: the ASCII bytes "GPKG".
APPLICATION_ID = 0x47504B47
#: ``PRAGMA user_version`` written into new files: GeoPackage 1.3.0 (GDAL 3.6,
#: as in Debian's QGIS 3.22, warns that 1.4 "may only be partially supported").
USER_VERSION = 10300

_APPLICATION_IDS_READ = {
    APPLICATION_ID: "GPKG",
    0x47503130: "GP10",
    0x47503131: "GP11",
}


def open_geopackage(path: str | os.PathLike[str], mode: str = "r") -> GeoPackage:
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

    Notes
    -----
    ``_writable``, ``_sql`` and ``_touched`` are shared with the package's
    ``layer_styles`` and ``metadata`` modules, which implement
    :meth:`add_style`, :meth:`styles`, :meth:`add_metadata` and :meth:`metadata`.
    """

    connection: sqlite3.Connection

    def __init__(self, path: str | os.PathLike[str], mode: str = "r") -> None:
        if mode not in ("r", "w", "a"):
            raise ValueError(f"mode must be 'r', 'w' or 'a', not {mode!r}")
        self.path = Path(path)
        self.mode = mode
        self._tmp: Path | None = None
        self._new_layers: set[str] = set()
        self._touched: set[str] = set()
        self._closed = False
        self._identity: tuple[int, int] | None = None
        try:
            if mode == "w":
                self._open_new()
            else:
                self._open_existing()
        except sqlite3.Error as exc:
            self._discard()
            log.info("refused %s: %s", self.path, exc)
            fault = file_fault(self.path, exc, GeoPackageError)
            if fault is not None:
                raise fault from exc
            raise GeoPackageError(f"{self.path}: cannot be opened ({exc})") from exc
        except GeoPackageError as exc:
            self._discard()
            log.info("refused %s", exc)
            raise
        except BaseException:
            self._discard()
            raise
        log.debug("opened %s (mode %r)", self.path, mode)

    # -- lifetime -----------------------------------------------------------

    def _open_new(self) -> None:
        folder = self.path.parent
        if not folder.is_dir():
            raise GeoPackageError(f"{self.path}: folder {folder} does not exist (or is not a folder)")
        remove_stale_temporaries(self.path)  # what a killed earlier write left
        # SQLite creates the file itself, so it gets the usual permissions.
        self._tmp = temporary_path(self.path)
        self.connection = sqlite3.connect(self._tmp, isolation_level=None, timeout=busy_timeout())
        con = self.connection
        register_functions(con)
        con.execute("PRAGMA journal_mode = MEMORY")
        con.execute("PRAGMA synchronous = OFF")
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {USER_VERSION}")
        con.execute("BEGIN")
        for ddl in CORE_DDL:
            con.execute(ddl)
        con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", REQUIRED_SRS)
        self.add_srs(4326)

    def _open_existing(self) -> None:
        check_sqlite_file(self.path)
        hot_journal = has_hot_journal(self.path)
        if self.mode == "r":
            uri = self.path.absolute().as_uri() + "?mode=ro"
            self.connection = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_timeout())
        else:
            if not os.access(self.path, os.W_OK):
                raise GeoPackageError(f"{self.path}: file is read-only")
            self.connection = sqlite3.connect(self.path, isolation_level=None, timeout=busy_timeout())
        con = self.connection
        register_functions(con)
        try:
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            has_contents = con.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'gpkg_contents'").fetchone()
        except sqlite3.DatabaseError as exc:
            if is_locked(exc):
                raise
            raise GeoPackageError(f"{self.path}: corrupt or not a GeoPackage ({exc})") from exc
        if hot_journal and not has_hot_journal(self.path):
            log.warning("%s: an interrupted write was rolled back (hot journal %s recovered)",
                        self.path, journal_path(self.path).name)
        if app_id not in _APPLICATION_IDS_READ:
            raise GeoPackageError(
                f"{self.path}: not a GeoPackage (application_id is {app_id:#x}, "
                f"expected 'GPKG' {APPLICATION_ID:#x})")
        if not has_contents:
            raise GeoPackageError(f"{self.path}: not a GeoPackage (no gpkg_contents table)")
        if self.mode == "a":
            self._identity = file_identity(self.path)
            con.execute("PRAGMA trusted_schema = ON")  # our ST_* functions are pure
            # A write from the start: a read upgraded to a write later fails at once when another
            # program holds the file, where BEGIN IMMEDIATE waits for it (the busy timeout).
            con.execute("BEGIN IMMEDIATE")

    def __enter__(self) -> GeoPackage:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

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
                self._check_still_there()
                self.connection.execute("COMMIT")
                self.connection.close()
            self._closed = True
            if self._tmp is not None:
                with open(self._tmp, "rb+") as f:
                    os.fsync(f.fileno())
                os.replace(self._tmp, self.path)
                self._tmp = None
            log.debug("wrote %s", self.path)
        except BaseException:
            self.abort()
            raise

    def _check_still_there(self) -> None:
        """Raise GeoPackageError if the file being written was deleted or replaced meanwhile."""
        if self.mode == "a" and not same_file(self.path, self._identity):
            raise GeoPackageError(f"{self.path}: deleted or replaced while being written; nothing was written "
                                  "(restore the file and try again)")
        if self._tmp is not None and file_identity(self._tmp) is None:
            raise GeoPackageError(f"{self.path}: its temporary file {self._tmp.name} was deleted while being "
                                  "written (or its folder was); nothing was written")

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
            if self.mode != "r":
                log.info("%s: nothing written (rolled back)", self.path)
        self._discard()

    def _discard(self) -> None:
        if getattr(self, "connection", None) is not None and not self._closed:
            self._closed = True
            self.connection.close()
        if self._tmp is not None:
            for p in (self._tmp, journal_path(self._tmp)):
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass
            self._tmp = None

    def _sql(self, what: str) -> SqlErrors:
        """A context manager turning sqlite3 errors into GeoPackageError naming the file and *what*."""
        return SqlErrors(self.path, what)

    def _writable(self) -> None:
        """Raise GeoPackageError if the file is read-only or closed."""
        if self.mode == "r":
            raise GeoPackageError(f"{self.path}: opened read-only")
        if self._closed:
            raise GeoPackageError(f"{self.path}: already closed")

    @property
    def version(self) -> int:
        """``PRAGMA user_version`` of the file (10300 for files made here)."""
        version: int = self.connection.execute("PRAGMA user_version").fetchone()[0]
        return version

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
            info = con.execute(f"PRAGMA table_info({quote(layer)})").fetchall()
        if not info:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no table")
        fid_column = next((r[1] for r in info if r[5] == 1), None)
        if fid_column is None:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no INTEGER PRIMARY KEY")
        unique = self._unique_columns(layer)
        geom_name: str | None = geom_row[0] if geom_row else None
        columns = tuple(
            Column(r[1], r[2], bool(r[3]), r[1] in unique)
            for r in info
            if r[1] != fid_column and (geom_name is None or r[1].lower() != geom_name.lower())
        )
        common = dict(identifier=identifier, description=description or "")
        if geom_row:
            return LayerSchema(layer, columns, fid_column=fid_column, geometry_column=geom_row[0],
                               geometry_type=geom_row[1], srs_id=geom_row[2], z=geom_row[3], m=geom_row[4],
                               **common)
        return LayerSchema(layer, columns, fid_column=fid_column, srs_id=srs_id if srs_id is not None else 0,
                           **common)

    def _unique_columns(self, layer: str) -> set[str]:
        names = set()
        for idx in self.connection.execute(f"PRAGMA index_list({quote(layer)})").fetchall():
            if idx[2]:  # unique
                cols = self.connection.execute(f"PRAGMA index_info({quote(idx[1])})").fetchall()
                if len(cols) == 1:
                    names.add(cols[0][2])
        return names

    def count(self, layer: str) -> int:
        """Number of rows in *layer*."""
        self.schema(layer)
        with self._sql(f"counting {layer!r}"):
            count: int = self.connection.execute(f"SELECT count(*) FROM {quote(layer)}").fetchone()[0]
        return count

    def keys(self, layer: str, column: str | None = None) -> list[Any]:
        """Values of one column (default: the fid column) of every row, in fid order."""
        schema = self.schema(layer)
        column = column or schema.fid_column
        if column not in {schema.fid_column, *schema.column_names}:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no column {column!r}")
        with self._sql(f"reading layer {layer!r}"):
            return [r[0] for r in self.connection.execute(
                f"SELECT {quote(column)} FROM {quote(layer)} ORDER BY {quote(schema.fid_column)}")]

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
        sql = (f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(layer)} "
               f"ORDER BY {quote(schema.fid_column)}")
        with self._sql(f"reading layer {layer!r}"):
            cursor = self.connection.execute(sql)
            while True:
                chunk = cursor.fetchmany(CHUNK)
                if not chunk:
                    break
                geoms = None
                if schema.is_spatial:
                    try:
                        geoms = decode_gpb_many([r[1] for r in chunk])
                    except GeoPackageError as exc:
                        raise GeoPackageError(f"{self.path}: layer {layer!r}: {exc}") from exc
                for j, r in enumerate(chunk):
                    row = dict(zip(names, r, strict=True))
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
        parts = [f"{quote(schema.fid_column)} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"]
        if schema.is_spatial:
            parts.append(f"{quote(schema.geometry_column)} {schema.geometry_type}")
        for c in schema.columns:
            parts.append(f"{quote(c.name)} {c.type.upper()}"
                         + (" NOT NULL" if c.not_null else "")
                         + (" UNIQUE" if c.unique else ""))
        with self._sql(f"creating layer {schema.name!r}"):
            con.execute(f"CREATE TABLE {quote(schema.name)} ({', '.join(parts)})")
            if schema.is_spatial:
                if schema.srs_id not in (0, -1):
                    self.add_srs(schema.srs_id)
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                    f"description, last_change, srs_id) VALUES (?, 'features', ?, ?, {NOW}, ?)",
                    (schema.name, schema.identifier or schema.name, schema.description,
                     schema.srs_id))
                con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, ?, ?)",
                            (schema.name, schema.geometry_column, schema.geometry_type,
                             schema.srs_id, schema.z, schema.m))
            else:
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, "
                    f"description, last_change) VALUES (?, 'attributes', ?, ?, {NOW})",
                    (schema.name, schema.identifier or schema.name, schema.description))
        self._new_layers.add(schema.name)
        self._touched.add(schema.name)

    # -- writing rows -------------------------------------------------------

    def write_rows(self, layer: str, rows: Iterable[Row]) -> int:
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
        sql = (f"INSERT INTO {quote(layer)} ({', '.join(quote(n) for n in names)}) "
               f"VALUES ({', '.join('?' * len(names))})")
        count = 0
        chunk: list[Row] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                count += self._insert_chunk(schema, names, sql, chunk, count)
                chunk = []
        if chunk:
            count += self._insert_chunk(schema, names, sql, chunk, count)
        self._touched.add(layer)
        return count

    def _insert_chunk(self, schema: LayerSchema, names: list[str], sql: str, chunk: list[Row],
                      start: int) -> int:
        where = f"{self.path}: layer {schema.name!r}"
        values = row_lists(where, names, chunk, start)
        convert_rows(where, schema, names, values, start)
        with self._sql(f"writing layer {schema.name!r}"):
            self.connection.executemany(sql, values)
        return len(values)

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
        groups: dict[tuple[str, ...], list[tuple[Any, Mapping[str, Any]]]] = {}
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
            convert_rows(f"{self.path}: layer {schema.name!r}", schema, names, full, 0)
            index = [names.index(c) for c in cols]
            params = [[v[i] for i in index] + [k] for v, (k, _) in zip(full, items, strict=True)]
            sql = (f"UPDATE {quote(layer)} SET {', '.join(f'{quote(c)} = ?' for c in cols)} "
                   f"WHERE {quote(key)} = ?")
            with self._sql(f"updating layer {layer!r}"):
                cursor = self.connection.executemany(sql, params)
            done += cursor.rowcount
        self._touched.add(layer)
        return done

    def delete_rows(self, layer: str, key: str, keys: Iterable[Any]) -> int:
        """Delete the rows whose *key* column is in *keys*; return how many went."""
        self._writable()
        schema = self.schema(layer)
        if key not in {schema.fid_column, *schema.column_names}:
            raise GeoPackageError(f"{self.path}: layer {layer!r} has no column {key!r}")
        with self._sql(f"deleting from layer {layer!r}"):
            cursor = self.connection.executemany(
                f"DELETE FROM {quote(layer)} WHERE {quote(key)} = ?", [(k,) for k in keys])
        self._touched.add(layer)
        return cursor.rowcount

    # -- spatial indexes and gpkg_contents -------------------------------------

    def _finish_layers(self) -> None:
        """Build new spatial indexes, refresh extents and last_change."""
        for layer in sorted(self._touched):
            if not self.has_layer(layer):
                continue
            schema = self.schema(layer)
            if schema.is_spatial and layer in self._new_layers:
                self.pack_spatial_index(layer, [scan_envelopes(self.connection, schema)])
            else:
                refresh_contents(self.connection, schema)
        self._new_layers.clear()
        self._touched.clear()

    def pack_spatial_index(self, layer: str, parts: Sequence[Envelopes]) -> None:
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
        create_spatial_index(self.connection, self.schema(layer), self.version, parts)
        self._new_layers.discard(layer)
        self._touched.discard(layer)

    # -- QGIS styles and metadata (see layer_styles.py and metadata.py) ----------

    def add_style(self, layer: str, name: str, qml: str, *, sld: str = "",
                  default: bool = True, description: str = "", owner: str = "",
                  ui: str | None = None) -> int:
        """Store a QGIS style for *layer* in ``layer_styles``; see :func:`layer_styles.add_style`."""
        return _layer_styles.add_style(self, layer, name, qml, sld=sld, default=default,
                                       description=description, owner=owner, ui=ui)

    def styles(self, layer: str | None = None) -> list[dict[str, Any]]:
        """Rows of ``layer_styles`` (all, or those of *layer*), default first."""
        return _layer_styles.styles(self, layer)

    def add_metadata(self, metadata: str, *, layer: str | None = None,
                     md_scope: str = "dataset",
                     standard_uri: str = "http://www.isotc211.org/2005/gmd",
                     mime_type: str = "text/xml") -> int:
        """Add a ``gpkg_metadata`` document for the file or *layer*; see :func:`metadata.add_metadata`."""
        return _metadata.add_metadata(self, metadata, layer=layer, md_scope=md_scope,
                                      standard_uri=standard_uri, mime_type=mime_type)

    def metadata(self) -> list[dict[str, Any]]:
        """All metadata documents with their reference (scope, table, timestamp)."""
        return _metadata.metadata(self)
