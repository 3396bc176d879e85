"""Offline sync with the office: master GeoPackage, checkout, change packages, apply, update.

The office keeps the **master**: a GeoPackage with one feature table per
facility layer (``fid``, ``geom``, ``uuid``, the definition's fields, the audit
columns) and three attribute tables of its own:

``tongcheng_master``
    key/value: ``master_id`` (a uuid made once), ``version`` (raised by every
    apply that is not a repeat), CRS, the layer definitions' code lists.
``tongcheng_layers``
    the layer definitions (TOML text), so a checkout makes a workspace with
    exactly the master's fields, and a package can be checked against them.
``tongcheng_ledger``
    one row per change package applied: its uuid, workspace, editor, base
    version, the version it made, counts.  A package already in the ledger
    is not applied again.
``tongcheng_deleted``
    who deleted which feature and when (through an apply), so a later
    conflict with a field edit can name the office's editor and time.

A **checkout** is a SpatiaLite workspace (``layers.workspace.store``) loaded from the
master as its base state (untracked), with the master id, base version, area
and layers in its settings.  The workspace's triggers track every edit since.

A **change package** is a GeoPackage that opens in any GIS: per layer a
feature table of the features inserted, updated or deleted since the base,
with ``op``, ``changed_fields``, ``edited_by``/``edited_at``, the current
values (for a deletion: the values and geometry it had), and ``base``: a JSON
object of the changed fields' base values (geometries as lossless WKT).  Its
``tongcheng_package`` table holds the package uuid, workspace id, master id,
base version and the packages sent before it.  Writing one resets the
workspace's base: the changes are on their way.

**Apply** (office side) and **update** (field side) are the same per-field
three-way merge (``layers.sync.merge.three_way``): base = the workspace's base,
office = the master, field = the workspace.  Conflicts are resolved by a
policy -- ``office`` or ``field`` wins, ``newest`` (the side whose edit of the
feature is later wins; an unknown time loses), ``manual`` (the office value
stays and the conflict is left ``unresolved``) -- and every conflict is
reported by layer, uuid and field name with the base, office and field
values, both editors and both times.

Exit codes of the commands built on this module: :data:`EXIT_CLEAN` (0) no
conflict, :data:`EXIT_CONFLICTS` (2) applied but with conflicts (see the
report; with ``manual`` they are unresolved), 1 an error (nothing written).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import sqlite3
import struct
import tempfile
import tomllib
import uuid as uuid_module
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers import __version__
from layers.errors import GeoPackageError, SyncError, ValidationError
from layers.geopackage import Column, LayerSchema, encode_gpb, open_geopackage, temporary_path
from layers.sync.merge import geometry_wkt, three_way
from layers.schema.definitions import (
    DEFINITIONS_FOLDER,
    load_definitions,
    parse_codelists,
    parse_definition,
    validate_feature,
    validate_geometries,
    validate_geometry,
)
from layers.sqlite.spatialite import geometry_blob
from layers.crs.epsg import epsg_crs
from layers.workspace.store import login_name, same_value

__all__ = [
    "POLICIES",
    "EXIT_CLEAN",
    "EXIT_CONFLICTS",
    "EXIT_ERROR",
    "AUDIT_COLUMNS",
    "MASTER_TABLE",
    "LAYERS_TABLE",
    "LEDGER_TABLE",
    "DELETED_TABLE",
    "PACKAGE_TABLE",
    "INTERNAL_TABLES",
    "MasterInfo",
    "LayerCounts",
    "SyncResult",
    "PackageResult",
    "create_master",
    "read_master",
    "master_schema",
    "checkout",
    "write_changes",
    "sent_folder",
    "read_package",
    "apply_package",
    "update_workspace",
    "recover",
]

#: Conflict policies of apply and update.
POLICIES = ("office", "field", "newest", "manual")
EXIT_CLEAN = 0
EXIT_ERROR = 1
EXIT_CONFLICTS = 2

AUDIT_COLUMNS = ("created_by", "created_at", "modified_by", "modified_at")
MASTER_TABLE = "tongcheng_master"
LAYERS_TABLE = "tongcheng_layers"
LEDGER_TABLE = "tongcheng_ledger"
DELETED_TABLE = "tongcheng_deleted"
PACKAGE_TABLE = "tongcheng_package"
#: Tables of masters and packages that are Tongcheng's bookkeeping, not data.
INTERNAL_TABLES = (MASTER_TABLE, LAYERS_TABLE, LEDGER_TABLE, DELETED_TABLE, PACKAGE_TABLE, "layer_styles")
MASTER_FORMAT = "1"
PACKAGE_FORMAT = "1"
PACKAGE_KIND = "tongcheng-change-package"
_PACKAGE_EXTRA = ("op", "changed_fields", "edited_by", "edited_at")
_CHUNK = 10_000
_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
_SETTING = {
    "master_id": "sync_master_id", "version": "sync_base_version", "bbox": "sync_bbox",
    "layers": "sync_layers", "path": "sync_master_path", "sent": "sync_sent_packages",
    "at": "sync_checked_out_at",
}


def _now():
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _q(name):
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------
# Geometry helpers
# --------------------------------------------------------------------------

def _gpb_wkb(blob):
    """The WKB inside a GeoPackage binary geometry (header skipped), or None."""
    if blob is None:
        return None
    if len(blob) < 8 or blob[0] != 0x47 or blob[1] != 0x50:
        raise GeoPackageError("value is not GeoPackage binary geometry")
    env = (blob[3] >> 1) & 7
    return bytes(blob[8 + 8 * _ENVELOPE_DOUBLES.get(env, 0):])


def _geometries(wkbs):
    """Shapely geometries of a list of WKB (None kept), vectorised."""
    if not wkbs:
        return []
    arr = np.empty(len(wkbs), dtype=object)
    arr[:] = wkbs
    try:
        return list(shapely.from_wkb(arr))
    except shapely.errors.GEOSException as exc:
        raise GeoPackageError(f"invalid geometry: {exc}") from None


def _canonical(wkbs):
    """The same geometries as ISO little-endian WKB written by shapely (None kept).

    Merges compare geometries as these bytes: equal geometries, whichever
    tool wrote them, give equal bytes, and bytes compare fast.
    """
    if not wkbs:
        return []
    arr = np.empty(len(wkbs), dtype=object)
    arr[:] = [g if g is None or isinstance(g, BaseGeometry) else bytes(g) for g in wkbs]
    try:
        if any(isinstance(g, (bytes, bytearray)) for g in arr):
            arr = shapely.from_wkb(arr)
    except shapely.errors.GEOSException as exc:
        raise GeoPackageError(f"invalid geometry: {exc}") from None
    return list(shapely.to_wkb(arr, flavor="iso", byte_order=1))


def _report_value(name, value):
    """A value for the JSON report: geometries (WKB in merges) as lossless WKT."""
    if name == "geom" and isinstance(value, (bytes, bytearray)):
        return geometry_wkt(shapely.from_wkb(bytes(value)))
    return _json_value(value)


def _json_value(value):
    if isinstance(value, BaseGeometry):
        return geometry_wkt(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return value


def _bounds(geoms):
    """(minx, miny, maxx, maxy) of non-empty geometries, or None."""
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return None
    b = shapely.bounds(np.array(geoms, dtype=object))
    return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


# --------------------------------------------------------------------------
# The master
# --------------------------------------------------------------------------

@dataclass
class MasterInfo:
    """What a master GeoPackage says about itself.

    Attributes
    ----------
    path : Path
    master_id : str
    version : int
    srid : int
    definitions : dict
        Every layer definition (facility and survey) by name.
    layers : list of str
        The facility layers the master holds (feature tables).
    codelists : str
        The ``_codelists.toml`` text the definitions use.
    texts : dict
        The TOML text of each definition.
    """

    path: Path
    master_id: str
    version: int
    srid: int
    definitions: dict
    layers: list
    codelists: str
    texts: dict

    @property
    def crs(self):
        return f"EPSG:{self.srid}"


def master_schema(definition, srid):
    """The GeoPackage schema of one master layer (uuid, fields, audit columns)."""
    columns = [Column("uuid", "TEXT", not_null=True, unique=True)]
    columns += [Column(f.name, f.sql_type) for f in definition.fields]
    columns += [Column(c, "DATETIME" if c.endswith("_at") else "TEXT") for c in AUDIT_COLUMNS]
    return LayerSchema(definition.name, tuple(columns), geometry_type=definition.geometry_type,
                       srs_id=srid, identifier=definition.title("zh_CN"),
                       description=definition.title("en"))


def _key_value_schema(name, description):
    return LayerSchema(name, (Column("key", "TEXT", not_null=True, unique=True), Column("value", "TEXT")),
                       description=description)


def create_master(path, crs="EPSG:4544", user=None, demo=False, *, seed=2026, counts=None,
                  definitions_folder=None, progress=None):
    """Create the office's master GeoPackage (empty, or filled with the demo district).

    Parameters
    ----------
    path : path-like
        The ``.gpkg`` file to create; it must not exist.
    crs : str
        CRS of every layer (``EPSG:n``).
    user : str, optional
        Name written into the audit columns of demo features.
    demo : bool
        Fill the facility layers with the demo district (``layers.demo``).
    seed, counts : passed to ``layers.demo.demo_features``.
    definitions_folder : path-like, optional
        Layer definitions (default: the shipped ones).
    progress : callable(done, total), optional

    Returns
    -------
    MasterInfo
    """
    from layers.workspace.store import new_uuid

    path = Path(path)
    if path.exists():
        raise SyncError(f"{path}: already exists")
    srid, _ = epsg_crs(crs, SyncError)
    folder = Path(definitions_folder) if definitions_folder else None
    definitions = load_definitions(folder)
    codelists_path = (folder or DEFINITIONS_FOLDER) / "_codelists.toml"
    codelists = codelists_path.read_text("utf-8") if codelists_path.exists() else ""
    user = user or login_name()
    facility = [d for d in definitions.values() if not d.survey]
    features = {}
    if demo:
        from layers.demo import demo_features

        features = demo_features(f"EPSG:{srid}", seed, counts)
    total = sum(len(v) for v in features.values())
    done = 0
    now = _now()
    master_id = str(uuid_module.uuid4())
    with open_geopackage(path, "w") as gp:
        gp.add_srs(srid)
        for definition in facility:
            gp.create_layer(master_schema(definition, srid))
        gp.create_layer(_key_value_schema(MASTER_TABLE, "Tongcheng master: id and version"))
        gp.create_layer(LayerSchema(LAYERS_TABLE, (
            Column("name", "TEXT", not_null=True, unique=True), Column("position", "INTEGER"),
            Column("facility", "BOOLEAN"), Column("definition", "TEXT", not_null=True)),
            description="Tongcheng layer definitions"))
        gp.create_layer(LayerSchema(LEDGER_TABLE, (
            Column("package_uuid", "TEXT", not_null=True, unique=True), Column("workspace_id", "TEXT"),
            Column("editor", "TEXT"), Column("base_version", "INTEGER"), Column("version", "INTEGER"),
            Column("applied_at", "DATETIME"), Column("applied_by", "TEXT"), Column("policy", "TEXT"),
            Column("inserts", "INTEGER"), Column("updates", "INTEGER"), Column("deletes", "INTEGER"),
            Column("conflicts", "INTEGER"), Column("file", "TEXT")),
            description="Tongcheng change packages applied"))
        gp.create_layer(LayerSchema(DELETED_TABLE, (
            Column("layer", "TEXT", not_null=True), Column("uuid", "TEXT", not_null=True),
            Column("deleted_by", "TEXT"), Column("deleted_at", "DATETIME"),
            Column("package_uuid", "TEXT"), Column("version", "INTEGER")),
            description="Features deleted through Tongcheng change packages"))
        gp.connection.execute(f"CREATE INDEX {DELETED_TABLE}_uuid ON {DELETED_TABLE} (uuid)")
        gp.write_rows(MASTER_TABLE, [
            {"key": "format", "value": MASTER_FORMAT}, {"key": "master_id", "value": master_id},
            {"key": "version", "value": "1"}, {"key": "srid", "value": str(srid)},
            {"key": "created_at", "value": now}, {"key": "created_by", "value": user},
            {"key": "app_version", "value": __version__}, {"key": "codelists", "value": codelists},
        ])
        gp.write_rows(LAYERS_TABLE, [
            {"name": d.name, "position": i, "facility": not d.survey,
             "definition": d.source.read_text("utf-8")}
            for i, d in enumerate(definitions.values())])
        from layers.geopackage.styles import layer_qml, layer_sld

        for definition in facility:
            rows = []
            for attributes, geometry in features.get(definition.name, ()):
                values = validate_feature(definition, attributes, None)
                rows.append({"uuid": new_uuid(), **values, "geom": geometry, "created_by": user,
                             "created_at": now, "modified_by": user, "modified_at": now})
            if rows:
                gp.write_rows(definition.name, rows)
                done += len(rows)
                if progress:
                    progress(done, total)
            gp.add_style(definition.name, definition.name[:30], layer_qml(definition),
                         sld=layer_sld(definition), description=definition.title("zh_CN"),
                         owner="tongcheng")
    return read_master(path)


def recover(path):
    """Roll back what an interrupted apply left in *path* (a hot journal), if anything.

    SQLite does this on the next read-write open; a read-only open cannot, so
    readers call this first.
    """
    path = Path(path)
    if Path(str(path) + "-journal").exists() and path.is_file():
        try:
            con = sqlite3.connect(path)
        except sqlite3.Error as exc:
            raise GeoPackageError(f"{path}: cannot recover an interrupted write: {exc}") from None
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise GeoPackageError(f"{path}: cannot recover an interrupted write: {exc}") from None
        finally:
            con.close()


def _read_master_info(gp):
    path = gp.path
    if not gp.connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (MASTER_TABLE,)).fetchone():
        if gp.connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (PACKAGE_TABLE,)).fetchone():
            raise SyncError(f"{path}: this is a change package, not a Tongcheng master")
        raise SyncError(f"{path}: not a Tongcheng master (no {MASTER_TABLE} table)")
    try:
        meta = dict(gp.connection.execute(f"SELECT key, value FROM {MASTER_TABLE}"))
        texts = {name: (text, bool(facility)) for name, text, facility in gp.connection.execute(
            f"SELECT name, definition, facility FROM {LAYERS_TABLE} ORDER BY position")}
    except sqlite3.Error as exc:
        raise SyncError(f"{path}: damaged Tongcheng master ({exc})") from None
    if meta.get("format") != MASTER_FORMAT:
        raise SyncError(f"{path}: master format {meta.get('format')!r} is not supported "
                        f"(this Tongcheng reads {MASTER_FORMAT})")
    try:
        codelists = parse_codelists(tomllib.loads(meta.get("codelists") or ""), f"{path} code lists")
        definitions = {name: parse_definition(tomllib.loads(text), codelists, f"{path}: layer {name}", name)
                       for name, (text, _) in texts.items()}
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise SyncError(f"{path}: damaged layer definitions ({exc})") from None
    layers = [name for name, (_, facility) in texts.items() if facility]
    present = set(gp.layers())
    for name in layers:
        if name not in present:
            raise SyncError(f"{path}: master layer {name!r} is missing")
    return MasterInfo(path=path, master_id=meta["master_id"], version=int(meta["version"]),
                      srid=int(meta["srid"]), definitions=definitions, layers=layers,
                      codelists=meta.get("codelists") or "",
                      texts={name: text for name, (text, _) in texts.items()})


def read_master(path):
    """Read a master's id, version, CRS and layer definitions.

    Raises
    ------
    GeoPackageError
        The file is missing, not a GeoPackage, truncated.
    SyncError
        It is a GeoPackage but not a Tongcheng master.
    """
    recover(path)
    with open_geopackage(path) as gp:
        return _read_master_info(gp)


def _master_columns(definition):
    return ["fid", "geom", "uuid", *definition.field_names, *AUDIT_COLUMNS]


def _master_rows(con, definition, where="", parameters=()):
    """Raw rows of a master layer as dicts (geometry as WKB under 'geom'), in chunks."""
    names = _master_columns(definition)
    sql = f"SELECT {', '.join(map(_q, names))} FROM {_q(definition.name)}" + (f" WHERE {where}" if where else "")
    cursor = con.execute(sql, parameters)
    while True:
        chunk = cursor.fetchmany(_CHUNK)
        if not chunk:
            return
        for row in chunk:
            d = dict(zip(names, row))
            d["geom"] = _gpb_wkb(d["geom"])
            yield d


def _master_rows_by_uuid(con, definition, uuids):
    out = {}
    uuids = list(uuids)
    for i in range(0, len(uuids), 500):
        part = uuids[i:i + 500]
        for row in _master_rows(con, definition, f"uuid IN ({', '.join('?' * len(part))})", part):
            out[row["uuid"]] = row
    return out


def _bbox_condition(definition, bbox):
    rtree = f"rtree_{definition.name}_geom"
    return (f"fid IN (SELECT id FROM {_q(rtree)} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)",
            (bbox[2], bbox[0], bbox[3], bbox[1]))


# --------------------------------------------------------------------------
# Checkout
# --------------------------------------------------------------------------

def _parse_bbox(bbox):
    if bbox is None:
        return None
    if isinstance(bbox, str):
        try:
            bbox = [float(v) for v in bbox.split(",")]
        except ValueError:
            raise SyncError(f"bbox {bbox!r}: expected minx,miny,maxx,maxy") from None
    bbox = tuple(float(v) for v in bbox)
    if len(bbox) != 4 or not all(math.isfinite(v) for v in bbox) or bbox[0] > bbox[2] or bbox[1] > bbox[3]:
        raise SyncError(f"bbox {bbox!r}: expected minx,miny,maxx,maxy with min <= max")
    return bbox


def _checkout_info(ws):
    master_id = ws.setting(_SETTING["master_id"])
    if not master_id:
        raise SyncError(f"{ws.path}: not checked out from a master (make one with tongcheng checkout)")
    return {
        "master_id": master_id,
        "version": int(ws.setting(_SETTING["version"])),
        "bbox": json.loads(ws.setting(_SETTING["bbox"]) or "null"),
        "layers": json.loads(ws.setting(_SETTING["layers"])),
        "sent": json.loads(ws.setting(_SETTING["sent"]) or "[]"),
    }


def checkout(master, workspace, *, user=None, bbox=None, layers=None, progress=None):
    """Make an offline workspace from the master (all of it, or an area and some layers).

    Parameters
    ----------
    master : path-like
        The master GeoPackage.
    workspace : path-like
        The SpatiaLite workspace to create; it must not exist.
    user : str, optional
        The editor's name for the audit columns (default: login name).
    bbox : (minx, miny, maxx, maxy) or 'minx,miny,maxx,maxy', optional
        Area to take, in the master's CRS; features whose bounding box meets it.
    layers : iterable of str, optional
        Facility layers to take (default: all).  Survey layers (GPS) are
        always in the workspace, empty and local.
    progress : callable(done, total), optional

    Returns
    -------
    dict
        Per layer the number of features checked out.
    """
    from layers.workspace.store import Workspace

    workspace = Path(workspace)
    if workspace.exists():
        raise SyncError(f"{workspace}: already exists")
    bbox = _parse_bbox(bbox)
    recover(master)
    counts = {}
    with open_geopackage(master) as gp:
        info = _read_master_info(gp)
        chosen = list(info.layers) if not layers else list(layers)
        for name in chosen:
            if name not in info.layers:
                raise SyncError(f"{master}: no layer {name!r} (layers: {', '.join(info.layers)})")
        chosen = [n for n in info.layers if n in chosen]
        wanted = chosen + [n for n, d in info.definitions.items() if d.survey]
        conditions = {}
        total = 0
        for name in chosen:
            where, params = _bbox_condition(info.definitions[name], bbox) if bbox else ("", ())
            conditions[name] = (where, params)
            total += gp.connection.execute(f"SELECT count(*) FROM {_q(name)}" + (f" WHERE {where}" if where else ""),
                                           params).fetchone()[0]
        with tempfile.TemporaryDirectory(prefix="tongcheng-defs-") as folder:
            folder = Path(folder)
            (folder / "_codelists.toml").write_text(info.codelists, "utf-8")
            for name in wanted:
                (folder / f"{name}.toml").write_text(info.texts[name], "utf-8")
            ws = Workspace.create(workspace, crs=info.crs, user=user, definitions_folder=folder)
        try:
            with ws:
                done = 0
                box = shapely.box(*bbox) if bbox else None
                with ws.untracked():
                    for name in chosen:
                        definition = info.definitions[name]
                        where, params = conditions[name]
                        rows = _master_rows(gp.connection, definition, where, params)
                        offset = done

                        def features(rows=rows, definition=definition):
                            batch = []
                            for row in rows:
                                batch.append(row)
                                if len(batch) >= _CHUNK:
                                    yield from _checkout_features(definition, batch, box)
                                    batch = []
                            yield from _checkout_features(definition, batch, box)

                        counts[name] = ws.insert_many(
                            name, features(),
                            progress=(lambda n, offset=offset: progress(offset + n, total)) if progress else None)
                        done += counts[name]
                    for key, value in {
                        "master_id": info.master_id, "version": info.version,
                        "bbox": json.dumps(bbox), "layers": json.dumps(chosen),
                        "path": str(Path(master).absolute()), "sent": "[]", "at": _now(),
                    }.items():
                        ws.set_setting(_SETTING[key], value)
        except BaseException:
            for suffix in ("", "-wal", "-shm"):
                Path(str(workspace) + suffix).unlink(missing_ok=True)
            raise
    return counts


def _checkout_features(definition, rows, box):
    geoms = _geometries([r["geom"] for r in rows])
    keep = np.ones(len(rows), dtype=bool)
    if box is not None and rows:
        keep = shapely.intersects(np.array(geoms, dtype=object), box)
    names = definition.field_names
    derived = {f.name for f in definition.fields if f.derived}
    for row, geom, k in zip(rows, geoms, keep):
        if not k:
            continue
        attributes = {n: row[n] for n in names if n not in derived}
        identity = {"uuid": row["uuid"], **{c: row[c] for c in AUDIT_COLUMNS if row[c] is not None}}
        yield attributes, geom, identity


# --------------------------------------------------------------------------
# Change packages
# --------------------------------------------------------------------------

@dataclass
class PackageResult:
    """A change package written by :func:`write_changes`."""

    path: Path | None
    package_uuid: str | None
    workspace_id: str
    master_id: str
    base_version: int
    layers: dict = field(default_factory=dict)

    @property
    def total(self):
        return sum(sum(c.values()) for c in self.layers.values())


def package_schema(definition, srid):
    """The GeoPackage schema of one change-package layer."""
    columns = [Column("uuid", "TEXT", not_null=True, unique=True), Column("op", "TEXT", not_null=True),
               Column("changed_fields", "TEXT"), Column("edited_by", "TEXT"), Column("edited_at", "DATETIME")]
    columns += [Column(f.name, f.sql_type) for f in definition.fields]
    columns += [Column(c, "DATETIME" if c.endswith("_at") else "TEXT") for c in AUDIT_COLUMNS]
    columns.append(Column("base", "TEXT"))
    return LayerSchema(definition.name, tuple(columns), geometry_type=definition.geometry_type,
                       srs_id=srid, identifier=f"{definition.title('zh_CN')} 变更",
                       description=f"{definition.title('en')}: changes")


def _iso_time(value):
    """An audit time as GeoPackage DATETIME text (or None)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) >= 20 and value.endswith("Z"):
        return value
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_changes(workspace, out, *, reset=True):
    """Write the workspace's changes since its base as a change package.

    Parameters
    ----------
    workspace : Workspace
        A checked-out workspace (open).
    out : path-like
        The GeoPackage to write (replaced atomically if it exists).
    reset : bool
        Reset the base once the package is written (the normal "send").

    Returns
    -------
    PackageResult
        With ``path`` None when there was nothing to send (no file written).
    """
    ws = workspace
    info = _checkout_info(ws)
    out = Path(out)
    result = PackageResult(None, None, ws.id, info["master_id"], info["version"])
    user = ws.user
    collected = {}
    for layer in info["layers"]:
        rows = list(_workspace_changes(ws, ws.layer(layer), user))
        collected[layer] = rows
        counts = {"insert": 0, "update": 0, "delete": 0}
        for row in rows:
            counts[row[1]] += 1
        result.layers[layer] = counts
    if result.total == 0:
        return result
    package_uuid = str(uuid_module.uuid4())
    from layers.geopackage.styles import operation_qml

    with open_geopackage(out, "w") as gp:
        gp.add_srs(ws.srid)
        gp.create_layer(_key_value_schema(PACKAGE_TABLE, "Tongcheng change package"))
        meta = {
            "format": PACKAGE_FORMAT, "kind": PACKAGE_KIND, "package_uuid": package_uuid,
            "workspace_id": ws.id, "master_id": info["master_id"], "base_version": str(info["version"]),
            "editor": user, "created_at": _now(), "app_version": __version__,
            "previous_packages": json.dumps(info["sent"]), "layers": json.dumps(info["layers"]),
            "bbox": json.dumps(info["bbox"]), "srid": str(ws.srid),
        }
        gp.write_rows(PACKAGE_TABLE, [{"key": k, "value": v} for k, v in meta.items()])
        for layer, rows in collected.items():
            definition = ws.layer(layer)
            schema = package_schema(definition, ws.srid)
            gp.create_layer(schema)
            names = ["uuid", *_PACKAGE_EXTRA, *definition.field_names, *AUDIT_COLUMNS, "base", "geom"]
            try:
                gp.connection.executemany(
                    f"INSERT INTO {_q(layer)} ({', '.join(map(_q, names))}) "
                    f"VALUES ({', '.join('?' * len(names))})", rows)
            except sqlite3.Error as exc:
                raise GeoPackageError(f"{out}: writing layer {layer!r}: {exc}") from None
            gp.add_style(layer, layer[:30], operation_qml(definition, columns=schema.column_names),
                         description="变更 / changes", owner="tongcheng")
    if reset:
        # The base is reset, so these changes can never be written again: keep a copy of the
        # package beside the workspace until the office's master shows it applied (update).
        kept = sent_folder(ws) / f"{package_uuid}.gpkg"
        kept.parent.mkdir(exist_ok=True)
        shutil.copyfile(out, kept)
        with ws.session():
            ws.reset_base(info["layers"])
            ws.set_setting(_SETTING["sent"], json.dumps([*info["sent"], package_uuid]))
    result.path, result.package_uuid = out, package_uuid
    return result


