"""Making a workspace file: the settings, the layer tables with their geometry columns and
spatial indexes, the change tracking; and reading the layer definitions stored in one."""

from __future__ import annotations

import os
import sqlite3
import tomllib
import uuid as uuid_module
import warnings
from pathlib import Path
from types import TracebackType

import pyproj

from layers import __version__
from layers.crs.epsg import epsg_crs
from layers.errors import WorkspaceError
from layers.schema.definitions import (
    DEFINITIONS_FOLDER,
    LayerDefinition,
    load_definitions,
    parse_codelists,
    parse_definition,
)
from layers.sqlite.spatialite import connect
from layers.workspace.identity import login_name, now_text
from layers.workspace.tracking import SETTINGS_TABLE, changes_table_ddl, tracking_ddl

__all__ = ["SCHEMA_VERSION", "DEFAULT_CRS", "LAYERS_TABLE", "create_workspace_file", "definitions_from_workspace",
           "add_layer_table"]

#: Version of the workspace file layout. Raise it when the layout changes and
#: teach ``Workspace.open`` to upgrade older files.
SCHEMA_VERSION = 1
DEFAULT_CRS = "EPSG:4544"
LAYERS_TABLE = "tongcheng_layers"

_UUID4_SQL = (
    "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))"
)


def create_workspace_file(path: Path, *, crs: str | int, user: str | None,
                          definitions_folder: str | os.PathLike[str] | None, timezone: str) -> None:
    """Write a new, empty workspace file at *path* (see ``Workspace.create``).

    The file is built beside it under a ``.partial`` name and moved into place
    only when complete, so a failure leaves nothing behind.
    """
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
                "created_at": now_text(),
                "tracking": "1",
            }
            connection.executemany(f"INSERT INTO {SETTINGS_TABLE} VALUES (?, ?)", settings.items())
            connection.execute(
                f"CREATE TABLE {LAYERS_TABLE} (name TEXT PRIMARY KEY, position INTEGER, definition TEXT NOT NULL)"
            )
            codelists_file = folder / "_codelists.toml"
            codelists = codelists_file.read_text("utf-8") if codelists_file.exists() else ""
            connection.execute(
                f"INSERT INTO {SETTINGS_TABLE} VALUES ('codelists', ?)", (codelists,)
            )
            for statement in changes_table_ddl():
                connection.execute(statement)
            for position, definition in enumerate(definitions.values()):
                if definition.source is None:  # load_definitions reads every definition from a file
                    raise WorkspaceError(f"layer {definition.name!r}: its definition file is unknown")
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


def definitions_from_workspace(connection: sqlite3.Connection) -> dict[str, LayerDefinition]:
    """The layer definitions stored in the workspace, in layer-panel order."""
    row = connection.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = 'codelists'").fetchone()
    codelists = parse_codelists(tomllib.loads(row[0]), "workspace code lists") if row and row[0] else {}
    definitions = {}
    for name, text in connection.execute(f"SELECT name, definition FROM {LAYERS_TABLE} ORDER BY position"):
        definitions[name] = parse_definition(tomllib.loads(text), codelists, f"workspace layer {name}", name)
    return definitions


def add_layer_table(connection: sqlite3.Connection, definition: LayerDefinition, text: str) -> None:
    """A layer new to an existing workspace (the office added it): its table, spatial index and tracking, its
    definition *text* listed last (inside the caller's transaction)."""
    row = connection.execute(f"SELECT value FROM {SETTINGS_TABLE} WHERE key = 'srid'").fetchone()
    if row is None:
        raise WorkspaceError("the workspace has no srid setting")
    _create_layer(connection, definition, int(row[0]))
    connection.execute(f"INSERT INTO {LAYERS_TABLE} (name, position, definition) "
                       f"SELECT ?, coalesce(max(position), -1) + 1, ? FROM {LAYERS_TABLE}", (definition.name, text))


class _closing:
    """Close an sqlite3 connection on exit (sqlite3's own context manager only commits)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.connection.close()


def _ensure_srid(connection: sqlite3.Connection, srid: int) -> None:
    if connection.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = ?", (srid,)).fetchone():
        return
    parsed = pyproj.CRS.from_epsg(srid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PROJ strings lose detail; the WKT beside it keeps it
        proj4 = parsed.to_proj4()
    connection.execute(
        "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, ref_sys_name, proj4text, srtext) "
        "VALUES (?, 'epsg', ?, ?, ?, ?)",
        (srid, srid, parsed.name, proj4, parsed.to_wkt("WKT1_GDAL")),
    )


def _create_layer(connection: sqlite3.Connection, definition: LayerDefinition, srid: int) -> None:
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
    if definition.has_geometry:  # a layer without geometry (an attributes table) has no geom column
        result = connection.execute(
            "SELECT AddGeometryColumn(?, 'geom', ?, ?, 'XY', 1)", (name, srid, definition.geometry_type)
        ).fetchone()[0]
        if result != 1:
            raise WorkspaceError(f"SpatiaLite refused the geometry column of {name!r}")
        connection.execute("SELECT CreateSpatialIndex(?, 'geom')", (name,))
    columns = [(row[1], row[2]) for row in connection.execute(f"PRAGMA table_info({name})")]
    for statement in tracking_ddl(name, columns):
        connection.execute(statement)