def sent_folder(workspace):
    """Where a workspace keeps copies of the change packages it sent: ``<workspace>.sent/``.

    If a package is lost on its way to the office, send the copy named by its
    uuid again; ``update`` removes the copies once the master has applied them.
    """
    return workspace.path.with_name(workspace.path.name + ".sent")


def _workspace_changes(ws, definition, user):
    """The net changes of a layer since the base (``Workspace.changes``) as change-package rows."""
    fields = definition.field_names
    changes = list(ws.changes(definition.name))
    shown = [change.base if change.op == "delete" else change.current for change in changes]
    gpbs = _gpb_many([values["geom"] for values in shown], ws.srid)
    for change, values, gpb in zip(changes, shown, gpbs):
        base_json = None
        if change.op == "delete":
            editor, when = user, change.changed_at
        else:
            editor, when = values["modified_by"], values["modified_at"]
        if change.op == "update":
            base = change.base
            base_json = json.dumps(
                {n: (geometry_wkt(shapely.from_wkb(base[n])) if base[n] is not None else None) if n == "geom" else base[n]
                 for n in change.changed_fields},
                ensure_ascii=False,
            )
        changed = change.changed_fields if change.op != "delete" else ()
        yield (change.uuid, change.op, ",".join(changed) or None, editor, _iso_time(when),
               *[values[n] for n in fields], values["created_by"], _iso_time(values["created_at"]),
               values["modified_by"], _iso_time(values["modified_at"]), base_json, gpb)





@dataclass
class PackageInfo:
    """The header of a change package (its ``tongcheng_package`` table)."""

    path: Path
    package_uuid: str
    workspace_id: str
    master_id: str
    base_version: int
    editor: str
    created_at: str
    previous: list
    layers: list
    srid: int


def _read_package_info(gp):
    path = gp.path
    con = gp.connection
    if not con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (PACKAGE_TABLE,)).fetchone():
        if con.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (MASTER_TABLE,)).fetchone():
            raise SyncError(f"{path}: this is a master, not a change package")
        raise SyncError(f"{path}: not a Tongcheng change package (no {PACKAGE_TABLE} table)")
    try:
        meta = dict(con.execute(f"SELECT key, value FROM {PACKAGE_TABLE}"))
        info = PackageInfo(path=path, package_uuid=meta["package_uuid"], workspace_id=meta["workspace_id"],
                           master_id=meta["master_id"], base_version=int(meta["base_version"]),
                           editor=meta.get("editor"), created_at=meta.get("created_at"),
                           previous=json.loads(meta.get("previous_packages") or "[]"),
                           layers=json.loads(meta["layers"]), srid=int(meta["srid"]))
    except (sqlite3.Error, KeyError, ValueError) as exc:
        raise SyncError(f"{path}: damaged change package header ({exc})") from None
    if meta.get("kind") != PACKAGE_KIND or meta.get("format") != PACKAGE_FORMAT:
        raise SyncError(f"{path}: change package format {meta.get('format')!r} is not supported")
    return info


def read_package(path):
    """Read a change package's header (uuid, workspace, master, base version, layers)."""
    with open_geopackage(path) as gp:
        return _read_package_info(gp)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

@dataclass
class LayerCounts:
    """Per-layer counts of an apply or update: what it wrote, and the conflicts."""

    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    conflicts: int = 0

    def to_dict(self):
        return {"inserts": self.inserts, "updates": self.updates, "deletes": self.deletes,
                "conflicts": self.conflicts}


@dataclass
class SyncResult:
    """What :func:`apply_package` and :func:`update_workspace` return (and report).

    Attributes
    ----------
    action : 'apply' or 'update'
    master, other : Path
        The master, and the package (apply) or workspace (update).
    policy : str
    dry_run : bool
    already_applied : bool
        Apply only: the package was in the ledger; nothing was done.
    version_before, version_after : int
        Master version (apply), or workspace base version (update).
    layers : dict of str to LayerCounts
    conflicts : list of dict
        One per conflicting field: ``layer, uuid, field, kind`` (office/field,
        e.g. ``update/delete``: the office changed it, the field deleted it),
        ``base_value, office_value, field_value``, ``office_editor,
        office_time, field_editor, field_time``, ``resolution`` (``office``,
        ``field`` or ``unresolved``) and ``kept`` (the value now in place).
    """

    action: str
    master: Path
    other: Path
    policy: str
    dry_run: bool = False
    package_uuid: str | None = None
    already_applied: bool = False
    version_before: int | None = None
    version_after: int | None = None
    layers: dict = field(default_factory=dict)
    conflicts: list = field(default_factory=list)

    @property
    def unresolved(self):
        return [c for c in self.conflicts if c["resolution"] == "unresolved"]

    @property
    def exit_code(self):
        """0 clean, 2 conflicts (resolved by the policy, or unresolved under manual)."""
        return EXIT_CONFLICTS if self.conflicts else EXIT_CLEAN

    def to_dict(self):
        return {
            "action": self.action, "master": str(self.master),
            ("package" if self.action == "apply" else "workspace"): str(self.other),
            "package_uuid": self.package_uuid, "policy": self.policy, "dry_run": self.dry_run,
            "already_applied": self.already_applied, "version_before": self.version_before,
            "version_after": self.version_after,
            "layers": {k: v.to_dict() for k, v in self.layers.items()},
            "conflicts": self.conflicts, "unresolved": len(self.unresolved),
        }

    def to_json(self):
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def write_report(self, path):
        path = Path(path)
        tmp = temporary_path(path)
        try:
            tmp.write_text(self.to_json() + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise SyncError(f"{path}: cannot write the report: {exc.strerror}") from None


# --------------------------------------------------------------------------
# The merge, shared by apply and update
# --------------------------------------------------------------------------

@dataclass
class _Side:
    """One side's rows of the features concerned: merge rows, audit and whether known."""

    rows: dict = field(default_factory=dict)      # uuid -> {uuid, fields..., geom (shapely)}
    audit: dict = field(default_factory=dict)     # uuid -> (editor, time)


def _merge_layer(definition, base, office, field_side, policy, layer):
    """Three-way merge of the features concerned; returns (merged rows, conflicts as dicts)."""
    mapping = {"office": "theirs", "field": "ours", "manual": "manual"}
    if policy == "newest":
        office_newer = {k for k in set(office.rows) | set(base) | set(field_side.rows)
                        if _newer(office.audit.get(k, (None, None))[1], field_side.audit.get(k, (None, None))[1])}
        groups = [("theirs", office_newer), ("ours", None)]
    else:
        groups = [(mapping[policy], None)]
    merged, conflicts = {}, []
    # Most features changed on one side only: take that side's row as it is.
    done = set()
    for k in set(base) | set(office.rows) | set(field_side.rows):
        b, t, o = base.get(k), office.rows.get(k), field_side.rows.get(k)
        if b is not None and t is not None and t == b:      # untouched at the office
            if o is not None:
                merged[k] = o
        elif b is not None and o is not None and o == b:    # untouched in the field
            if t is not None:
                merged[k] = t
        elif b is None and t is None and o is not None:     # inserted in the field
            merged[k] = o
        elif b is None and o is None and t is not None:     # inserted at the office
            merged[k] = t
        elif b is not None and t is None and o is None:     # deleted on both sides
            pass
        else:
            continue
        done.add(k)
    for tw_policy, keys in groups:
        def pick(rows):
            return {k: v for k, v in rows.items() if k not in done and (keys is None or k in keys)}
        b, t, o = pick(base), pick(office.rows), pick(field_side.rows)
        result = three_way(b, t, o, "uuid", policy=tw_policy, layer=layer)
        merged.update(result.rows)
        for c in result.conflicts:
            resolution = {"theirs": "office", "ours": "field"}.get(c.resolution, c.resolution)
            kept = c.ours if resolution == "field" else c.theirs
            office_editor, office_time = office.audit.get(c.key, (None, None))
            field_editor, field_time = field_side.audit.get(c.key, (None, None))
            conflicts.append({
                "layer": layer, "uuid": c.key, "field": c.field, "kind": c.kind,
                "base_value": _report_value(c.field, c.base), "office_value": _report_value(c.field, c.theirs),
                "field_value": _report_value(c.field, c.ours), "office_editor": office_editor,
                "office_time": office_time, "field_editor": field_editor, "field_time": field_time,
                "resolution": resolution, "kept": _report_value(c.field, kept),
            })
        done |= set(b) | set(t) | set(o)
    return merged, conflicts


def _newer(a, b):
    """True if time *a* is later than *b*; an unknown time is the oldest."""
    if a is None:
        return False
    if b is None:
        return True
    return str(a) > str(b)


def _merge_row(definition, values, geom):
    """A merge row: the non-derived fields and geom."""
    row = definition.editable_values(values)
    row["geom"] = geom
    return row


def _gpb_many(wkbs, srid):
    """GeoPackage binary of many WKB geometries (XY envelope; others through encode_gpb)."""
    geoms = np.empty(len(wkbs), dtype=object)
    geoms[:] = _geometries(wkbs)
    out = [None] * len(wkbs)
    if not len(wkbs):
        return out
    bounds = shapely.bounds(geoms)
    simple = ~(shapely.is_empty(geoms) | shapely.has_z(geoms)) & ~shapely.is_missing(geoms)
    iso = shapely.to_wkb(geoms, flavor="iso", byte_order=1)
    for i, wkb in enumerate(iso):
        if wkb is None:
            continue
        if simple[i]:
            minx, miny, maxx, maxy = bounds[i]
            out[i] = struct.pack("<2sBBi4d", b"GP", 0, 0x03, srid, minx, maxx, miny, maxy) + wkb
        else:
            out[i] = encode_gpb(geoms[i], srid)
    return out


def _complete(definition, row, where):
    """A merged row (non-derived fields, geom) with its derived fields computed."""
    if not definition.derived_fields:
        return dict(row)
    attributes = definition.editable_values(row)
    try:
        values = validate_feature(definition, attributes)
    except ValidationError as exc:
        raise SyncError(f"{where}: {exc}") from None
    return {**row, **{f.name: values[f.name] for f in definition.fields if f.derived}}


def _row_diff(definition, old, new):
    """Fields (and geom, as WKB) whose values differ between two full rows."""
    return {name: new.get(name) for name in (*definition.field_names, "geom")
            if not same_value(old.get(name), new.get(name))}


# --------------------------------------------------------------------------
# Apply (office side)
# --------------------------------------------------------------------------

def _expected_package_columns(definition):
    return ["uuid", *_PACKAGE_EXTRA, *definition.field_names, *AUDIT_COLUMNS, "base"]


def _check_package_layer(pgp, pinfo, minfo, layer):
    if layer not in minfo.layers:
        raise SyncError(f"{pinfo.path}: layer {layer!r} is not in master {minfo.path} "
                        f"(its layers: {', '.join(minfo.layers)})")
    if not pgp.has_layer(layer):
        raise SyncError(f"{pinfo.path}: layer {layer!r} is missing from the package")
    definition = minfo.definitions[layer]
    schema = pgp.schema(layer)
    got = {c.name: c.type.upper() for c in schema.columns}
    want = {c.name: c.type.upper() for c in package_schema(definition, minfo.srid).columns}
    if got != want or schema.geometry_type != definition.geometry_type:
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        typed = sorted(n for n in set(got) & set(want) if got[n] != want[n])
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                ([f"unknown {', '.join(extra)}"] if extra else []) + \
                ([f"other types for {', '.join(typed)}"] if typed else [])
        if schema.geometry_type != definition.geometry_type:
            parts.append(f"geometry {schema.geometry_type} instead of {definition.geometry_type}")
        raise SyncError(f"{pinfo.path}: layer {layer!r} has another schema than master "
                        f"{minfo.path} ({'; '.join(parts)})")
    if schema.srs_id != minfo.srid:
        raise SyncError(f"{pinfo.path}: layer {layer!r} is in EPSG:{schema.srs_id}, the master in "
                        f"EPSG:{minfo.srid}")


def _read_package_layer(pgp, definition):
    """Package rows by uuid, values as stored, ``geom`` and base ``geom`` as canonical WKB."""
    names = ["uuid", *_PACKAGE_EXTRA, *definition.field_names, *AUDIT_COLUMNS, "base", "geom"]
    where = f"{pgp.path}: layer {definition.name!r}"
    try:
        raw = pgp.connection.execute(
            f"SELECT {', '.join(map(_q, names))} FROM {_q(definition.name)}").fetchall()
        geoms = _canonical([_gpb_wkb(r[-1]) for r in raw])
    except (sqlite3.Error, GeoPackageError) as exc:
        raise SyncError(f"{where}: cannot be read ({exc})") from None
    known = {*definition.field_names, "geom"}
    out, base_geoms = {}, {}
    for r, g in zip(raw, geoms):
        d = dict(zip(names, r))
        d["geom"] = g
        uuid = d["uuid"]
        if d["op"] not in ("insert", "update", "delete"):
            raise SyncError(f"{where}, feature {uuid}: unknown operation {d['op']!r}")
        d["changed"] = [n for n in (d["changed_fields"] or "").split(",") if n]
        unknown = set(d["changed"]) - known
        if unknown:
            raise SyncError(f"{where}, feature {uuid}: unknown changed field(s) {', '.join(sorted(unknown))}")
        try:
            base = json.loads(d["base"]) if d["base"] else {}
            if not isinstance(base, dict) or set(base) - known:
                raise ValueError("not an object of field values")
            if base.get("geom") is not None:
                base_geoms[uuid] = shapely.from_wkt(base["geom"])
        except (ValueError, shapely.errors.GEOSException) as exc:
            raise SyncError(f"{where}, feature {uuid}: bad base values ({exc})") from None
        d["base"] = base
        out[uuid] = d
    for uuid, wkb in zip(base_geoms, _canonical(list(base_geoms.values()))):
        out[uuid]["base"]["geom"] = wkb
    return out


def apply_package(master, package, *, policy="office", report=None, dry_run=False, user=None):
    """Apply a change package to the master: per-field three-way merge, one transaction.

    Parameters
    ----------
    master, package : path-like
    policy : {'office', 'field', 'newest', 'manual'}
    report : path-like, optional
        JSON report of counts and every conflict.
    dry_run : bool
        Compute the counts and conflicts; write nothing (but the report).
    user : str, optional
        Who applies (the ledger's ``applied_by``).

    Returns
    -------
    SyncResult
        ``already_applied`` when the ledger has the package (nothing done).

    Raises
    ------
    GeoPackageError
        A file is missing, not a GeoPackage, truncated or corrupt.
    SyncError
        The package is for another master or another schema, or refers to an
        unknown layer, or an earlier package of its workspace was not applied.
        The master is unchanged.
    """
    if policy not in POLICIES:
        raise SyncError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    master, package = Path(master), Path(package)
    result = SyncResult("apply", master, package, policy, dry_run)
    with open_geopackage(package) as pgp:
        pinfo = _read_package_info(pgp)
        result.package_uuid = pinfo.package_uuid
        recover(master)
        with open_geopackage(master, "r" if dry_run else "a") as mgp:
            minfo = _read_master_info(mgp)
            con = mgp.connection
            con.execute("PRAGMA cache_size = -262144")  # 256 MiB: no spill of a big transaction
            result.version_before = result.version_after = minfo.version
            if pinfo.master_id != minfo.master_id:
                raise SyncError(f"{package}: change package is for master {pinfo.master_id}, but "
                                f"{master} is master {minfo.master_id}; nothing was applied")
            if pinfo.base_version > minfo.version:
                raise SyncError(f"{package}: based on version {pinfo.base_version} of the master, "
                                f"but {master} is at version {minfo.version} (an older copy?)")
            ledger = con.execute(f"SELECT version, applied_at FROM {LEDGER_TABLE} WHERE package_uuid = ?",
                                 (pinfo.package_uuid,)).fetchone()
            if ledger:
                result.already_applied = True
                result.version_after = minfo.version
                for layer in pinfo.layers:
                    result.layers[layer] = LayerCounts()
                if report is not None:
                    result.write_report(report)
                return result
            applied = {r[0] for r in con.execute(f"SELECT package_uuid FROM {LEDGER_TABLE}")}
            missing = [p for p in pinfo.previous if p not in applied]
            if missing:
                raise SyncError(f"{package}: workspace {pinfo.workspace_id} sent package(s) "
                                f"{', '.join(missing)} before this one; apply them first")
            for layer in pinfo.layers:
                _check_package_layer(pgp, pinfo, minfo, layer)
            plans = {}
            for layer in pinfo.layers:
                definition = minfo.definitions[layer]
                plans[layer] = _plan_apply(con, pgp, definition, policy, result)
            if dry_run:
                if report is not None:
                    result.write_report(report)
                return result
            version = minfo.version + 1
            now = _now()
            for layer, plan in plans.items():
                _write_master_layer(con, minfo, minfo.definitions[layer], plan, pinfo, version, now)
            con.execute(f"UPDATE {MASTER_TABLE} SET value = ? WHERE key = 'version'", (str(version),))
            totals = LayerCounts()
            for c in result.layers.values():
                totals.inserts += c.inserts
                totals.updates += c.updates
                totals.deletes += c.deletes
                totals.conflicts += c.conflicts
            con.execute(
                f"INSERT INTO {LEDGER_TABLE} (package_uuid, workspace_id, editor, base_version, version, "
                "applied_at, applied_by, policy, inserts, updates, deletes, conflicts, file) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pinfo.package_uuid, pinfo.workspace_id, pinfo.editor, pinfo.base_version, version, now,
                 user or login_name(), policy, totals.inserts, totals.updates, totals.deletes,
                 totals.conflicts, package.name))
            con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name IN (?, ?)",
                        (now, MASTER_TABLE, LEDGER_TABLE))
            result.version_after = version
    if report is not None:
        result.write_report(report)
    return result


@dataclass
class _Plan:
    inserts: list = field(default_factory=list)     # full rows (with audit)
    updates: dict = field(default_factory=dict)     # uuid -> {column: value}
    deletes: list = field(default_factory=list)     # (uuid, editor, time)
    old_geoms: list = field(default_factory=list)   # geometries removed or moved away
    new_geoms: list = field(default_factory=list)


def _plan_apply(con, pgp, definition, policy, result):
    layer = definition.name
    where = f"{pgp.path}: layer {layer!r}"
    package_rows = _read_package_layer(pgp, definition)
    office_full = _master_rows_by_uuid(con, definition, package_rows)
    for r, g in zip(office_full.values(), _canonical([r["geom"] for r in office_full.values()])):
        r["geom"] = g
    office = _Side()
    for k, r in office_full.items():
        office.rows[k] = {"uuid": k, **_merge_row(definition, r, r["geom"])}
        office.audit[k] = (r["modified_by"], r["modified_at"])
    missing = [k for k in package_rows if k not in office_full]
    for i in range(0, len(missing), 500):
        part = missing[i:i + 500]
        for u, by, at in con.execute(
                f"SELECT uuid, deleted_by, deleted_at FROM {DELETED_TABLE} WHERE layer = ? AND uuid IN "
                f"({', '.join('?' * len(part))}) ORDER BY fid", (layer, *part)):
            office.audit[u] = (by, at)
    _validate_package_rows(definition, package_rows, where)
    base, field_side = {}, _Side()
    for k, p in package_rows.items():
        values = _merge_row(definition, p, p["geom"])
        field_side.audit[k] = (p["edited_by"], p["edited_at"])
        if p["op"] != "delete":
            field_side.rows[k] = {"uuid": k, **values}
        if p["op"] == "update":
            base[k] = {**field_side.rows[k], **{n: v for n, v in p["base"].items() if n in values}}
        elif p["op"] == "delete":
            base[k] = {"uuid": k, **values}
    merged, conflicts = _merge_layer(definition, base, office, field_side, policy, layer)
    result.conflicts.extend(conflicts)
    plan = _Plan()
    for k, row in merged.items():
        full = _complete(definition, row, f"{where}, feature {k}")
        if k not in office_full:
            p = package_rows[k]
            audit = {a: p[a] for a in AUDIT_COLUMNS}
            audit["modified_by"], audit["modified_at"] = p["edited_by"], p["edited_at"]
            plan.inserts.append({**full, **audit})
            plan.new_geoms.append(full["geom"])
            continue
        changed = _row_diff(definition, office_full[k], full)
        if changed:
            editor, when = field_side.audit.get(k, (None, None))
            if not _newer(office.audit[k][1], when):
                changed["modified_by"], changed["modified_at"] = editor, when
            plan.updates[k] = changed
            if "geom" in changed:
                plan.old_geoms.append(office_full[k]["geom"])
                plan.new_geoms.append(changed["geom"])
    for k in office_full:
        if k not in merged:
            editor, when = field_side.audit.get(k, (None, None))
            plan.deletes.append((k, editor, when))
            plan.old_geoms.append(office_full[k]["geom"])
    result.layers[layer] = LayerCounts(len(plan.inserts), len(plan.updates), len(plan.deletes), len(conflicts))
    return plan


def _validate_package_rows(definition, rows, where):
    """Check the field's values against the layer definition, in place (stored form).

    Inserted features are checked whole; updated ones in the fields they
    changed (the others are their base values).  New geometries are checked
    together.
    """
    derived = {f.name for f in definition.fields if f.derived}
    geometries = []
    for k, p in rows.items():
        if p["op"] == "delete":
            continue
        if p["op"] == "insert":
            attributes = {f.name: p[f.name] for f in definition.fields if f.name not in derived}
        else:
            attributes = {n: p[n] for n in p["changed"] if n != "geom" and n not in derived}
        try:
            p.update(validate_feature(definition, attributes, partial=p["op"] == "update"))
        except ValidationError as exc:
            raise SyncError(f"{where}, feature {k}: {exc}") from None
        if p["op"] == "insert" or "geom" in p["changed"]:
            if p["geom"] is None:
                raise SyncError(f"{where}, feature {k}: no geometry")
            geometries.append(k)
    shapes = _geometries([rows[k]["geom"] for k in geometries])
    try:
        validate_geometries(definition, shapes)
    except ValidationError:
        for k, g in zip(geometries, shapes):
            try:
                validate_geometry(definition, g)
            except ValidationError as exc:
                raise SyncError(f"{where}, feature {k}: {exc}") from None
        raise


def _write_master_layer(con, minfo, definition, plan, pinfo, version, now):
    layer = definition.name
    srid = minfo.srid
    t = _q(layer)
    if plan.deletes:
        con.executemany(f"DELETE FROM {t} WHERE uuid = ?", [(k,) for k, _, _ in plan.deletes])
        con.executemany(
            f"INSERT INTO {DELETED_TABLE} (layer, uuid, deleted_by, deleted_at, package_uuid, version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(layer, k, by, at or now, pinfo.package_uuid, version) for k, by, at in plan.deletes])
    wkbs = [c["geom"] for c in plan.updates.values() if "geom" in c] + [r["geom"] for r in plan.inserts]
    blobs = dict(zip(map(id, wkbs), _gpb_many(wkbs, srid)))
    groups = {}
    for k, changed in plan.updates.items():
        groups.setdefault(tuple(changed), []).append((k, changed))
    for cols, items in groups.items():
        sql = f"UPDATE {t} SET {', '.join(f'{_q(c)} = ?' for c in cols)} WHERE uuid = ?"
        con.executemany(sql, [[blobs[id(changed[c])] if c == "geom" else changed[c] for c in cols] + [k]
                              for k, changed in items])
    if plan.inserts:
        names = ["uuid", *definition.field_names, *AUDIT_COLUMNS, "geom"]
        sql = f"INSERT INTO {t} ({', '.join(map(_q, names))}) VALUES ({', '.join('?' * len(names))})"
        con.executemany(sql, [[blobs[id(r["geom"])] if n == "geom" else r.get(n) for n in names]
                              for r in plan.inserts])
    if plan.inserts or plan.updates or plan.deletes:
        _refresh_extent(con, definition, plan)
        con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, layer))


def _refresh_extent(con, definition, plan):
    """Keep gpkg_contents' extent exact: widen by new geometries; rescan if one on the edge went."""
    layer = definition.name
    row = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?",
                      (layer,)).fetchone()
    extent = None if row is None or row[0] is None else tuple(row)
    rescan = extent is None and bool(plan.old_geoms)
    if extent is not None and plan.old_geoms:
        old = _bounds(_geometries(plan.old_geoms))
        if old is not None and (old[0] <= extent[0] or old[1] <= extent[1] or old[2] >= extent[2]
                                or old[3] >= extent[3]):
            rescan = True
    if rescan:
        cursor = con.execute(f"SELECT geom FROM {_q(layer)} WHERE geom IS NOT NULL")
        parts = []
        while True:
            chunk = cursor.fetchmany(100_000)
            if not chunk:
                break
            b = _bounds(_geometries([_gpb_wkb(r[0]) for r in chunk]))
            if b is not None:
                parts.append(b)
        extent = (min(p[0] for p in parts), min(p[1] for p in parts), max(p[2] for p in parts),
                  max(p[3] for p in parts)) if parts else None
    else:
        new = _bounds(_geometries(plan.new_geoms))
        if new is not None:
            extent = new if extent is None else (min(extent[0], new[0]), min(extent[1], new[1]),
                                                 max(extent[2], new[2]), max(extent[3], new[3]))
    values = extent if extent is not None else (None, None, None, None)
    con.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
                (*values, layer))


# --------------------------------------------------------------------------
# Update (field side): rebase the workspace onto a newer master
# --------------------------------------------------------------------------

def _workspace_rows(ws, definition, where="", parameters=()):
    names = ["fid", "uuid", *definition.field_names, *AUDIT_COLUMNS]
    sql = (f"SELECT {', '.join(names)}, AsBinary(geom) FROM {definition.name}"
           + (f" WHERE {where}" if where else ""))
    out = {}
    for row in ws.connection.execute(sql, parameters):
        d = dict(zip(names, row[:-1]))
        d["geom"] = row[-1]
        out[d["uuid"]] = d
    return out


def _same_raw(definition, a, b):
    """Same field values and geometry (canonical WKB)."""
    return all(same_value(a.get(n), b.get(n)) for n in definition.field_names) and a.get("geom") == b.get("geom")


def update_workspace(workspace, master, *, policy="office", report=None, dry_run=False):
    """Bring a newer master into a checked-out workspace, keeping the edits not yet sent.

    The rebase: base = the workspace's base, office = the new master, field =
    the workspace now.  Afterwards the base is the new master and the kept
    edits are tracked changes against it, ready for the next change package.

    Parameters
    ----------
    workspace : Workspace
        A checked-out workspace (open).
    master : path-like
        The newer master (same master id).
    policy, report, dry_run : as :func:`apply_package`.

    Returns
    -------
    SyncResult
        Counts are what changed in the workspace, per layer.
    """
    if policy not in POLICIES:
        raise SyncError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    ws = workspace
    master = Path(master)
    info = _checkout_info(ws)
    result = SyncResult("update", master, ws.path, policy, dry_run)
    result.version_before = result.version_after = info["version"]
    recover(master)
    with open_geopackage(master) as mgp:
        minfo = _read_master_info(mgp)
        if minfo.master_id != info["master_id"]:
            raise SyncError(f"{master}: master {minfo.master_id} is not the master {info['master_id']} "
                            f"that {ws.path} was checked out from; nothing was changed")
        if minfo.version < info["version"]:
            raise SyncError(f"{master}: version {minfo.version} is older than the workspace's base "
                            f"(version {info['version']}); nothing was changed")
        applied = {r[0] for r in mgp.connection.execute(f"SELECT package_uuid FROM {LEDGER_TABLE}")}
        unapplied = [p for p in info["sent"] if p not in applied]
        if unapplied:
            raise SyncError(f"{master}: the office has not applied the change package(s) "
                            f"{', '.join(unapplied)} sent from {ws.path}; apply them first, "
                            "then update (nothing was changed)")
        for layer in info["layers"]:
            if layer not in minfo.layers:
                raise SyncError(f"{master}: has no layer {layer!r}, which {ws.path} has")
            definition = ws.layer(layer)
            theirs_def = minfo.definitions[layer]
            if [(f.name, f.type) for f in definition.fields] != [(f.name, f.type) for f in theirs_def.fields]:
                raise SyncError(f"{master}: layer {layer!r} has other fields than in {ws.path}")
        bbox = info["bbox"]
        plans = {}
        for layer in info["layers"]:
            plans[layer] = _plan_update(ws, mgp.connection, ws.layer(layer), bbox, policy, result)
    if dry_run:
        if report is not None:
            result.write_report(report)
        return result
    with ws.session():
        ws.reset_base(info["layers"])
        with ws.untracked():
            for layer, (to_office, _) in plans.items():
                _write_workspace(ws, ws.layer(layer), to_office)
        for layer, (_, to_merged) in plans.items():
            _write_workspace(ws, ws.layer(layer), to_merged)
        ws.set_setting(_SETTING["version"], minfo.version)
        ws.set_setting(_SETTING["sent"], "[]")
    for package_uuid in info["sent"]:  # the master has them now (checked above)
        (sent_folder(ws) / f"{package_uuid}.gpkg").unlink(missing_ok=True)
    result.version_after = minfo.version
    if report is not None:
        result.write_report(report)
    return result


def _plan_update(ws, mcon, definition, bbox, policy, result):
    layer = definition.name
    local = {c.uuid: c for c in ws.changes(layer)}
    current = _workspace_rows(ws, definition)
    base_raw = {k: v for k, v in current.items() if k not in local}
    for k, c in local.items():
        if c.op != "insert":
            base_raw[k] = dict(c.base)
    where, params = _bbox_condition(definition, bbox) if bbox else ("", ())
    office_raw = {r["uuid"]: r for r in _master_rows(mcon, definition, where, params)}
    if bbox:
        box = shapely.box(*bbox)
        geoms = _geometries([r["geom"] for r in office_raw.values()])
        office_raw = {k: r for (k, r), g in zip(office_raw.items(), geoms)
                      if g is not None and g.intersects(box)}
        extra = [k for k in set(base_raw) | set(current) if k not in office_raw]
        office_raw.update(_master_rows_by_uuid(mcon, definition, extra))
    for rows in (current, base_raw, office_raw):
        for r, g in zip(rows.values(), _canonical([r["geom"] for r in rows.values()])):
            r["geom"] = g
    concerned = set(local)
    for k, r in office_raw.items():
        b = base_raw.get(k)
        if b is None or not _same_raw(definition, b, r):
            concerned.add(k)
    concerned |= {k for k in base_raw if k not in office_raw}

    def to_merge(raw):
        return {k: {"uuid": k, **_merge_row(definition, raw[k], raw[k]["geom"])} for k in concerned if k in raw}

    office = _Side(to_merge(office_raw),
                   {k: (office_raw[k]["modified_by"], office_raw[k]["modified_at"])
                    for k in concerned if k in office_raw})
    field_side = _Side(to_merge(current), {})
    for k in concerned:
        if k in current:
            field_side.audit[k] = (current[k]["modified_by"], current[k]["modified_at"])
        elif k in local:
            field_side.audit[k] = (ws.user, local[k].changed_at)
    merged, conflicts = _merge_layer(definition, to_merge(base_raw), office, field_side, policy, layer)
    result.conflicts.extend(conflicts)
    # Step 1 (untracked): the workspace takes the office's rows; step 2 (tracked): the merged ones.
    to_office, to_merged = {}, {}
    counts = LayerCounts(conflicts=len(conflicts))
    for k in concerned:
        cur, off, m = current.get(k), office_raw.get(k), merged.get(k)
        if off is None:
            if cur is not None:
                to_office[k] = None
        elif cur is None or not _same_raw(definition, cur, off) or any(cur[a] != off[a] for a in AUDIT_COLUMNS):
            to_office[k] = {**off, "fid": cur["fid"] if cur else None}
        if m is None:
            if off is not None:
                to_merged[k] = None
        else:
            full = _complete(definition, m, f"{ws.path}: layer {layer!r}, feature {k}")
            if off is None or _row_diff(definition, off, full):
                source = cur or off or {}
                to_merged[k] = {**full, **{a: source.get(a) for a in AUDIT_COLUMNS},
                                "fid": cur["fid"] if cur else None}
        final = to_merged[k] if k in to_merged else to_office[k] if k in to_office else cur
        if cur is None and final is not None:
            counts.inserts += 1
        elif cur is not None and final is None:
            counts.deletes += 1
        elif cur is not None and _row_diff(definition, cur, final):
            counts.updates += 1
    result.layers[layer] = counts
    return to_office, to_merged


def _write_workspace(ws, definition, rows):
    """Make the workspace's rows of *rows*' uuids equal to them (None: delete)."""
    layer = definition.name
    con = ws.connection
    names = ["uuid", *definition.field_names, *AUDIT_COLUMNS]
    for k, row in rows.items():
        exists = con.execute(f"SELECT fid FROM {layer} WHERE uuid = ?", (k,)).fetchone()
        if row is None:
            if exists:
                con.execute(f"DELETE FROM {layer} WHERE uuid = ?", (k,))
            continue
        geom = row["geom"]
        blob = geometry_blob(shapely.from_wkb(geom), ws.srid) if geom is not None else None
        if exists:
            sets = ", ".join(f"{n} = ?" for n in names[1:])
            con.execute(f"UPDATE {layer} SET {sets}, geom = ? WHERE uuid = ?",
                        [row.get(n) for n in names[1:]] + [blob, k])
        else:
            cols = names + ["geom"] + (["fid"] if row.get("fid") is not None else [])
            values = [row.get(n) for n in names] + [blob] + ([row["fid"]] if row.get("fid") is not None else [])
            con.execute(f"INSERT INTO {layer} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)
